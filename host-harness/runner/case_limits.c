/* case_limits: a case's SMBIOS strings against QEMU's table limit, before any boot. */
#include "runner/case_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hypervisor/cred_limits.h"

/* The size of C's value without reading it; false when a file cannot be stat'ed (the run
 * says why when it reads it). */
static bool value_size(const struct case_cred *c, size_t *len)
{
	struct stat st;

	if (c->value)
		*len = c->value_len;
	else if (c->random_len)
		*len = c->random_len;
	else if (c->file && stat(c->file, &st) == 0 && S_ISREG(st.st_mode))
		*len = (size_t)st.st_size;
	else
		return false;
	return true;
}

int case_check_limits(const struct test_case *tc, char **error)
{
	size_t budget = smbios_oem_budget(1), used = 0, len;
	char *why;

	*error = NULL;
	if (tc->hypervisor != HV_QEMU || (tc->machine && strcmp(tc->machine, "microvm") == 0))
		return 0;   /* microvm has no SMBIOS: preflight refuses those paths in words of its own */
	for (size_t i = 0; i < tc->n_creds; i++) {
		const struct case_cred *c = &tc->creds[i];
		bool binary = c->via == VIA_SMBIOS_BINARY;
		if ((c->via != VIA_SMBIOS && !binary) || !value_size(c, &len))
			continue;
		size_t need = smbios_credential_bytes(c->name, len, binary);
		if (used + need > budget) {
			why = smbios_too_big_text(c->name, len, binary, used, budget, "send it with \"via\": \"fw_cfg\"");
			if (asprintf(error, "%s: %s", tc->path, why ? why : c->name) < 0)
				*error = NULL;
			free(why);
			return -E2BIG;
		}
		used += need;
	}
	for (size_t i = 0; i < tc->n_oem_strings; i++) {
		size_t need = strlen(tc->oem_strings[i]) + 1;
		if (used + need > budget) {
			why = smbios_oem_too_big_text(i, need - 1, used, budget);
			if (asprintf(error, "%s: %s", tc->path, why ? why : "oem_strings") < 0)
				*error = NULL;
			free(why);
			return -E2BIG;
		}
		used += need;
	}
	return 0;
}
