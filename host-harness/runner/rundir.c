/* rundir: run directories with an owner file, and the sweep of stale ones. */
#include "runner/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

#define OWNER_MAX 128u
#define STAT_MAX 4096u

const char *rundir_tmp(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
}

int rundir_proc_start(pid_t pid, unsigned long long *start, bool *zombie)
{
	char path[64], *p, *save = NULL;
	uint8_t *buf;
	size_t len;
	int r, field = 2;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((r = file_read_bounded(AT_FDCWD, path, STAT_MAX, &buf, &len)) < 0)
		return r == -ENOENT || r == -ESRCH ? -ENOENT : r;
	/* "PID (COMM) STATE ..." and COMM may hold blanks and ')': fields follow the last ')' */
	p = strrchr((char *)buf, ')');
	r = -EIO;
	for (char *t = p ? strtok_r(p + 1, " \n", &save) : NULL; t; t = strtok_r(NULL, " \n", &save)) {
		field++;
		if (field == 3)
			*zombie = strcmp(t, "Z") == 0 || strcmp(t, "X") == 0;
		if (field == 22) {
			char *end;
			errno = 0;
			*start = strtoull(t, &end, 10);
			r = errno || *end || end == t ? -EIO : 0;
			break;
		}
	}
	free(buf);
	return r;
}

int rundir_owner_parse(const char *text, size_t len, pid_t *pid, unsigned long long *start)
{
	char copy[OWNER_MAX + 1], tail;
	int p;

	if (len > OWNER_MAX || memchr(text, 0, len))
		return -EINVAL;
	memcpy(copy, text, len);
	copy[len] = 0;
	if (sscanf(copy, "credscope-run 1\npid %d\nstart %llu%c", &p, start, &tail) != 3 || tail != '\n' || p <= 0)
		return -EINVAL;
	/* exactly the canonical bytes: no signs, no leading zeros, nothing after */
	char canon[OWNER_MAX + 1];
	snprintf(canon, sizeof canon, "credscope-run 1\npid %d\nstart %llu\n", p, *start);
	if (strcmp(canon, copy))
		return -EINVAL;
	*pid = p;
	return 0;
}

static int write_owner(const char *dir)
{
	unsigned long long start;
	bool zombie;
	char *path, text[OWNER_MAX];
	int r = rundir_proc_start(getpid(), &start, &zombie), fd;

	if (r < 0)
		return r;
	if (asprintf(&path, "%s/%s", dir, RUNDIR_OWNER_FILE) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return -errno;
	int n = snprintf(text, sizeof text, "credscope-run 1\npid %d\nstart %llu\n", (int)getpid(), start);
	r = fd_write_full(fd, text, (size_t)n);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int rundir_create(const char *tmp, const char *name, char **path)
{
	int r;

	*path = NULL;
	if (asprintf(path, "%s/" RUNDIR_PREFIX "%s-XXXXXX", tmp, name) < 0) {
		*path = NULL;
		return -ENOMEM;
	}
	if (!mkdtemp(*path)) {
		r = -errno;
	} else if ((r = write_owner(*path)) < 0) {
		(void)rm_tree(*path);
	} else
		return 0;
	free(*path);
	*path = NULL;
	return r;
}

void rundir_disown(const char *path)
{
	char *owner;

	if (asprintf(&owner, "%s/%s", path, RUNDIR_OWNER_FILE) < 0)
		return;
	(void)unlink(owner);
	free(owner);
}

/* The owner of the directory DFD, when it has a valid owner file of UID. */
static int read_owner(int dfd, uid_t uid, pid_t *pid, unsigned long long *start)
{
	int fd = openat(dfd, RUNDIR_OWNER_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	size_t len;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != uid) {
		close(fd);
		return -EPERM;
	}
	r = fd_read_bounded(fd, OWNER_MAX, &buf, &len);
	close(fd);
	if (r < 0)
		return r;
	r = rundir_owner_parse((const char *)buf, len, pid, start);
	free(buf);
	return r;
}

static bool owner_gone(pid_t pid, unsigned long long start)
{
	unsigned long long now_start;
	bool zombie = false;
	int r = rundir_proc_start(pid, &now_start, &zombie);

	if (r == -ENOENT)
		return true;
	return r == 0 && (zombie || now_start != start);   /* unreadable: assume it runs */
}

int rundir_sweep(const char *tmp, void (*removed)(const char *path, pid_t pid, void *ctx), void *ctx)
{
	DIR *d = opendir(tmp);
	uid_t uid = geteuid();
	int n = 0;

	if (!d)
		return -errno;
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		unsigned long long start;
		pid_t pid;
		char *path;

		if (strncmp(e->d_name, RUNDIR_PREFIX, strlen(RUNDIR_PREFIX)))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid)
			continue;
		int dfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		struct stat again;
		int r = fstat(dfd, &again) < 0 || again.st_ino != st.st_ino || again.st_dev != st.st_dev
				? -ESTALE
				: read_owner(dfd, uid, &pid, &start);
		close(dfd);
		if (r < 0 || !owner_gone(pid, start))
			continue;
		if (asprintf(&path, "%s/%s", tmp, e->d_name) < 0)
			break;
		if (rm_tree(path) == 0) {
			n++;
			if (removed)
				removed(path, pid, ctx);
		}
		free(path);
	}
	closedir(d);
	return n;
}
