/* smbios: SMBIOS as a Linux guest sees it, read and parsed strictly.
 *
 * Promise: smbios_read_entries() reads /sys/firmware/dmi/entries/11-N/raw exactly as
 * systemd's PID 1 scans them (N = 0 upward, stop at the first missing one, each read to
 * EOF). The parsers below are pure functions over bytes: they never read past a buffer,
 * and every malformed input becomes a finding with its byte offset, never a crash.
 * Layouts: shared/reference/systemd-credentials.md §3.1 and §7.
 *
 * Secret handling: OEM strings may hold credential values. Parsed strings point into the
 * caller's buffer (no copies); findings never contain string bytes.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "systemd_rules.h"

/* Reads ROOT/sys/firmware/dmi/entries/11-0/raw, 11-1/raw, ... until the first ENOENT, each
 * with a read() loop until EOF (the kernel hands out one page per read). On success *out
 * holds *n_out blobs named "11-N" (may be 0) and *dmi_sysfs_present says whether
 * ROOT/sys/firmware/dmi/entries exists. Returns 0 or -errno; a read error other than
 * ENOENT is reported on stderr naming the path. */
int smbios_read_entries(const char *root, struct raw_blob **out, size_t *n_out, bool *dmi_sysfs_present);

/* Reads the whole file at PATH with a read() loop until EOF (sysfs files report size 0 and
 * give one page per read). Returns 0 or -errno (-EFBIG past 16 MiB); no message. */
int smbios_read_file(const char *path, uint8_t **out, size_t *out_len);

/* Frees n blobs and their names, clearing the data bytes first (they may hold secrets). */
void raw_blobs_free(struct raw_blob *b, size_t n);
