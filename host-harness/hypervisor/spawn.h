/* spawn: the one fork+exec of a hypervisor process (QEMU, cloud-hypervisor), with the
 * exec failure reported back instead of lost in an exit status 127.
 *
 * Promises:
 * - The child reports the errno of the first step that failed (the caller's setup or
 *   execve itself) through a close-on-exec pipe and exits 127; a successful exec closes
 *   the pipe, so the parent reads EOF. spawn_start() returns only once it knows which:
 *   0 with *PID running the new program, or that -errno with the child reaped.
 * - Between fork() and exec() only async-signal-safe calls (the harness is threaded);
 *   the caller's setup() must keep to that too.
 * - The pipe's write end is at descriptor 10 or above, clear of 0..3, which a setup
 *   may dup2() onto; it is close-on-exec, so a setup that marks every descriptor above N
 *   close-on-exec (close_range(N, ~0U, CLOSE_RANGE_CLOEXEC)) keeps it working.
 * - spawn_error_text() is the message every caller prints: "cannot start PATH: REASON".
 * Nothing here logs. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

struct spawn_req {
	const char *path;            /* absolute or relative path, no PATH search */
	char *const *argv;
	char *const *envp;           /* NULL: the caller's environment */
	bool own_process_group;      /* setpgid(0, 0) in the child, and in the parent too */
	/* In the child, before exec: 0, or -errno to fail the spawn with that errno. */
	int (*setup)(void *ctx);
	void *ctx;
};

/* Forks and execs RQ. 0 and *PID, or -errno (from the child's setup or execve, or from
 * pipe/fork here). */
int spawn_start(const struct spawn_req *rq, pid_t *pid);

/* "cannot start PATH: strerror(-ERR)", malloc'd (NULL without memory). */
char *spawn_error_text(const char *path, int err);
