/* Unit tests for hypervisor/spawn: the one fork+exec of QEMU and cloud-hypervisor. An
 * exec failure (missing, not executable, a failing setup step) comes back as the child's
 * errno through the CLOEXEC pipe, with the child reaped; a successful exec is a running
 * pid whose descriptors do not include the pipe; the message is "cannot start PATH: ...". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "hypervisor/spawn.h"

static char dir[] = "/tmp/credscope-spawn-XXXXXX";

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *at(const char *name)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

/* No child of ours is left: every failed spawn reaped its child. */
static void assert_no_children(void)
{
	int status;
	assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_missing_binary_is_enoent_and_reaped(void **state)
{
	char *argv[] = { "/nonexistent/qemu", NULL };
	struct spawn_req rq = { .path = argv[0], .argv = argv };
	pid_t pid = -1;

	assert_int_equal(spawn_start(&rq, &pid), -ENOENT);
	assert_int_equal(pid, -1);
	assert_no_children();
}

static void test_not_executable_is_eacces(void **state)
{
	char *path = at("noexec");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	char *argv[] = { path, NULL };
	struct spawn_req rq = { .path = path, .argv = argv };
	pid_t pid = -1;

	assert_int_equal(spawn_start(&rq, &pid), -EACCES);
	assert_no_children();
	char *msg = spawn_error_text(path, -EACCES);
	char want[300];
	snprintf(want, sizeof want, "cannot start %s: Permission denied", path);
	assert_string_equal(msg, want);
	free(msg);
}

static int failing_setup(void *ctx)
{
	return -*(int *)ctx;
}

static void test_setup_failure_is_reported_with_its_errno(void **state)
{
	int e = EMFILE;
	char *argv[] = { "/bin/true", NULL };
	struct spawn_req rq = { .path = argv[0], .argv = argv, .setup = failing_setup, .ctx = &e };
	pid_t pid = -1;

	assert_int_equal(spawn_start(&rq, &pid), -EMFILE);
	assert_no_children();
}

/* "FD TARGET" lines for every descriptor of PID, sorted into BUF. */
static void fd_list(pid_t pid, char *buf, size_t size)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "cd /proc/%d/fd && for f in *; do echo \"$f $(readlink $f)\"; done", (int)pid);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(buf, 1, size - 1, p);
	buf[n] = 0;
	pclose(p);
}

/* A successful spawn is a running program that holds no descriptor its parent did not
 * already hold before (the error pipe was close-on-exec), in its own process group when
 * asked. */
static void test_success_runs_the_program_without_the_pipe(void **state)
{
	char *argv[] = { "/bin/sleep", "10", NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct spawn_req rq = { .path = argv[0], .argv = argv, .envp = envp, .own_process_group = true };
	static char before[8192], child[8192];
	pid_t pid = -1;
	int status;

	fd_list(getpid(), before, sizeof before);
	assert_int_equal(spawn_start(&rq, &pid), 0);
	assert_true(pid > 0);
	assert_int_equal(getpgid(pid), pid);
	fd_list(pid, child, sizeof child);
	for (char *save = NULL, *l = strtok_r(child, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!strstr(before, l))
			fail_msg("descriptor \"%s\" of the child was not the parent's", l);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_no_children();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_binary_is_enoent_and_reaped),
		cmocka_unit_test(test_not_executable_is_eacces),
		cmocka_unit_test(test_setup_failure_is_reported_with_its_errno),
		cmocka_unit_test(test_success_runs_the_program_without_the_pipe),
	};
	return cmocka_run_group_tests_name("spawn", tests, setup, teardown);
}
