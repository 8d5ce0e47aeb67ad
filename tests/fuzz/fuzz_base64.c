/* fuzz_base64: systemd's unbase64mem() model (guest-agent/systemd/base64.h) over any bytes
 * a .binary: credential (SMBIOS, fw_cfg, the command line) can carry.
 *
 * Proves: decoding never reads past the input (exact-size buffer) and never writes more
 * than len / 4 * 3 bytes; what decodes, re-encoded with the standard alphabet (this
 * target's own encoder), decodes back to the same bytes, with and without the URL-safe
 * alphabet; the URL-safe alphabet only ever adds inputs (whatever the strict decoder
 * accepts, the URL-safe one accepts with the same bytes); a failure returns the errno it
 * records, names a known rule and a byte offset inside the input, and can be explained
 * (base64_explain()) for every modelled systemd; systemd_unbase64() agrees with
 * base64_decode() for each version's alphabet. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "systemd/base64.h"
#include "systemd/versions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *encode(const uint8_t *p, size_t n, size_t *out_len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = malloc((n + 2) / 3 * 4 + 1), *w = o;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		*w++ = tab[v >> 18 & 63];
		*w++ = tab[v >> 12 & 63];
		*w++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*w++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*w = 0;
	*out_len = (size_t) (w - o);
	return o;
}

static void check_failure(int r, const struct b64_result *res, size_t len)
{
	if (r == -ENOMEM)
		return;
	if (r != res->r || (r != -EINVAL && r != -EPIPE && r != -ENAMETOOLONG) || res->problem == B64_OK ||
	    res->problem > B64_TRAILING || res->pos >= len || res->symbols > len)
		abort();
	static const unsigned versions[] = { 0, 250, 254, 255, 257 };
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char *why = base64_explain(res, versions[i]);
		if (!why)
			abort();
		free(why);
	}
}

static void round_trip(const uint8_t *out, size_t out_len, bool url_safe)
{
	struct b64_result res;
	size_t elen, back_len;
	uint8_t *back;
	char *enc = encode(out, out_len, &elen);

	if (!enc)
		return;
	if (base64_decode(enc, elen, url_safe, &back, &back_len, &res) != 0 || back_len != out_len ||
	    memcmp(back, out, out_len))
		abort();
	free(back);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	uint8_t *out[2] = { NULL, NULL };
	size_t out_len[2] = { 0, 0 };
	struct b64_result res[2];
	int r[2];

	if (!in)
		return 0;
	memcpy(in, data, size);
	for (int u = 0; u < 2; u++) {
		r[u] = base64_decode(in, size, u, &out[u], &out_len[u], &res[u]);
		if (r[u] < 0)
			check_failure(r[u], &res[u], size);
		else {
			if (out_len[u] > size / 4 * 3)
				abort();
			round_trip(out[u], out_len[u], u);
			round_trip(out[u], out_len[u], !u);
		}
	}
	if (r[0] == 0 && (r[1] != 0 || out_len[0] != out_len[1] || memcmp(out[0], out[1], out_len[0])))
		abort();
	for (unsigned v = 250; v <= 260; v += 5) {
		uint8_t *o = NULL;
		size_t ol = 0;
		int u = systemd_release(v)->base64_url_safe ? 1 : 0;
		int rv = systemd_unbase64(in, size, v, &o, &ol);
		if (rv != r[u] || (rv == 0 && (ol != out_len[u] || memcmp(o, out[u], ol))))
			abort();
		free(o);
	}
	free(out[0]);
	free(out[1]);
	free(in);
	return 0;
}
