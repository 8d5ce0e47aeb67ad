/* differential: the agent's model against what real PID 1 did, counted by the host.
 *
 * A differential case ("differential": true, docs/harness.md) sends adversarial inputs and
 * expects nothing of them: PID 1 is right by definition. The host reads, from the report,
 * the agent's prediction (sources[]: each source string's fate) and what PID 1 really put
 * into /run/credentials/@system (credentials[]: each file, with the source string observed
 * to carry its exact bytes), and counts, per credential, whether the two agree:
 *
 *   - a source string predicted imported agrees when a file of that name holds the bytes of
 *     exactly that string (its observed origin is the string's origin);
 *   - a string predicted dropped agrees unless the file of that name holds its bytes;
 *   - a file in the store that no string predicted imported explains is one more credential,
 *     and a disagreement.
 *
 * Strings that are no credential at all (fate not-a-credential) are not counted. Each
 * disagreement is a judgement problem that names both sides. The agent's own cross-check of
 * PID 1's log lines (report "pid1_log") is added as it stands: lines compared and agreeing.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "runner/report_check.h"

/* Adds a problem per disagreement to J and the counts to J->diff; 0 or -ENOMEM. Fits
 * judge_input.judge_instead. */
int differential_judge(const struct report *r, struct judgement *j);
