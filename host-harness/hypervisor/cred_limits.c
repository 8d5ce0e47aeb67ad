/* cred_limits: what fits into QEMU's SMBIOS tables and systemd's credential limit. */
#include "hypervisor/cred_limits.h"

#include <stdio.h>
#include <string.h>

#include "hypervisor/qemu.h"

#define PREFIX_TEXT "io.systemd.credential:"
#define PREFIX_BINARY "io.systemd.credential.binary:"

size_t smbios_credential_bytes(const char *name, size_t len, bool binary)
{
	size_t value = binary ? 4 * ((len + 2) / 3) : len;

	return strlen(binary ? PREFIX_BINARY : PREFIX_TEXT) + strlen(name) + 1 + value + 1;
}

size_t smbios_oem_budget(unsigned cpus)
{
	struct qemu_vm vm = { .cpus = cpus ? cpus : 1 };

	return qemu_smbios_oem_budget(&vm);
}

char *smbios_too_big_text(const char *name, size_t len, bool binary, size_t used, size_t budget, const char *fix)
{
	size_t need = smbios_credential_bytes(name, len, binary);
	char sizes[160], before[160] = "", systemd[200] = "", *s;

	if (binary)
		snprintf(sizes, sizeof sizes, "%zu bytes: base64 makes its %zu bytes %zu", need, len, 4 * ((len + 2) / 3));
	else
		snprintf(sizes, sizeof sizes, "%zu bytes for its %zu", need, len);
	if (used)
		snprintf(before, sizeof before, ", after the %zu bytes of the SMBIOS strings before it", used);
	if (len > CREDENTIAL_SIZE_MAX)
		snprintf(systemd, sizeof systemd, "; it is also more than systemd's 1 MiB credential limit "
			 "(CREDENTIAL_SIZE_MAX, %u bytes), which systemd refuses on any path", CREDENTIAL_SIZE_MAX);
	if (asprintf(&s, "credential %s: as an SMBIOS OEM string (%s) it would take the SMBIOS tables QEMU builds "
		     "past the %u bytes an SMBIOS 2.1 entry point can address (QEMU's SMBIOS_21_MAX_TABLES_LEN; %zu "
		     "bytes are left for OEM strings%s)%s; %s", name, sizes, QEMU_SMBIOS21_TABLES_MAX, budget, before,
		     systemd, fix) < 0)
		return NULL;
	return s;
}

char *smbios_oem_too_big_text(size_t i, size_t len, size_t used, size_t budget)
{
	char *s;

	if (asprintf(&s, "oem_strings[%zu]: its %zu bytes would take the SMBIOS tables QEMU builds past the %u bytes an "
		     "SMBIOS 2.1 entry point can address (QEMU's SMBIOS_21_MAX_TABLES_LEN; %zu bytes are left for OEM "
		     "strings, %zu taken before it)", i, len, QEMU_SMBIOS21_TABLES_MAX, budget, used) < 0)
		return NULL;
	return s;
}
