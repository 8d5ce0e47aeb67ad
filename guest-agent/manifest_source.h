/* manifest_source: where the expectations come from, as bytes.
 *
 * Promise: --manifest FILE reads a file; --manifest-label LABEL finds the block device whose
 * filesystem carries that label with libblkid (optionally polling up to wait_seconds for it
 * to appear, so the boot-time unit need not wait for udev), mounts it read-only in a child
 * process inside its own private mount namespace, and hands manifest.json back over a pipe,
 * at most MANIFEST_MAX_SIZE bytes. The host's mount table is never touched. Errors are
 * returned as a malloc'd sentence naming the label, device or path, and the errno.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_DEFAULT_LABEL "credscope"
#define MANIFEST_FILE_NAME "manifest.json"

struct manifest_bytes {
	uint8_t *data;
	size_t len;
	char *source;    /* "file:PATH" or "label:LABEL" (docs/report.md manifest.source) */
	char *device;    /* the block device for a label, else NULL */
};

/* Return 0, or a negative errno with *error set (malloc'd). */
int manifest_source_file(const char *path, struct manifest_bytes *out, char **error);
int manifest_source_label(const char *label, unsigned wait_seconds, struct manifest_bytes *out,
			  char **error);
void manifest_bytes_free(struct manifest_bytes *m);

/* Finds the device for LABEL now (one libblkid scan). Returns 0 with *devname (malloc'd),
 * -ENODEV when no filesystem has that label. */
int manifest_label_lookup(const char *label, char **devname, char **fstype);
