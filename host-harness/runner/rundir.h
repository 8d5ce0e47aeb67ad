/* rundir: the private run directories of credscope-harness and credscope-launch, made so
 * that a crash leaves them recognisable, and the sweep that removes stale ones.
 *
 * Promises:
 * - rundir_create() makes TMP/credscope-NAME-XXXXXX (mkdtemp, 0700) and at once writes
 *   the owner file RUNDIR_OWNER_FILE in it (0600): "credscope-run 1\npid P\nstart T\n",
 *   T the process start time from /proc/P/stat (field 22, clock ticks since boot), so a
 *   reused pid is told apart from the owner.
 * - rundir_sweep() removes, in TMP only, directories named credscope-* that are real
 *   directories (never a symlink, never followed), owned by the effective uid, and carry
 *   a valid owner file owned by that uid whose process is gone: no /proc/P, a zombie, or
 *   a process with another start time. Anything else is left alone: a directory without
 *   an owner file (another program's, or one being created right now), one of another
 *   user, one whose owner runs, one kept on purpose (rundir_disown(): --keep). Removal
 *   is rm_tree() (fileio.h): no symlink followed.
 * - Nothing here logs: the sweep names each directory it removed to a callback. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#define RUNDIR_OWNER_FILE ".credscope-owner"
#define RUNDIR_PREFIX "credscope-"

/* $TMPDIR when set and not empty, else /tmp. */
const char *rundir_tmp(void);

/* Process PID's start time (/proc/PID/stat field 22) into *START; *ZOMBIE says whether it
 * has exited and waits to be reaped. 0, or -ENOENT when there is no such process. */
int rundir_proc_start(pid_t pid, unsigned long long *start, bool *zombie);

/* TMP/credscope-NAME-XXXXXX with its owner file (this process). *PATH malloc'd. 0 or
 * -errno; on error nothing is left behind. */
int rundir_create(const char *tmp, const char *name, char **path);

/* Removes PATH's owner file: a directory kept on purpose (--keep) is never swept. */
void rundir_disown(const char *path);

/* Parses an owner file's bytes. 0, or -EINVAL for anything but the exact format. */
int rundir_owner_parse(const char *text, size_t len, pid_t *pid, unsigned long long *start);

/* Removes every stale run directory in TMP (see above); REMOVED(PATH, PID, CTX) for each.
 * Returns how many were removed, or -errno when TMP cannot be read. */
int rundir_sweep(const char *tmp, void (*removed)(const char *path, pid_t pid, void *ctx), void *ctx);
