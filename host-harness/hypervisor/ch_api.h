/* ch_api: cloud-hypervisor's REST API, spoken with libcurl over the API Unix socket
 * (CURLOPT_UNIX_SOCKET_PATH), never a hand-written HTTP client.
 *
 * Promises: a request body may hold secrets (vm.create carries the OEM strings), so it
 * is never copied by curl (CURLOPT_POSTFIELDS, no "Expect: 100-continue"), never
 * logged, never part of an error message; curl's verbose mode is never switched on.
 * Errors name the endpoint and the HTTP status, nothing of the body. */
#pragma once
#include <stddef.h>

#define CH_API_PREFIX "http://localhost/api/v1/"

struct ch_api_reply {
	long status;    /* HTTP status, 0 when no answer arrived */
	char *body;     /* NUL-terminated response body (may be empty), malloc'd */
	size_t body_len;
};

/* One request to ENDPOINT (e.g. "vm.create") over the API socket at SOCKET_PATH.
 * METHOD is "GET" or "PUT"; BODY (JSON, may be NULL) is sent with Content-Type
 * application/json. TIMEOUT_MS bounds the whole exchange. Returns 0 when an HTTP answer
 * arrived (whatever its status: the caller judges it), -ETIMEDOUT, -ECONNREFUSED/-ENOENT
 * when nobody listens, -EIO otherwise. *reply must be freed with ch_api_reply_free(). */
int ch_api_request(const char *socket_path, const char *method, const char *endpoint,
		   const char *body, long timeout_ms, struct ch_api_reply *reply);

/* PUT ENDPOINT expecting 2xx. On another status returns -EPROTO and, if ERROR is not
 * NULL, a malloc'd message naming the endpoint, the status and CH's answer. CH's answer
 * is its error text, which could echo part of the request (serde messages quote
 * values): an answer mentioning a credential prefix is replaced by "(answer withheld: it
 * quotes the configuration)", and any answer is cut at 300 bytes. */
int ch_api_put(const char *socket_path, const char *endpoint, const char *body,
	       long timeout_ms, char **error);

void ch_api_reply_free(struct ch_api_reply *reply);
