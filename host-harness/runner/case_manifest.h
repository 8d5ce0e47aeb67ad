/* case_manifest: what the host sent for a case, and the manifest it writes for the agent.
 *
 * Promises:
 * - case_manifest_record() keeps one struct sent_cred per credential name; when a name
 *   is sent by several sources the first in systemd's import order wins (fw_cfg, then
 *   SMBIOS, then the kernel command line), whatever the order in the case file.
 * - The digest of the exact bytes is HMAC-SHA256 with the run's KEY, or plain SHA-256
 *   when KEY is NULL (sent_cred.hmac then holds the SHA-256). No value is kept.
 * - case_manifest_json() applies the case's expectations for the image (exact, absent,
 *   present, different; sent or not) and returns the canonical manifest JSON, entries
 *   sorted by name; the key (if any) goes into the manifest.
 * - case_manifest_write() puts that manifest on an expectations disk in DIR;
 *   case_manifest_text() gives it as bytes for fw_cfg.
 * - A KEY shorter than the 16 bytes manifest_parse() accepts is refused (-EINVAL) by
 *   every function, so no manifest the agent would reject is ever written. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "runner/case.h"
#include "digest.h"
#include "runner/report_check.h"

/* Adds or replaces the entry for C->name in *SENT. Returns 0, -EINVAL (KEY too short),
 * -EIO or -ENOMEM; on error *SENT is unchanged. */
int case_manifest_record(struct sent_cred **sent, size_t *n_sent, const uint8_t *key, size_t key_len,
			 const struct case_cred *c, const uint8_t *v, size_t len);

/* The manifest for VIEW and what was sent, malloc'd into *JSON (NULL on error). Returns 0,
 * -EINVAL (KEY too short) or -ENOMEM. */
int case_manifest_json(const struct case_view *view, bool strict, const struct sent_cred *sent, size_t n_sent,
		       const uint8_t *key, size_t key_len, char **json);

/* case_manifest_json() with the key-too-short error worded (*ERROR, malloc'd; NULL after
 * -ENOMEM) and SHA256_HEX (or NULL) the SHA-256 of the JSON: the manifest a guest gets over
 * fw_cfg (opt/io.credscope/manifest). *JSON holds the key: secret_free() it. */
int case_manifest_text(const struct case_view *view, bool strict, const struct sent_cred *sent, size_t n_sent,
		       const uint8_t *key, size_t key_len, char **json, char sha256_hex[DIGEST_HEX_LEN + 1], char **error);

/* case_manifest_json(), then the disk image in DIR (*IMAGE: its path, malloc'd); SHA256_HEX
 * (or NULL) gets the SHA-256 of the manifest bytes. Returns 0 or -errno; when the disk
 * fails or the key is refused *ERROR says why (malloc'd), after -ENOMEM it may stay NULL.
 * On error nothing is left in DIR (expect_disk_create() removes what it began). */
int case_manifest_write(const struct case_view *view, bool strict, const struct sent_cred *sent, size_t n_sent,
			const uint8_t *key, size_t key_len, const char *dir, char **image,
			char sha256_hex[DIGEST_HEX_LEN + 1], char **error);
