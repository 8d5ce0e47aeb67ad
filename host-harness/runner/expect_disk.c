/* expect_disk: manifest.json (and, for zero-install, the static agent) on a labelled ext4
 * image via mkfs.ext4 -d. */
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

#include "fileio.h"

#define EXPECT_DISK_BYTES (4 * 1024 * 1024)

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = fd_write_full(fd, data, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
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
	ssize_t len = fd_read_full(p[0], out, outsz - 1);
	char sink[512];
	/* Drain the rest so the child never blocks on a full pipe before it exits. */
	while (len == (ssize_t)(outsz - 1) && fd_read_full(p[0], sink, sizeof sink) > 0)
		;
	out[len < 0 ? 0 : len] = 0;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int make_image(const char *content_dir, const char *img, off_t bytes, char **error)
{
	char out[1024];
	int fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, bytes) < 0) {
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

/* The agent as DIR/expect/credscope, 0755 (mkfs.ext4 -d keeps the mode); *bytes grows by
 * its size and room for the file system's own blocks. */
static int copy_agent(const char *agent, const char *to, off_t *bytes, char **error)
{
	struct stat st;
	int r = file_copy(agent, to);

	if (r == 0 && (stat(to, &st) < 0 || chmod(to, 0755) < 0))
		r = -errno;
	if (r < 0) {
		if (asprintf(error, "%s: cannot copy the agent onto the disk: %s", agent, strerror(-r)) < 0)
			*error = NULL;
		return r;
	}
	*bytes += (st.st_size + st.st_size / 8 + (1 << 20)) & ~(off_t)((1 << 20) - 1);
	return 0;
}

int expect_disk_create_with(const char *dir, const char *manifest_json, const char *agent, char **image, char **error)
{
	char *content = NULL, *file = NULL, *img = NULL, *bin = NULL;
	off_t bytes = EXPECT_DISK_BYTES;
	int r = -ENOMEM;
	*error = NULL;
	*image = NULL;
	if (asprintf(&content, "%s/expect", dir) < 0 || asprintf(&file, "%s/expect/manifest.json", dir) < 0 ||
	    asprintf(&bin, "%s/expect/" EXPECT_DISK_AGENT, dir) < 0 || asprintf(&img, "%s/expect.img", dir) < 0)
		goto out;
	if (mkdir(content, 0700) < 0) {
		r = -errno;
		if (asprintf(error, "%s: cannot create the manifest directory: %s", content, strerror(-r)) < 0)
			*error = NULL;
		goto out;
	}
	r = manifest_json ? write_file(file, manifest_json, strlen(manifest_json)) : 0;
	if (r < 0) {
		if (asprintf(error, "%s: cannot write the manifest: %s", file, strerror(-r)) < 0)
			*error = NULL;
	} else if (!agent || (r = copy_agent(agent, bin, &bytes, error)) == 0)
		r = make_image(content, img, bytes, error);
	if (r == 0) {
		*image = img;
		img = NULL;
	}
	/* the manifest (it holds the run's HMAC key) is in the image now, or the image failed:
	 * either way the plain file goes, and nothing half-written stays behind */
	(void)unlink(file);
	(void)unlink(bin);
	(void)rmdir(content);
out:
	free(content), free(file), free(img), free(bin);
	return r;
}

int expect_disk_create(const char *dir, const char *manifest_json, char **image, char **error)
{
	return expect_disk_create_with(dir, manifest_json, NULL, image, error);
}
