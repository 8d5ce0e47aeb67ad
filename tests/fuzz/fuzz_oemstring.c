/* libFuzzer target: the OEM-string -> credential parser (systemd/import_creds.c predict_import())
 * over one fuzzed SMBIOS 11-N entry and a fuzzed kernel command line, for systemd 252, 254
 * and 257, plus systemd_unbase64() on the raw bytes.
 *
 * Input: byte 0 = flags (bit 0: page size 64 instead of 4096, so small inputs cross the
 * page boundary; bit 1: the command line is also the SystemdOptions EFI variable),
 * bytes 1-2 = command line length (little endian, clamped), then the command line, then the
 * raw entry. Invariants checked: the budget holds, every imported credential has a valid
 * name and at most 1 MiB, a name is imported at most once, truncation only before 257. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "systemd/base64.h"
#include "systemd/gates.h"
#include "systemd/import_creds.h"

static void check(const struct prediction *p, unsigned version)
{
	if (p->budget_used > CRED_TOTAL_SIZE_MAX)
		abort();
	for (size_t i = 0; i < p->n_cands; i++) {
		const struct cred_candidate *c = &p->cands[i];
		if (!c->origin || (size_t) c->fate > FATE_SOURCE_SKIPPED)
			abort();
		if (c->fate != FATE_IMPORTED && c->fate != FATE_IMPORTED_TRUNCATED) {
			if (c->imported)
				abort();
			continue;
		}
		if (!c->name || !credential_name_valid(c->name, strlen(c->name)) || c->imported_len > CRED_SIZE_MAX)
			abort();
		if (c->fate == FATE_IMPORTED_TRUNCATED && version >= 257)
			abort();
		if (prediction_winner(p, c->name) != c)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned versions[] = { 252, 254, 257 };
	struct raw_blob blob = { .name = "11-0" };
	struct import_sources s = {};
	size_t cl;
	char *cmdline;

	if (size < 3)
		return 0;
	cl = (size_t) (data[1] | data[2] << 8);
	if (cl > size - 3)
		cl = size - 3;
	cmdline = strndup((const char *) data + 3, cl);
	if (!cmdline)
		return 0;
	blob.data = (uint8_t *) data + 3 + cl;
	blob.len = size - 3 - cl;
	s.smbios = &blob;
	s.n_smbios = 1;
	s.cmdline = cmdline;
	s.efi_options = data[0] & 2 ? cmdline : NULL;
	bool disabled = cmdline_import_credentials_disabled(s.cmdline, s.efi_options);   /* one answer for all versions */

	for (size_t i = 0; i < 3; i++) {
		struct import_env env = {
			.systemd_version = versions[i],
			.page_size = data[0] & 1 ? 64 : 4096,
			.dmi_sysfs_present = true,
			.fw_cfg_present = true,
			.import_disabled = disabled,
		};
		struct prediction p;
		uint8_t *out = NULL;
		size_t out_len = 0;

		if (predict_import(&s, &env, &p) == 0) {
			check(&p, versions[i]);
			prediction_free(&p);
		}
		if (systemd_unbase64((const char *) blob.data, blob.len, versions[i], &out, &out_len) == 0) {
			if (out_len > blob.len / 4 * 3 + 3)
				abort();
			free(out);
		}
	}
	free(cmdline);
	return 0;
}
