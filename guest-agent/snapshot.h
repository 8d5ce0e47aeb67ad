/* snapshot: everything the agent observes about one boot, loaded once per command.
 *
 * Promise: snapshot_load() reads every credential source under the root (sources_load),
 * replays systemd's import for the detected or given version (predict_import), reads
 * /run/credentials/@system judged by that version's rule (credstore_load_fs before the
 * replay, whose capacity it needs; credstore_load_files after), and holds PID 1's own log
 * lines against the replay (pid1_check; outside containers only: there PID 1 logs to the
 * console, and a /dev/kmsg is the host's). A log that cannot be read is a state of pid1, not
 * a failure. The raw sources are freed once the replay is done: a snapshot holds the
 * prediction (its own copies of names, values, origins), not the SMBIOS entries or fw_cfg
 * files; a store file equal to its predicted bytes shares the prediction's buffer. It prints
 * nothing: on failure *error is one malloc'd sentence naming the input that failed (NULL only
 * when even that could not be allocated), which the command prints and maps to exit 2.
 */
#pragma once
#include "cli.h"
#include "credstore.h"
#include "pid1_check.h"
#include "sources.h"

struct snapshot {
	struct import_env env;
	struct prediction pred;
	struct credstore store;
	struct pid1_check pid1;      /* PID 1's log against pred */
	char kernel[128];            /* uname release of the running kernel */
};

int snapshot_load(const struct cli_ctx *ctx, struct snapshot *s, char **error);
void snapshot_free(struct snapshot *s);
