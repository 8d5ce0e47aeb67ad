/* temp_root: writing files into a guest root tree made in /tmp, for the unit tests that run
 * the agent's loaders over one (test_sources.c, test_pid1_log.c). Header-only, like
 * vsock_fake_guest.h, so each test binary stays self-contained; include it after <cmocka.h>. */
#pragma once
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates every directory of PATH above its last component (PATH is restored). */
static inline void mkdir_parents(char *path)
{
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			(void) mkdir(path, 0755);
			*p = '/';
		}
}

/* ROOT + REL (REL starts with '/') with exactly LEN bytes of DATA, its directories made. */
static inline void put(const char *root, const char *rel, const void *data, size_t len)
{
	char *path;
	int fd;

	assert_true(asprintf(&path, "%s%s", root, rel) > 0);
	mkdir_parents(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t) len);
	close(fd);
	free(path);
}

static inline void puts_at(const char *root, const char *rel, const char *s)
{
	put(root, rel, s, strlen(s));
}
