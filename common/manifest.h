/* manifest: the expectations document (shared/DESIGN.md "Manifest"). Holds digests, never
 * values. Parsed strictly: unknown fields, duplicate keys, wrong types and malformed hex
 * are errors whose message names the field ("credentials.FOO.sha256: ..."). The harness
 * writes manifests with manifest_to_json(); the agent reads them with manifest_parse(). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "digest.h"

#define MANIFEST_MAX_SIZE (4u * 1024u * 1024u)
/* The QEMU fw_cfg entry that carries the manifest (the harness's default channel; the agent
 * reads it at /sys/firmware/qemu_fw_cfg/by_name/ENTRY/raw). Outside opt/io.systemd.credentials/,
 * so PID 1 never imports it. */
#define MANIFEST_FW_CFG_ENTRY "opt/io.credscope/manifest"

enum expect_kind {
	EXPECT_MATCH,      /* present, and its digest matches (the default) */
	EXPECT_PRESENT,    /* present, any content ("present": true, no digest) */
	EXPECT_ABSENT,     /* must not be in @system ("absent": true) */
	EXPECT_DIFFERENT,  /* present, and its digest must NOT match ("different": true + digest) */
};

enum digest_kind { DIGEST_NONE, DIGEST_SHA256, DIGEST_HMAC_SHA256 };

struct manifest_entry {
	char *name;
	enum expect_kind expect;
	enum digest_kind digest;
	char hex[DIGEST_HEX_LEN + 1];  /* lowercase */
};

struct manifest {
	uint8_t *key;                  /* HMAC key, NULL if none */
	size_t key_len;
	bool strict;
	struct manifest_entry *entries; /* sorted by name */
	size_t n_entries;
};

/* Returns 0, or -EINVAL with *error set to a malloc'd message naming the field, or -ENOMEM. */
int manifest_parse(const char *buf, size_t len, struct manifest *out, char **error);
/* Canonical JSON (sorted keys, 2-space indent), malloc'd; NULL on ENOMEM. */
char *manifest_to_json(const struct manifest *m);
const struct manifest_entry *manifest_find(const struct manifest *m, const char *name);
void manifest_free(struct manifest *m);
const char *expect_kind_name(enum expect_kind k);   /* "match", "present", "absent", "different" */
