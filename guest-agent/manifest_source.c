/* manifest_source: the manifest's bytes from a file or from a labelled filesystem. */
#include "manifest_source.h"

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "manifest.h"
#include "secret.h"

static int fail(char **error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **error, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(error, fmt, ap) < 0)
		*error = NULL;
	va_end(ap);
	return r;
}

/* Reads the child's pipe to EOF: at most MAX bytes, -EFBIG beyond (a pipe is no regular
 * file, so fd_read_bounded() does not apply; one buffer of MAX + 1 bytes shows "more"). */
static int read_pipe(int fd, size_t max, uint8_t **out, size_t *out_len)
{
	uint8_t *buf = malloc(max + 2);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = fd_read_full(fd, buf, max + 1);
	if (n < 0 || (size_t)n > max) {
		secret_free(buf, max + 2);
		return n < 0 ? (int)n : -EFBIG;
	}
	buf[n] = 0;
	*out = buf;
	*out_len = (size_t)n;
	return 0;
}

int manifest_source_file(const char *path, struct manifest_bytes *out, char **error)
{
	memset(out, 0, sizeof *out);
	int fd = file_open_regular(AT_FDCWD, path);
	if (fd < 0)
		return fail(error, fd, "%s: cannot open the manifest: %s", path, file_error_text(fd));
	int r = fd_read_bounded(fd, MANIFEST_MAX_SIZE, &out->data, &out->len);
	close(fd);
	if (r == -EFBIG)
		return fail(error, r, "%s: larger than the %u byte manifest limit", path, MANIFEST_MAX_SIZE);
	if (r < 0)
		return fail(error, r, "%s: cannot read the manifest: %s", path, strerror(-r));
	if (asprintf(&out->source, "file:%s", path) < 0) {
		manifest_bytes_free(out);
		return fail(error, -ENOMEM, "out of memory");
	}
	return 0;
}

int manifest_label_lookup(const char *label, char **devname, char **fstype)
{
	blkid_cache cache = NULL;
	*devname = *fstype = NULL;
	/* "/dev/null": no stale cache file; probe what the kernel has now */
	if (blkid_get_cache(&cache, "/dev/null") < 0)
		return -ENOMEM;
	blkid_probe_all(cache);
	blkid_dev dev = blkid_find_dev_with_tag(cache, "LABEL", label);
	int r = -ENODEV;
	if (dev) {
		*devname = strdup(blkid_dev_devname(dev));
		*fstype = blkid_get_tag_value(cache, "TYPE", blkid_dev_devname(dev));
		r = *devname ? 0 : -ENOMEM;
	}
	blkid_put_cache(cache);
	return r;
}

