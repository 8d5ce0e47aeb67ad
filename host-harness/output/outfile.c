/* outfile: checking a report file can be written before the run. */
#include "output/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int outfile_check_writable(const char *path)
{
	struct stat st;
	char *tmp;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return -EISDIR;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644), r = fd < 0 ? -errno : 0;
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	return r;
}

int outfile_write(const char *path, int (*write)(FILE *f, const void *ctx), const void *ctx)
{
	char *tmp;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	FILE *f = fopen(tmp, "we");
	int r = f ? write(f, ctx) : -errno;
	if (f && fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}
