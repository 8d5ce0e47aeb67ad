/* manifest_source: where the expectations come from, as bytes.
 *
 * Promise: --manifest FILE reads a file; --manifest-label LABEL finds the block device whose
 * filesystem carries that label with libblkid (optionally polling up to wait_seconds for it
 * to appear, so the boot-time unit need not wait for udev), mounts it read-only in a child
 * process inside its own private mount namespace, and hands manifest.json back over a pipe,
 * at most MANIFEST_MAX_SIZE bytes. The host's mount table is never touched. A QEMU fw_cfg
 * entry opt/io.credscope/manifest (the harness's default: there from PID 1's start, since
 * PID 1 itself loads qemu_fw_cfg to import credentials) is read with no device to wait for.
 * Errors are
 * returned as a malloc'd sentence naming the label, device or path, and the errno.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

#define MANIFEST_DEFAULT_LABEL "credscope"
#define MANIFEST_FILE_NAME "manifest.json"
/* the fw_cfg entry MANIFEST_FW_CFG_ENTRY (manifest.h) as the guest's sysfs shows it */
#define MANIFEST_FW_CFG_RAW "/sys/firmware/qemu_fw_cfg/by_name/" MANIFEST_FW_CFG_ENTRY "/raw"

struct manifest_bytes {
	uint8_t *data;
	size_t len;
	char *source;    /* "file:PATH", "label:LABEL" or "fw_cfg:opt/io.credscope/manifest"
			    (docs/report.md manifest.source) */
	char *device;    /* the block device for a label, else NULL */
};

/* Return 0, or a negative errno with *error set (malloc'd). */
int manifest_source_file(const char *path, struct manifest_bytes *out, char **error);
int manifest_source_label(const char *label, unsigned wait_seconds, struct manifest_bytes *out,
			  char **error);
/* ROOT/sys/firmware/qemu_fw_cfg/by_name/opt/io.credscope/manifest/raw. -ENOENT (no *error)
 * when that entry is not there. */
int manifest_source_fw_cfg(const char *root, struct manifest_bytes *out, char **error);
void manifest_bytes_free(struct manifest_bytes *m);

/* Finds the device for LABEL now (one libblkid scan). Returns 0 with *devname (malloc'd),
 * -ENODEV when no filesystem has that label. */
int manifest_label_lookup(const char *label, char **devname, char **fstype);
