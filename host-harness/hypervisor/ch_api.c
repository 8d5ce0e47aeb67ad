/* ch_api: HTTP over cloud-hypervisor's API Unix socket, through libcurl. */
#include "hypervisor/ch_api.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define CH_API_ANSWER_MAX (1024u * 1024u)  /* CH's answers are small; vm.info is the largest */
#define CH_API_ERROR_SHOWN 300

static size_t collect_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct ch_api_reply *reply = userdata;
	size_t n = size * nmemb;

	if (n > CH_API_ANSWER_MAX - reply->body_len)
		return 0;  /* makes curl fail with CURLE_WRITE_ERROR */
	char *grown = realloc(reply->body, reply->body_len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + reply->body_len, data, n);
	reply->body = grown;
	reply->body_len += n;
	reply->body[reply->body_len] = '\0';
	return n;
}

static int curl_code_to_errno(CURLcode code)
{
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static int setup_handle(CURL *curl, const char *socket_path, const char *method,
			const char *url, const char *body, long timeout_ms,
			struct curl_slist *headers, struct ch_api_reply *reply)
{
	int bad = 0;

	bad |= curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_VERBOSE, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
	if (strcmp(method, "GET") != 0) {
		/* POSTFIELDS points at the caller's buffer: curl keeps no copy of a secret */
		bad |= curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "") != CURLE_OK;
		bad |= curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
					(curl_off_t)(body ? strlen(body) : 0)) != CURLE_OK;
	}
	return bad ? -EIO : 0;
}

int ch_api_request(const char *socket_path, const char *method, const char *endpoint,
		   const char *body, long timeout_ms, struct ch_api_reply *reply)
{
	char url[256];
	struct curl_slist *headers = NULL, *h;
	CURL *curl;
	int r;

	*reply = (struct ch_api_reply){ 0 };
	if (snprintf(url, sizeof url, CH_API_PREFIX "%s", endpoint) >= (int)sizeof url)
		return -ENAMETOOLONG;
	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;
	/* "Expect:" suppresses 100-continue, which CH's small HTTP server does not need */
	h = curl_slist_append(NULL, "Expect:");
	headers = h ? curl_slist_append(h, "Accept: application/json") : NULL;
	headers = headers && body ? curl_slist_append(headers, "Content-Type: application/json") : headers;
	if (!headers) {
		curl_slist_free_all(h);
		curl_easy_cleanup(curl);
		return -ENOMEM;
	}
	r = setup_handle(curl, socket_path, method, url, body, timeout_ms, headers, reply);
	if (r == 0) {
		CURLcode code = curl_easy_perform(curl);
		if (code == CURLE_OK)
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
		else
			r = curl_code_to_errno(code);
	}
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	if (r == 0 && !reply->body) {
		reply->body = strdup("");
		if (!reply->body)
			r = -ENOMEM;
	}
	if (r < 0)
		ch_api_reply_free(reply);
	return r;
}

static char *describe_failure(const char *endpoint, const struct ch_api_reply *reply)
{
	char *msg = NULL;
	const char *answer = reply->body;
	int shown;

	if (!answer || strstr(answer, "io.systemd.credential"))
		answer = "(answer withheld: it quotes the configuration)";
	shown = (int)(strlen(answer) < CH_API_ERROR_SHOWN ? strlen(answer) : CH_API_ERROR_SHOWN);
	if (asprintf(&msg, "cloud-hypervisor refused PUT %s with HTTP %ld: %.*s",
		     endpoint, reply->status, shown, answer) < 0)
		return NULL;
	return msg;
}

int ch_api_put(const char *socket_path, const char *endpoint, const char *body,
	       long timeout_ms, char **error)
{
	struct ch_api_reply reply;
	int r;

	if (error)
		*error = NULL;
	r = ch_api_request(socket_path, "PUT", endpoint, body, timeout_ms, &reply);
	if (r < 0) {
		if (error && asprintf(error, "PUT %s on cloud-hypervisor's API socket %s failed: %s",
				      endpoint, socket_path, strerror(-r)) < 0)
			*error = NULL;
		return r;
	}
	if (reply.status < 200 || reply.status > 299) {
		if (error)
			*error = describe_failure(endpoint, &reply);
		r = -EPROTO;
	}
	ch_api_reply_free(&reply);
	return r;
}

void ch_api_reply_free(struct ch_api_reply *reply)
{
	if (!reply)
		return;
	if (reply->body)
		secret_clear(reply->body, reply->body_len);
	free(reply->body);
	*reply = (struct ch_api_reply){ 0 };
}
