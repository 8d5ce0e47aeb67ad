/* Unit tests for runner/rundir: a run directory carries an owner file (pid and the
 * process start time) from the moment it exists; the sweep removes exactly the stale
 * ones: owner gone or pid reused, real directories of this uid with a valid owner file,
 * never through a symlink, never another user's, never one without an owner file. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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

#include "runner/rundir.h"

static char dir[] = "/tmp/credscope-rundir-test-XXXXXX";   /* no owner file: never swept */

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

static char *at(const char *fmt, ...)
{
	static char p[64][512];
	static int next;
	char name[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	char *out = p[next++ % 64];
	snprintf(out, sizeof p[0], "%s/%s", dir, name);
	return out;
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* A run directory owned by PID with START, as a crashed harness would leave it. */
static char *fake_run(const char *name, pid_t pid, unsigned long long start)
{
	char *d = at("%s", name), text[128];
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(text, sizeof text, "credscope-run 1\npid %d\nstart %llu\n", (int)pid, start);
	put(at("%s/" RUNDIR_OWNER_FILE, name), text);
	put(at("%s/manifest.json", name), "{\"key\":\"...\"}");
	return d;
}

static pid_t dead_pid(void)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return p;
}

static unsigned long long my_start(void)
{
	unsigned long long s;
	bool zombie = true;
	assert_int_equal(rundir_proc_start(getpid(), &s, &zombie), 0);
	assert_false(zombie);
	return s;
}

static void test_start_time_is_field_22_of_proc_stat(void **state)
{
	FILE *f = fopen("/proc/self/stat", "r");
	char buf[4096];
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	char *p = strrchr(buf, ')') + 2;
	unsigned long long want = 0;
	for (int field = 3; field <= 22; field++, p = strchr(p, ' ') + 1)
		if (field == 22)
			want = strtoull(p, NULL, 10);
	assert_true(want > 0);
	assert_true(my_start() == want);
	unsigned long long s;
	bool z;
	assert_int_equal(rundir_proc_start(dead_pid(), &s, &z), -ENOENT);
}

static void test_create_writes_the_owner_file_at_once(void **state)
{
	char *path, *want, buf[256];
	assert_int_equal(rundir_create(dir, "a-case", &path), 0);
	assert_int_equal(strncmp(path, at("credscope-a-case-"), strlen(at("credscope-a-case-"))), 0);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_true(asprintf(&want, "%s/" RUNDIR_OWNER_FILE, path) > 0);
	assert_int_equal(lstat(want, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	FILE *f = fopen(want, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char expect[128];
	snprintf(expect, sizeof expect, "credscope-run 1\npid %d\nstart %llu\n", (int)getpid(), my_start());
	assert_string_equal(buf, expect);
	/* its own owner runs: the sweep keeps it */
	assert_int_equal(rundir_sweep(dir, NULL, NULL), 0);
	assert_true(exists(path));
	free(want);
	free(path);
	assert_int_equal(rundir_create("/nonexistent-dir", "x", &path), -ENOENT);
	assert_null(path);
}

static void test_owner_file_is_parsed_strictly(void **state)
{
	pid_t pid;
	unsigned long long start;
	static const char *const bad[] = {
		"", "credscope-run 1\npid 12\nstart 34", "credscope-run 2\npid 12\nstart 34\n",
		"credscope-run 1\npid 012\nstart 34\n", "credscope-run 1\npid -12\nstart 34\n",
		"credscope-run 1\npid 12\nstart +34\n", "credscope-run 1\npid 12\nstart 34\n\n",
		"credscope-run 1\npid 12\nstart 34\nuid 0\n", "credscope-run 1\npid 0\nstart 34\n",
		"credscope-run 1\npid  12\nstart 34\n", "credscope-run 1\npid 12\nstart 99999999999999999999999\n",
	};
	const char good[] = "credscope-run 1\npid 12\nstart 34\n";
	assert_int_equal(rundir_owner_parse(good, strlen(good), &pid, &start), 0);
	assert_int_equal(pid, 12);
	assert_true(start == 34);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (rundir_owner_parse(bad[i], strlen(bad[i]), &pid, &start) != -EINVAL)
			fail_msg("accepted owner file #%zu: \"%s\"", i, bad[i]);
	assert_int_equal(rundir_owner_parse("credscope-run 1\npid 1\0start 2\n", 26, &pid, &start), -EINVAL);
}

static int n_removed;
static char removed_names[8][512];
static void on_removed(const char *path, pid_t pid, void *ctx)
{
	snprintf(removed_names[n_removed++ % 8], sizeof removed_names[0], "%s %d", path, (int)pid);
}

static void test_sweep_removes_exactly_the_stale_ones(void **state)
{
	pid_t gone = dead_pid();
	unsigned long long me = my_start();
	char outside[] = "/tmp/credscope-rundir-outside-XXXXXX";
	assert_non_null(mkdtemp(outside));
	char target[600];
	snprintf(target, sizeof target, "%s/keep", outside);
	put(target, "precious");

	char *stale = fake_run("credscope-stale-AAAAAA", gone, 5);
	assert_int_equal(symlink(target, at("credscope-stale-AAAAAA/link-out")), 0);   /* not followed */
	char *reused = fake_run("credscope-reused-AAAAAA", getpid(), me + 1);
	char *live = fake_run("credscope-live-AAAAAA", getpid(), me);
	char *other = fake_run("other-stale-AAAAAA", gone, 5);   /* not a credscope name */
	char *noowner = at("credscope-noowner-AAAAAA");
	assert_int_equal(mkdir(noowner, 0700), 0);
	char *badowner = fake_run("credscope-badowner-AAAAAA", gone, 5);
	put(at("credscope-badowner-AAAAAA/" RUNDIR_OWNER_FILE), "pid 1\n");
	char *linkowner = at("credscope-linkowner-AAAAAA");
	assert_int_equal(mkdir(linkowner, 0700), 0);
	char *elsewhere = fake_run("elsewhere-owner", gone, 5);
	char lo[600];
	snprintf(lo, sizeof lo, "%s/" RUNDIR_OWNER_FILE, elsewhere);
	assert_int_equal(symlink(lo, at("credscope-linkowner-AAAAAA/" RUNDIR_OWNER_FILE)), 0);
	/* a symlink named like a run directory, to a stale run directory elsewhere */
	char far[] = "/tmp/credscope-rundir-far-XXXXXX";
	assert_non_null(mkdtemp(far));
	char farowner[600], text[128];
	snprintf(farowner, sizeof farowner, "%s/" RUNDIR_OWNER_FILE, far);
	snprintf(text, sizeof text, "credscope-run 1\npid %d\nstart 5\n", (int)gone);
	put(farowner, text);
	char *symdir = at("credscope-symlink-AAAAAA");
	assert_int_equal(symlink(far, symdir), 0);
	/* another user's stale directory */
	char *foreign = fake_run("credscope-foreign-AAAAAA", gone, 5);
	assert_int_equal(chown(foreign, 65534, 65534), 0);

	n_removed = 0;
	assert_int_equal(rundir_sweep(dir, on_removed, NULL), 2);
	assert_int_equal(n_removed, 2);
	char want_stale[600], want_reused[600];
	snprintf(want_stale, sizeof want_stale, "%s %d", stale, (int)gone);
	snprintf(want_reused, sizeof want_reused, "%s %d", reused, (int)getpid());
	assert_true((strcmp(removed_names[0], want_stale) == 0 && strcmp(removed_names[1], want_reused) == 0) ||
		    (strcmp(removed_names[1], want_stale) == 0 && strcmp(removed_names[0], want_reused) == 0));
	assert_false(exists(stale));
	assert_false(exists(reused));
	assert_true(exists(target));        /* the symlink inside was removed, not followed */
	assert_true(exists(live));
	assert_true(exists(other));
	assert_true(exists(noowner));
	assert_true(exists(badowner));
	assert_true(exists(linkowner));
	assert_true(exists(symdir));
	assert_true(exists(farowner));      /* never followed */
	assert_true(exists(foreign));
	/* a second sweep finds nothing more */
	assert_int_equal(rundir_sweep(dir, on_removed, NULL), 0);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", outside, far);
	assert_int_equal(system(cmd), 0);
}

/* --keep: a kept directory is disowned at the end of its run and never swept. */
static void test_a_disowned_directory_is_never_swept(void **state)
{
	char *kept = fake_run("credscope-kept-AAAAAA", dead_pid(), 5);
	rundir_disown(kept);
	assert_false(exists(at("credscope-kept-AAAAAA/" RUNDIR_OWNER_FILE)));
	assert_int_equal(rundir_sweep(dir, NULL, NULL), 0);
	assert_true(exists(kept));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_time_is_field_22_of_proc_stat),
		cmocka_unit_test(test_create_writes_the_owner_file_at_once),
		cmocka_unit_test(test_owner_file_is_parsed_strictly),
		cmocka_unit_test(test_sweep_removes_exactly_the_stale_ones),
		cmocka_unit_test(test_a_disowned_directory_is_never_swept),
	};
	return cmocka_run_group_tests_name("rundir", tests, setup, teardown);
}
