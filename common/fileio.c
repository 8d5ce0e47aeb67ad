/* fileio: bounded, non-blocking-open reads and EINTR-safe full reads and writes. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

/* 0 for a regular file (its st_size into *SIZE when SIZE is not NULL), else why not. */
static int check_regular(int fd, off_t *size)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (size)
		*size = st.st_size;
	if (S_ISREG(st.st_mode))
		return 0;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return -ESPIPE;
	return -ENODEV;
}

int file_open_regular(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENXIO ? -ESPIPE : -errno;   /* ENXIO: a socket opened by path */
	int r = check_regular(fd, NULL);
	int fl = r == 0 ? fcntl(fd, F_GETFL) : -1;
	if (r == 0 && (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0))
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Grows by copying, not realloc: the old block may hold secret bytes and must be cleared. */
static int grow(uint8_t **buf, size_t len, size_t *cap)
{
	uint8_t *nb = malloc(*cap * 2);
	if (!nb)
		return -ENOMEM;
	memcpy(nb, *buf, len);
	secret_clear(*buf, *cap);
	free(*buf);
	*buf = nb;
	*cap *= 2;
	return 0;
}

int fd_read_bounded(int fd, size_t max, uint8_t **out, size_t *out_len)
{
	off_t size;
	int r = check_regular(fd, &size);
	if (r < 0)
		return r;
	/* st_size is a hint (procfs says 0, sysfs 4096): a buffer of st_size + 2 holds the whole
	 * file and sees EOF without growing, so 1,000 small store files do not take a page each */
	size_t cap = size > 0 && (size_t)size <= max ? (size_t)size + 2 : 4096, len = 0;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len + 1 >= cap && (r = grow(&buf, len, &cap)) < 0)
			break;
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno == EAGAIN ? -EIO : -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = -EFBIG;
			break;
		}
	}
	if (r < 0) {
		secret_clear(buf, cap);
		free(buf);
		return r;
	}
	buf[len] = 0;
	*out = buf;
	*out_len = len;
	return 0;
}

int file_read_bounded(int dirfd, const char *path, size_t max, uint8_t **out, size_t *out_len)
{
	int fd = file_open_regular(dirfd, path);
	if (fd < 0)
		return fd;
	int r = fd_read_bounded(fd, max, out, out_len);
	close(fd);
	return r;
}

const char *file_error_text(int err)
{
	switch (err < 0 ? -err : err) {
	case EISDIR:
		return "is a directory, not a regular file";
	case ESPIPE:
		return "is a FIFO or socket, not a regular file";
	case ENODEV:
		return "is a device, not a regular file";
	case EFBIG:
		return "is larger than the limit";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

ssize_t fd_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int fd_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, (const uint8_t *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int file_copy(const char *from, const char *to)
{
	int in = file_open_regular(AT_FDCWD, from);
	if (in < 0)
		return in;
	int outfd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = outfd < 0 ? -errno : 0;
	char buf[65536];
	while (r == 0) {
		ssize_t n = fd_read_full(in, buf, sizeof buf);
		if (n <= 0) {
			r = (int)n;
			break;
		}
		r = fd_write_full(outfd, buf, (size_t)n);
	}
	close(in);
	if (outfd >= 0 && close(outfd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Declared in secret.h (the reader secrets use); defined here so that secret.c, which
 * fileio.c needs for clearing, does not need fileio.c back. */
int secret_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len)
{
	return file_read_bounded(AT_FDCWD, path, max, out, out_len);
}

static int rm_tree_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	/* never stop the walk: the rest of the tree still goes */
	(void)(flag == FTW_DP ? rmdir(path) : unlink(path));
	return 0;
}

int rm_tree(const char *path)
{
	if (nftw(path, rm_tree_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return -errno;
	return access(path, F_OK) == 0 ? -ENOTEMPTY : 0;
}
