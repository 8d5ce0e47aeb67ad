/* cred_limits: the size limits a credential meets on its way into a guest, checked before
 * anything boots and worded once for credscope-harness and credscope-launch alike.
 *
 * Promises:
 * - smbios_credential_bytes() is exactly what qemu_add_smbios_credential() puts into
 *   QEMU's SMBIOS tables for one credential (the type 11 string and its NUL), so a check
 *   made with it before boot agrees with the refusal QEMU's attach would give.
 * - smbios_too_big_text() names the limit (QEMU's SMBIOS_21_MAX_TABLES_LEN, and systemd's
 *   CREDENTIAL_SIZE_MAX when the value is past that too), the sizes and the way out; never
 *   the value. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define CREDENTIAL_SIZE_MAX (1024u * 1024u)   /* systemd's src/shared/creds-util.h */

/* Bytes of "io.systemd.credential[.binary]:NAME=VALUE-or-BASE64" plus its NUL. */
size_t smbios_credential_bytes(const char *name, size_t len, bool binary);

/* The bytes of OEM strings QEMU's SMBIOS tables have room for with CPUS vCPUs (0: 1). */
size_t smbios_oem_budget(unsigned cpus);

/* "credential NAME: as an SMBIOS OEM string ... past the N bytes ...; FIX", malloc'd (NULL
 * without memory). USED: the OEM string bytes already taken before this one. */
char *smbios_too_big_text(const char *name, size_t len, bool binary, size_t used, size_t budget, const char *fix);

/* The same for raw OEM string number I of LEN bytes: "oem_strings[I]: ...", malloc'd. */
char *smbios_oem_too_big_text(size_t i, size_t len, size_t used, size_t budget);
