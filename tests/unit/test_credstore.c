/* credstore: mountinfo judgement per systemd version, and reading @system under a root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "credstore.h"

#define RAMFS_LINE "1042 30 0:52 / /run/credentials/@system ro,nosuid,nodev,noexec,relatime - ramfs ramfs ro,mode=700\n"
#define TMPFS_NOSWAP_LINE "1042 30 0:52 / /run/credentials/@system ro,nosuid,nodev,noexec,relatime,nosymfollow - tmpfs tmpfs ro,size=1024k,nr_inodes=1024,mode=700,noswap\n"
#define TMPFS_LINE "1042 30 0:52 / /run/credentials/@system ro,nosuid,nodev,noexec,relatime - tmpfs tmpfs ro,size=1024k,mode=700\n"
#define RUN_LINE "30 24 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:12 - tmpfs tmpfs rw,size=200000k,mode=755\n"
#define ROOT_LINE "24 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"

static enum store_security judge(const char *mountinfo, unsigned version, struct credstore *s)
{
	memset(s, 0, sizeof *s);
	assert_int_equal(credstore_parse_mountinfo(mountinfo, CREDSTORE_PATH, s), 0);
	return credstore_judge(s, version);
}

static void test_ramfs_store_is_secure_on_every_version(void **state)
{
	struct credstore s;
	assert_int_equal(judge(ROOT_LINE RUN_LINE RAMFS_LINE, 252, &s), STORE_SECURITY_SECURE);
	assert_string_equal(s.fs_type, "ramfs");
	assert_true(s.is_mount_point);
	assert_true(s.read_only);
	assert_false(s.noswap);
	assert_int_equal(credstore_judge(&s, 254), STORE_SECURITY_SECURE);
	assert_int_equal(credstore_judge(&s, 257), STORE_SECURITY_SECURE);
	credstore_free(&s);
}

static void test_tmpfs_noswap_is_weak_before_257_and_secure_from_257(void **state)
{
	struct credstore s;
	assert_int_equal(judge(ROOT_LINE RUN_LINE TMPFS_NOSWAP_LINE, 254, &s), STORE_SECURITY_WEAK);
	assert_true(s.noswap);
	assert_int_equal(credstore_judge(&s, 252), STORE_SECURITY_WEAK);
	assert_int_equal(credstore_judge(&s, 257), STORE_SECURITY_SECURE);
	assert_string_equal(credstore_weak_reason(&s),
			    "it is on tmpfs with noswap, which systemd before 257 does not count as secure");
	credstore_free(&s);
}

/* The store's capacity is read, not assumed: tmpfs size= (in k) and nr_inodes= of the store's
 * own mount; /run's tmpfs under a plain directory, or ramfs, gives no limit. */
static void test_store_limits_come_from_the_stores_own_mount(void **state)
{
	struct credstore s;
	struct store_limits l;

	judge(ROOT_LINE RUN_LINE TMPFS_NOSWAP_LINE, 257, &s);
	s.exists = true;
	assert_int_equal(s.size_limit, 1024 * 1024);
	assert_int_equal(s.inode_limit, 1024);
	credstore_limits(&s, &l);
	assert_true(l.observed);
	assert_string_equal(l.fs, "tmpfs");
	assert_int_equal(l.size_bytes, 1048576);
	assert_int_equal(l.inodes, 1024);
	credstore_free(&s);

	judge(ROOT_LINE RUN_LINE, 257, &s);   /* a plain directory on /run */
	s.exists = true;
	credstore_limits(&s, &l);
	assert_false(l.observed);
	assert_int_equal(l.size_bytes, 0);
	credstore_free(&s);

	judge(ROOT_LINE RUN_LINE RAMFS_LINE, 252, &s);
	s.exists = true;
	credstore_limits(&s, &l);
	assert_true(l.observed);
	assert_int_equal(l.size_bytes + l.inodes, 0);
	credstore_free(&s);
}

static void test_tmpfs_without_noswap_is_weak_on_every_version(void **state)
{
	struct credstore s;
	assert_int_equal(judge(ROOT_LINE RUN_LINE TMPFS_LINE, 257, &s), STORE_SECURITY_WEAK);
	assert_int_equal(credstore_judge(&s, 252), STORE_SECURITY_WEAK);
	assert_string_equal(credstore_weak_reason(&s),
			    "it is on tmpfs without noswap, so its contents can be swapped to disk");
	credstore_free(&s);
}

static void test_plain_directory_on_run_is_weak_and_writable(void **state)
{
	struct credstore s;
	/* v252's fallback when the ramfs mount fails: the directory on /run's tmpfs */
	assert_int_equal(judge(ROOT_LINE RUN_LINE, 252, &s), STORE_SECURITY_WEAK);
	assert_string_equal(s.mount_point, "/run");
	assert_false(s.is_mount_point);
	assert_false(s.read_only);
	credstore_free(&s);
}

