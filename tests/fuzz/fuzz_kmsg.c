/* fuzz_kmsg: the kernel log as a hostile fixture's dev/kmsg holds it (guest-agent/kmsg.h: one
 * record per line), PID 1's lines recognised (systemd/pid1_lines.h) and held against a
 * prediction (pid1_check.h).
 *
 * Input: byte 0 picks the prediction: bit 0 a 252 or a 257 boot, bit 1 an imported FOO,
 * bit 2 a dropped "bad/name" (invalid name), bit 3 a store-full failure on the command line;
 * the rest is the log, line by line.
 *
 * Proves: parsing and comparing never crash or leak whatever the records say; counts stay
 * consistent (agree <= compared, one disagreement per disagreeing comparison); every
 * recognised line's name undoes the kernel's escaping without growing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmsg.h"
#include "pid1_check.h"
#include "systemd/pid1_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmsg_log log = { 0 };
	struct pid1_check check;
	struct cred_candidate c[3] = {
		{ .source = CRED_SOURCE_SMBIOS, .name = (char *) "FOO", .origin = (char *) "SMBIOS 11-0 string 1 at byte 5",
		  .fate = FATE_IMPORTED },
		{ .source = CRED_SOURCE_SMBIOS, .name = (char *) "bad/name", .origin = (char *) "SMBIOS 11-0 string 2",
		  .fate = FATE_DROPPED_INVALID_NAME },
		{ .source = CRED_SOURCE_CMDLINE, .name = (char *) "W", .origin = (char *) "kernel command line word 1",
		  .fate = FATE_DROPPED_STORE_FULL, .store_failure = STORE_FAILURE_WRITE },
	};
	struct cred_candidate pick[3];
	struct prediction p = { .cands = pick };

	if (size < 1)
		return 0;
	p.env.systemd_version = data[0] & 1 ? 257 : 252;
	for (int i = 0; i < 3; i++)
		if (data[0] & (2 << i))
			pick[p.n_cands++] = c[i];
	for (size_t pos = 1; pos < size; ) {
		const char *line = (const char *) data + pos, *nl = memchr(line, '\n', size - pos);
		size_t l = nl ? (size_t) (nl - line) : size - pos;
		if (kmsg_log_add(&log, line, l) < 0)
			goto out;
		pos += l + 1;
	}
	log.read = log.n_records > 0;
	for (size_t i = 0; i < log.n_pid1; i++) {
		struct pid1_line pl;
		if (pid1_line_parse(log.pid1[i].text, &pl) > 0 && pl.name) {
			char *raw = kmsg_unescape(pl.name);
			if (raw && strlen(raw) > strlen(pl.name))
				abort();
			free(raw);
		}
		pid1_line_free(&pl);
	}
	if (pid1_check_run(&p, &log, "root=/dev/vda1", &check) == 0) {
		if (check.agree > check.compared || check.agree + check.n_dis != check.compared)
			abort();
		pid1_check_free(&check);
	}
out:
	kmsg_log_free(&log);
	return 0;
}
