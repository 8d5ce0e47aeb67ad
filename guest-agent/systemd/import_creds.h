/* import_creds: what systemd's PID 1 imports into /run/credentials/@system, per version.
 *
 * Promise: given every credential source as raw bytes (struct import_sources) and the facts
 * that gate the import (struct import_env), predict_import() replays upstream's
 * import_credentials_trusted() (src/core/import-creds.c: fw_cfg, SMBIOS, kernel command
 * line, @initrd; one shared 1 MiB budget; first writer wins; the store is written once) and
 * says, for every candidate string, what happened to it and why. Version differences come
 * from the row systemd_release() returns (systemd/versions.h). Pure: no I/O; sources_load()
 * (sources.h) is the I/O edge that fills the inputs from a root directory. Rules and their
 * upstream citations: shared/reference/systemd-credentials.md.
 *
 * Secret handling: values live only in cred_candidate.value / .imported (which may be one
 * buffer); they are cleared, once, by prediction_free(). `detail` strings never contain
 * value bytes.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "systemd/import_types.h"

/* Pure replay of systemd's import. Returns 0 or -ENOMEM. */
int predict_import(const struct import_sources *sources, const struct import_env *env,
		   struct prediction *out);
void prediction_free(struct prediction *p);

/* The candidate that created NAME in @system (fate FATE_IMPORTED*), or NULL. */
const struct cred_candidate *prediction_winner(const struct prediction *p, const char *name);

const char *cred_source_name(enum cred_source s);   /* "fw_cfg", "smbios", "cmdline", "initrd" */
const char *cred_fate_name(enum cred_fate f);       /* stable token for JSON: "imported", ... */
