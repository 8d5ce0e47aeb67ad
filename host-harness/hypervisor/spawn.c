/* spawn: fork+exec with the exec failure reported through a CLOEXEC pipe. */
#include "hypervisor/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPAWN_ERR_FD_MIN 10

__attribute__((noreturn)) static void child_failed(int err_fd, int e)
{
	(void)!write(err_fd, &e, sizeof e);
	_exit(127);
}

/* The parent's side: EOF means the exec closed the pipe; 4 bytes are the child's errno. */
static int exec_result(pid_t pid, int err_fd)
{
	int e = 0, status;
	ssize_t n;

	while ((n = read(err_fd, &e, sizeof e)) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof e && e > 0 ? -e : -EIO;
}

int spawn_start(const struct spawn_req *rq, pid_t *pid)
{
	int p[2], w, r;
	pid_t child;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	w = fcntl(p[1], F_DUPFD_CLOEXEC, SPAWN_ERR_FD_MIN);
	r = w < 0 ? -errno : 0;
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		return r;
	}
	child = fork();
	if (child == 0) {
		close(p[0]);
		if (rq->own_process_group && setpgid(0, 0) < 0)
			child_failed(w, errno);
		if (rq->setup && (r = rq->setup(rq->ctx)) < 0)
			child_failed(w, -r);
		if (rq->envp)
			execve(rq->path, rq->argv, rq->envp);
		else
			execv(rq->path, rq->argv);
		child_failed(w, errno);
	}
	r = child < 0 ? -errno : 0;
	close(w);
	if (r == 0) {
		if (rq->own_process_group)
			setpgid(child, child);   /* also here, so a signal sent right away cannot miss */
		r = exec_result(child, p[0]);
	}
	close(p[0]);
	if (r == 0)
		*pid = child;
	return r;
}

char *spawn_error_text(const char *path, int err)
{
	char *s;

	return asprintf(&s, "cannot start %s: %s", path, strerror(err < 0 ? -err : err)) < 0 ? NULL : s;
}