static void report_child_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_child_error(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	buf[0] = 'E';
	va_start(ap, fmt);
	int n = vsnprintf(buf + 1, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(fd, buf, 1 + ((size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 2));
}

/* Runs in the child: private namespace, read-only mount, manifest.json down the pipe. */
static int child_read(const char *dev, const char *fstype, const char *dir, int out)
{
	if (unshare(CLONE_NEWNS) < 0) {
		report_child_error(out, "cannot create a private mount namespace: %s", strerror(errno));
		return 1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		report_child_error(out, "cannot make / private: %s", strerror(errno));
		return 1;
	}
	if (mount(dev, dir, fstype, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		report_child_error(out, "mounting %s (%s) read-only failed: %s", dev, fstype, strerror(errno));
		return 1;
	}
	/* O_NOFOLLOW: a symlink on the disk must not point the reader elsewhere; O_NONBLOCK
	 * and fd_read_bounded()'s type check: a FIFO there must not hang the boot. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = dfd < 0 ? -1 : openat(dfd, MANIFEST_FILE_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		report_child_error(out, "%s on %s: %s", MANIFEST_FILE_NAME, dev, strerror(errno));
		return 1;
	}
	uint8_t *data;
	size_t len;
	int r = fd_read_bounded(fd, MANIFEST_MAX_SIZE, &data, &len);
	if (r < 0) {
		report_child_error(out, "%s on %s: %s", MANIFEST_FILE_NAME, dev,
				   r == -EFBIG ? "larger than the manifest limit" : file_error_text(r));
		return 1;
	}
	if (fd_write_full(out, "O", 1) < 0 || fd_write_full(out, data, len) < 0)
		return 1;
	return 0;
}

static int mount_and_read(const char *dev, const char *fstype, struct manifest_bytes *out, char **error)
{
	char dir[] = "/run/credscope-manifest.XXXXXX";
	int p[2], status = 0;
	if (!mkdtemp(dir))
		return fail(error, -errno, "cannot create a mount point in /run: %s", strerror(errno));
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;
		rmdir(dir);
		return fail(error, -e, "pipe: %s", strerror(e));
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(child_read(dev, fstype, dir, p[1]));
	}
	close(p[1]);
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = pid < 0 ? -errno : read_pipe(p[0], MANIFEST_MAX_SIZE + 1, &buf, &len);
	close(p[0]);
	if (pid > 0)
		(void)waitpid(pid, &status, 0);
	rmdir(dir);
	if (pid < 0)
		return fail(error, r, "fork: %s", strerror(-r));
	if (r < 0 || len == 0) {
		secret_free(buf, len);
		return fail(error, r < 0 ? r : -EIO, "reading the manifest from %s failed: %s", dev,
			    r == -EFBIG ? "larger than the manifest limit" : r < 0 ? strerror(-r) : "the reader died");
	}
	if (buf[0] != 'O') {
		r = fail(error, -EIO, "%s", (char *)buf + 1);
		secret_free(buf, len);
		return r;
	}
	memmove(buf, buf + 1, len - 1);
	buf[len - 1] = 0;
	out->data = buf;
	out->len = len - 1;
	return 0;
}

int manifest_source_label(const char *label, unsigned wait_seconds, struct manifest_bytes *out, char **error)
{
	char *dev = NULL, *fstype = NULL;
	struct timespec nap = { 0, 200 * 1000 * 1000 };
	long long deadline = mono_ms() + (long long)wait_seconds * 1000;
	int r;
	memset(out, 0, sizeof *out);
	/* the expectations disk may still be probing early in boot: poll, do not wait for udev */
	while ((r = manifest_label_lookup(label, &dev, &fstype)) == -ENODEV) {
		if (mono_ms() >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	if (r == -ENODEV)
		return fail(error, r, "no block device has a filesystem labelled \"%s\"%s: attach the "
			    "expectations disk, or pass --manifest FILE", label,
			    wait_seconds ? " (waited)" : "");
	if (r < 0)
		return fail(error, r, "libblkid could not scan for label \"%s\": %s", label, strerror(-r));
	if (!fstype) {
		r = fail(error, -EMEDIUMTYPE, "%s (label \"%s\"): libblkid reports no filesystem type", dev, label);
		free(dev);
		return r;
	}
	r = mount_and_read(dev, fstype, out, error);
	free(fstype);
	if (r < 0) {
		free(dev);
		return r;
	}
	out->device = dev;
	if (asprintf(&out->source, "label:%s", label) < 0) {
		manifest_bytes_free(out);
		return fail(error, -ENOMEM, "out of memory");
	}
	return 0;
}

int manifest_source_fw_cfg(const char *root, struct manifest_bytes *out, char **error)
{
	char path[4200];
	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "%s" MANIFEST_FW_CFG_RAW, strcmp(root, "/") == 0 ? "" : root);
	int r = file_read_bounded(AT_FDCWD, path, MANIFEST_MAX_SIZE, &out->data, &out->len);
	if (r == -ENOENT || r == -ENOTDIR)
		return -ENOENT;   /* not passed: the caller tries the disk */
	if (r == -EFBIG)
		return fail(error, r, "%s: larger than the %u byte manifest limit", path, MANIFEST_MAX_SIZE);
	if (r < 0)
		return fail(error, r, "%s: cannot read the manifest: %s", path, file_error_text(r));
	if (asprintf(&out->source, "fw_cfg:" MANIFEST_FW_CFG_ENTRY) < 0) {
		manifest_bytes_free(out);
		return fail(error, -ENOMEM, "out of memory");
	}
	return 0;
}

void manifest_bytes_free(struct manifest_bytes *m)
{
	secret_free(m->data, m->len);   /* it carries the per-run HMAC key */
	free(m->source);
	free(m->device);
	memset(m, 0, sizeof *m);
}
