/* manifest: strict JSON expectations parser and writer (jansson). */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonutil.h"

static const struct json_doc manifest_doc = { "manifest", MANIFEST_MAX_SIZE, JSON_DOC_FILE };

const char *expect_kind_name(enum expect_kind k)
{
	switch (k) {
	case EXPECT_MATCH: return "match";
	case EXPECT_PRESENT: return "present";
	case EXPECT_ABSENT: return "absent";
	case EXPECT_DIFFERENT: return "different";
	}
	return "?";
}

static bool is_hex_digest(const char *s)
{
	if (strlen(s) != DIGEST_HEX_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
			return false;
	return true;
}

/* Reads an optional boolean member; -EINVAL names the field. */
static int get_bool(json_t *obj, const char *key, const char *path, bool *out, char **error)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return json_doc_fail(error, "%s%s: expected true or false", path, key);
	*out = json_is_true(v);
	return 0;
}

static int parse_entry(const char *name, json_t *v, bool have_key, struct manifest_entry *e, char **error)
{
	const char *field;
	json_t *member;
	bool absent = false, present = false, different = false;
	if (!json_is_object(v))
		return json_doc_fail(error, "credentials.%s: expected an object", name);
	json_object_foreach(v, field, member) {
		if (strcmp(field, "sha256") && strcmp(field, "hmac-sha256") && strcmp(field, "absent") &&
		    strcmp(field, "present") && strcmp(field, "different"))
			return json_doc_fail(error,
					     "credentials.%s.%s: unknown field (known: sha256, hmac-sha256, absent, present, different)",
					     name, field);
	}
	char path[300];
	snprintf(path, sizeof path, "credentials.%.255s.", name);
	if (get_bool(v, "absent", path, &absent, error) || get_bool(v, "present", path, &present, error) ||
	    get_bool(v, "different", path, &different, error))
		return -EINVAL;
	json_t *sha = json_object_get(v, "sha256"), *hmac = json_object_get(v, "hmac-sha256");
	if (sha && hmac)
		return json_doc_fail(error, "credentials.%s: give either sha256 or hmac-sha256, not both", name);
	json_t *d = sha ? sha : hmac;
	if (d) {
		const char *which = sha ? "sha256" : "hmac-sha256";
		if (!json_is_string(d) || !is_hex_digest(json_string_value(d)))
			return json_doc_fail(error, "credentials.%s.%s: expected %d hex characters", name, which, DIGEST_HEX_LEN);
		if (hmac && !have_key)
			return json_doc_fail(error, "credentials.%s.hmac-sha256: the manifest has no \"key\"", name);
		e->digest = sha ? DIGEST_SHA256 : DIGEST_HMAC_SHA256;
		for (int i = 0; i <= DIGEST_HEX_LEN; i++)
			e->hex[i] = (char)((json_string_value(d)[i] >= 'A' && json_string_value(d)[i] <= 'F')
					   ? json_string_value(d)[i] + 32 : json_string_value(d)[i]);
	}
	if (absent + present + different > 1)
		return json_doc_fail(error, "credentials.%s: absent, present and different exclude each other", name);
	if (absent && d)
		return json_doc_fail(error, "credentials.%s.absent: an absent credential cannot have a digest", name);
	if (present && d)
		return json_doc_fail(error, "credentials.%s.present: use a digest or present, not both", name);
	if (different && !d)
		return json_doc_fail(error, "credentials.%s.different: needs sha256 or hmac-sha256 to differ from", name);
	if (!absent && !present && !d)
		return json_doc_fail(error, "credentials.%s: needs sha256, hmac-sha256, absent or present", name);
	e->expect = absent ? EXPECT_ABSENT : present ? EXPECT_PRESENT : different ? EXPECT_DIFFERENT : EXPECT_MATCH;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct manifest_entry *)a)->name, ((const struct manifest_entry *)b)->name);
}

