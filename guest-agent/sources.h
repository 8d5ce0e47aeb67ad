/* sources: the I/O edge of the import model (systemd/import_creds.h).
 *
 * Promise: sources_load() reads, below a root directory, every input systemd's PID 1
 * consults when it imports credentials (fw_cfg, SMBIOS 11-N entries, the SystemdOptions EFI
 * variable, the kernel command line, @initrd) and the facts that gate the import (version,
 * page size, container, confidential VM, a preset $CREDENTIALS_DIRECTORY,
 * systemd.import_credentials=, dmi-sysfs and fw_cfg presence). Every file goes through
 * file_read_bounded() (common/fileio.h), so a FIFO or device planted at any of those paths
 * is an error, never a hang. A missing file means "not there"; any other failure is an
 * error whose message names the path. Nothing here prints: the message goes to the caller.
 */
#pragma once
#include "systemd/import_creds.h"

/* The systemd version of ROOT from its libsystemd-shared-NNN.so (usr/lib/<triplet>/systemd,
 * lib/systemd, usr/lib/systemd), or `systemctl --version` when ROOT is "/". Returns 0,
 * -ENOENT (unknown) or -ENOMEM; prints nothing. */
int systemd_version_detect(const char *root, unsigned *out);

/* Fills env and sources from ROOT ("/" for the running system). systemd_version_override
 * > 0 replaces detection. Returns 0 or -errno; then *error (when ERROR is not NULL) is a
 * malloc'd sentence naming what failed (NULL on ENOMEM), and sources hold nothing. */
int sources_load(const char *root, unsigned systemd_version_override,
		 struct import_env *env, struct import_sources *sources, char **error);
void sources_free(struct import_sources *sources);
