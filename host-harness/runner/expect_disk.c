/* expect_disk: manifest.json on a labelled ext4 image via mkfs.ext4 -d. */
#include "runner/expect_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPECT_DISK_BYTES (4 * 1024 * 1024)

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return w < 0 ? -errno : -EIO;
		}
		data += w;
		len -= (size_t)w;
	}
	return close(fd) < 0 ? -errno : 0;
}

/* Runs argv with stdout+stderr into a pipe; *out gets the first 1 KiB of it. Returns the
 * exit status or -errno. */
static int run_capture(char *const argv[], char *out, size_t outsz)
{
	int p[2], status;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int null_fd = open("/dev/null", O_RDONLY);
		dup2(null_fd, 0), dup2(p[1], 1), dup2(p[1], 2);
		execv(argv[0], argv);
		execvp(strrchr(argv[0], '/') + 1, argv);
		_exit(127);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	char sink[512];
	while ((n = read(p[0], len + 1 < outsz ? out + len : sink,
			 len + 1 < outsz ? outsz - 1 - len : sizeof sink)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && len + 1 < outsz)
			len += (size_t)n;
	out[len] = 0;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int make_image(const char *content_dir, const char *img, char **error)
{
	char out[1024];
	int fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, EXPECT_DISK_BYTES) < 0) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			(void)unlink(img);
		}
		if (asprintf(error, "%s: cannot create: %s", img, strerror(e)) < 0)
			*error = NULL;
		return -e;
	}
	close(fd);
	char *argv[] = { "/sbin/mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-L", EXPECT_DISK_LABEL,
			 "-E", "root_owner=0:0", "-d", (char *)content_dir, (char *)img, NULL };
	int r = run_capture(argv, out, sizeof out);
	if (r != 0) {
		(void)unlink(img);   /* it was ours (O_EXCL): a half-made image must not look usable */
		if (asprintf(error, "mkfs.ext4 -d %s %s failed (%s %d): %s (is e2fsprogs installed?)", content_dir, img,
			     r < 0 ? "error" : "exit status", r < 0 ? -r : r, out) < 0)
			*error = NULL;
		return r < 0 ? r : -EIO;
	}
	return 0;
}

int expect_disk_create(const char *dir, const char *manifest_json, char **image, char **error)
{
	char *content = NULL, *file = NULL, *img = NULL;
	int r = -ENOMEM;
	*error = NULL;
	*image = NULL;
	if (asprintf(&content, "%s/expect", dir) < 0 || asprintf(&file, "%s/expect/manifest.json", dir) < 0 ||
	    asprintf(&img, "%s/expect.img", dir) < 0)
		goto out;
	if (mkdir(content, 0700) < 0) {
		r = -errno;
		if (asprintf(error, "%s: cannot create the manifest directory: %s", content, strerror(-r)) < 0)
			*error = NULL;
		goto out;
	}
	r = write_file(file, manifest_json, strlen(manifest_json));
	if (r < 0) {
		if (asprintf(error, "%s: cannot write the manifest: %s", file, strerror(-r)) < 0)
			*error = NULL;
	} else
		r = make_image(content, img, error);
	if (r == 0) {
		*image = img;
		img = NULL;
	} else {   /* leave nothing half-written behind: a cut manifest, an empty image */
		(void)unlink(file);
		(void)rmdir(content);
	}
out:
	free(content), free(file), free(img);
	return r;
}
