/* case_limits: what a case sends, checked against the limits of its delivery paths before
 * any VM boots (cmd_run: exit 2), so a case that cannot be sent never becomes a run-time
 * "Argument list too long".
 *
 * Promises:
 * - For a QEMU case on a machine with SMBIOS, the credentials sent by smbios or
 *   smbios-binary and the raw oem_strings, in the order the runner attaches them, must
 *   fit QEMU's SMBIOS tables (cred_limits.h); a secret's size is its "random" count or
 *   its file's size (stat, nothing read). The first that does not is named, with the
 *   limit, the sizes and the way out, never its value.
 * - Other hypervisors and paths are left to their own checks. */
#pragma once
#include "runner/case.h"

/* 0, or -E2BIG with *ERROR ("CASE-FILE: credential NAME: ...", malloc'd). */
int case_check_limits(const struct test_case *tc, char **error);