static void test_later_mount_on_same_point_wins(void **state)
{
	struct credstore s;
	assert_int_equal(judge(RUN_LINE TMPFS_LINE RAMFS_LINE, 252, &s), STORE_SECURITY_SECURE);
	assert_string_equal(s.fs_type, "ramfs");
	credstore_free(&s);
}

static void test_escaped_mount_point_is_unescaped(void **state)
{
	struct credstore s;
	memset(&s, 0, sizeof s);
	assert_int_equal(credstore_parse_mountinfo("5 1 0:1 / /a\\040b rw - ramfs r rw\n", "/a b/c", &s), 0);
	assert_string_equal(s.mount_point, "/a b");
	credstore_free(&s);
}

static void test_no_mountinfo_match_is_unknown(void **state)
{
	struct credstore s;
	assert_int_equal(judge("garbage line\n", 257, &s), STORE_SECURITY_UNKNOWN);
	assert_false(s.fs_known);
	credstore_free(&s);
}

static void write_file(const char *path, const char *data, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_store_files_read_with_mode_and_links_refused(void **state)
{
	char root[] = "/tmp/credstore-test-XXXXXX", path[512];
	struct credstore s;
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof path, "mkdir -p %s/run/credentials/@system %s/proc/self", root, root);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
	write_file(path, ROOT_LINE RUN_LINE TMPFS_NOSWAP_LINE, 0644);
	snprintf(path, sizeof path, "%s/run/credentials/@system/FOO", root);
	write_file(path, "bar", 0400);
	snprintf(path, sizeof path, "%s/run/credentials/@system/LOOSE", root);
	write_file(path, "x\n", 0644);
	snprintf(path, sizeof path, "%s/run/credentials/@system/LINK", root);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof path, "%s/run/credentials/@system/DIR", root);
	assert_int_equal(mkdir(path, 0700), 0);

	assert_int_equal(credstore_load(root, 257, &s, NULL), 0);
	assert_true(s.exists);
	assert_int_equal(s.security, STORE_SECURITY_SECURE);
	assert_int_equal(s.n_files, 4);
	assert_string_equal(s.files[0].name, "DIR");
	assert_int_equal(s.files[0].problem, STORE_FILE_NOT_REGULAR);
	assert_string_equal(s.files[1].name, "FOO");
	assert_int_equal(s.files[1].problem, STORE_FILE_OK);
	assert_int_equal(s.files[1].size, 3);
	assert_memory_equal(s.files[1].data, "bar", 3);
	assert_int_equal(s.files[1].mode & 07777, 0400);
	assert_false(store_file_insecure(&s.files[1]));
	assert_string_equal(s.files[2].name, "LINK");
	assert_int_equal(s.files[2].problem, STORE_FILE_SYMLINK);
	assert_null(s.files[2].data);
	assert_string_equal(s.files[3].name, "LOOSE");
	assert_true(store_file_insecure(&s.files[3]));
	assert_non_null(credstore_find(&s, "FOO"));
	assert_null(credstore_find(&s, "NOPE"));
	credstore_free(&s);

	assert_int_equal(credstore_load(root, 254, &s, NULL), 0);
	assert_int_equal(s.security, STORE_SECURITY_WEAK);
	credstore_free(&s);
	snprintf(path, sizeof path, "rm -rf %s", root);
	assert_int_equal(system(path), 0);
}

static void test_missing_store_directory_is_a_state_not_an_error(void **state)
{
	struct credstore s;
	assert_int_equal(credstore_load("/nonexistent-credscope-root", 252, &s, NULL), 0);
	assert_false(s.exists);
	assert_int_equal(s.n_files, 0);
	credstore_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ramfs_store_is_secure_on_every_version),
		cmocka_unit_test(test_tmpfs_noswap_is_weak_before_257_and_secure_from_257),
		cmocka_unit_test(test_tmpfs_without_noswap_is_weak_on_every_version),
		cmocka_unit_test(test_store_limits_come_from_the_stores_own_mount),
		cmocka_unit_test(test_plain_directory_on_run_is_weak_and_writable),
		cmocka_unit_test(test_later_mount_on_same_point_wins),
		cmocka_unit_test(test_escaped_mount_point_is_unescaped),
		cmocka_unit_test(test_no_mountinfo_match_is_unknown),
		cmocka_unit_test(test_store_files_read_with_mode_and_links_refused),
		cmocka_unit_test(test_missing_store_directory_is_a_state_not_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
