/* case_manifest: the one place that decides what goes into a case's manifest. */
#include "runner/case_manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "secret.h"
#include "runner/expect_disk.h"
#include "manifest.h"

/* manifest_parse() refuses a shorter key, so the agent could not read such a manifest */
#define KEY_MIN_BYTES 16u

static bool key_ok(const uint8_t *key, size_t key_len)
{
	return !key || key_len >= KEY_MIN_BYTES;
}

static int via_rank(enum cred_via v)
{
	return v == VIA_FW_CFG ? 0 : v == VIA_CMDLINE ? 2 : 1;   /* systemd's import order */
}

int case_manifest_record(struct sent_cred **sent, size_t *n_sent, const uint8_t *key, size_t key_len,
			 const struct case_cred *c, const uint8_t *v, size_t len)
{
	struct sent_cred s = { .name = c->name, .via = c->via, .len = len }, *grown;
	int r;

	if (!key_ok(key, key_len))
		return -EINVAL;
	r = key ? digest_hmac_sha256_hex(key, key_len, v, len, s.hmac) : digest_sha256_hex(v, len, s.hmac);
	if (r < 0)
		return -EIO;
	for (size_t i = 0; i < *n_sent; i++)
		if (strcmp((*sent)[i].name, c->name) == 0) {
			if (via_rank(c->via) < via_rank((*sent)[i].via))
				(*sent)[i] = s;
			return 0;
		}
	grown = realloc(*sent, (*n_sent + 1) * sizeof *grown);
	if (!grown)
		return -ENOMEM;
	*sent = grown;
	(*sent)[(*n_sent)++] = s;
	return 0;
}

/* S is what was sent under NAME, or NULL; a digest only where the agent compares one. */
static struct manifest_entry entry_for(const char *name, enum case_expect k, const struct sent_cred *s, bool keyed)
{
	struct manifest_entry e = { .name = (char *)name, .digest = DIGEST_NONE };

	switch (k) {
	case CEXPECT_EXACT: e.expect = s ? EXPECT_MATCH : EXPECT_PRESENT; break;
	case CEXPECT_ABSENT: e.expect = EXPECT_ABSENT; return e;
	case CEXPECT_PRESENT: e.expect = EXPECT_PRESENT; return e;
	case CEXPECT_DIFFERENT: e.expect = s ? EXPECT_DIFFERENT : EXPECT_PRESENT; break;
	}
	if (s) {
		e.digest = keyed ? DIGEST_HMAC_SHA256 : DIGEST_SHA256;
		memcpy(e.hex, s->hmac, sizeof e.hex);
	}
	return e;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct manifest_entry *)a)->name, ((const struct manifest_entry *)b)->name);
}

int case_manifest_json(const struct case_view *view, bool strict, const struct sent_cred *sent, size_t n_sent,
		       const uint8_t *key, size_t key_len, char **json)
{
	struct manifest m = { .key = (uint8_t *)key, .key_len = key ? key_len : 0, .strict = strict };

	*json = NULL;
	if (!key_ok(key, key_len))
		return -EINVAL;
	m.entries = calloc(n_sent + view->n_expect + 1, sizeof *m.entries);
	if (!m.entries)
		return -ENOMEM;
	/* a differential case expects nothing: the agent's self-check and the host's
	 * differential count (runner/differential.c) judge the boot, with the key for HMACs */
	for (size_t i = 0; !(view->tc && view->tc->differential) && i < n_sent; i++)
		m.entries[m.n_entries++] = entry_for(sent[i].name, case_view_expect(view, sent[i].name, NULL), &sent[i],
						     key != NULL);
	for (size_t i = 0; i < view->n_expect; i++) {
		bool was_sent = false;
		for (size_t k = 0; k < n_sent; k++)
			was_sent = was_sent || strcmp(sent[k].name, view->expect[i].name) == 0;
		if (!was_sent)
			m.entries[m.n_entries++] = entry_for(view->expect[i].name, view->expect[i].kind, NULL, key != NULL);
	}
	qsort(m.entries, m.n_entries, sizeof *m.entries, cmp_entry);
	*json = manifest_to_json(&m);
	free(m.entries);
	return *json ? 0 : -ENOMEM;
}

int case_manifest_text(const struct case_view *view, bool strict, const struct sent_cred *sent, size_t n_sent,
		       const uint8_t *key, size_t key_len, char **json, char sha256_hex[DIGEST_HEX_LEN + 1], char **error)
{
	int r = case_manifest_json(view, strict, sent, n_sent, key, key_len, json);

	*error = NULL;
	if (r == -EINVAL && asprintf(error, "the HMAC key is %zu bytes; the agent accepts a manifest key of at least %u",
				     key_len, KEY_MIN_BYTES) < 0)
		*error = NULL;
	if (r < 0)
		return r;
	if (sha256_hex)
		digest_sha256_hex(*json, strlen(*json), sha256_hex);
	return 0;
}

int case_manifest_write(const struct case_view *view, bool strict, const struct sent_cred *sent, size_t n_sent,
			const uint8_t *key, size_t key_len, const char *dir, char **image,
			char sha256_hex[DIGEST_HEX_LEN + 1], char **error)
{
	char *json;
	int r = case_manifest_text(view, strict, sent, n_sent, key, key_len, &json, sha256_hex, error);

	*image = NULL;
	if (r < 0)
		return r;
	r = expect_disk_create(dir, json, image, error);
	secret_free(json, strlen(json));   /* it holds the run's HMAC key */
	if (r < 0 && !*error)
		*error = strdup("cannot build the expectations disk");
	return r;
}