static int parse_root(json_t *root, struct manifest *m, char **error)
{
	const char *key;
	json_t *v;
	if (!json_is_object(root))
		return json_doc_fail(error, "manifest: the top level must be a JSON object");
	json_object_foreach(root, key, v) {
		if (strcmp(key, "credscope") && strcmp(key, "key") && strcmp(key, "strict") && strcmp(key, "credentials"))
			return json_doc_fail(error, "%s: unknown field (known: credscope, key, strict, credentials)", key);
	}
	v = json_object_get(root, "credscope");
	if (!v)
		return json_doc_fail(error, "credscope: missing (must be 1)");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return json_doc_fail(error, "credscope: unsupported manifest version (must be 1)");
	if ((v = json_object_get(root, "key"))) {
		if (!json_is_string(v))
			return json_doc_fail(error, "key: expected a hex string");
		int r = hex_decode(json_string_value(v), &m->key, &m->key_len);
		if (r == -ENOMEM)
			return r;
		if (r < 0 || m->key_len < 16)
			return json_doc_fail(error, "key: expected an even number of hex characters, at least 32");
	}
	if (get_bool(root, "strict", "", &m->strict, error))
		return -EINVAL;
	json_t *creds = json_object_get(root, "credentials");
	if (!creds)
		return json_doc_fail(error, "credentials: missing");
	if (!json_is_object(creds))
		return json_doc_fail(error, "credentials: expected an object mapping names to expectations");
	m->entries = calloc(json_object_size(creds) + 1, sizeof *m->entries);
	if (!m->entries)
		return -ENOMEM;
	json_object_foreach(creds, key, v) {
		if (key[0] == '\0' || strlen(key) > 4096)
			return json_doc_fail(error, "credentials: a name is empty or longer than 4096 bytes");
		struct manifest_entry *e = &m->entries[m->n_entries];
		int r = parse_entry(key, v, m->key != NULL, e, error);
		if (r < 0)
			return r;
		if (!(e->name = strdup(key)))
			return -ENOMEM;
		m->n_entries++;
	}
	qsort(m->entries, m->n_entries, sizeof *m->entries, cmp_entry);
	return 0;
}

int manifest_parse(const char *buf, size_t len, struct manifest *out, char **error)
{
	json_t *root;
	memset(out, 0, sizeof *out);
	int r = json_doc_load(&manifest_doc, buf, len, &root, error);
	if (r < 0)
		return r;
	r = parse_root(root, out, error);
	json_decref(root);
	if (r < 0)
		manifest_free(out);
	return r;
}

char *manifest_to_json(const struct manifest *m)
{
	json_t *root = json_object(), *creds = json_object();
	char *out = NULL;
	if (!root || !creds)
		goto done;
	json_object_set_new(root, "credscope", json_integer(1));
	if (m->key) {
		char *hex = malloc(m->key_len * 2 + 1);
		if (!hex)
			goto done;
		hex_encode(m->key, m->key_len, hex);
		json_object_set_new(root, "key", json_string(hex));
		secret_clear(hex, m->key_len * 2);
		free(hex);
	}
	json_object_set_new(root, "strict", json_boolean(m->strict));
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct manifest_entry *e = &m->entries[i];
		json_t *o = json_object();
		if (e->digest != DIGEST_NONE)
			json_object_set_new(o, e->digest == DIGEST_SHA256 ? "sha256" : "hmac-sha256", json_string(e->hex));
		if (e->expect == EXPECT_ABSENT)
			json_object_set_new(o, "absent", json_true());
		else if (e->expect == EXPECT_PRESENT)
			json_object_set_new(o, "present", json_true());
		else if (e->expect == EXPECT_DIFFERENT)
			json_object_set_new(o, "different", json_true());
		json_object_set_new(creds, e->name, o);
	}
	json_object_set(root, "credentials", creds);
	out = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2));
done:
	json_decref(creds);
	json_decref(root);
	return out;
}

const struct manifest_entry *manifest_find(const struct manifest *m, const char *name)
{
	struct manifest_entry key = { .name = (char *)name };
	if (!m->n_entries)
		return NULL;
	return bsearch(&key, m->entries, m->n_entries, sizeof key, cmp_entry);
}

void manifest_free(struct manifest *m)
{
	if (m->key) {
		secret_clear(m->key, m->key_len);
		free(m->key);
	}
	for (size_t i = 0; i < m->n_entries; i++)
		free(m->entries[i].name);
	free(m->entries);
	memset(m, 0, sizeof *m);
}
