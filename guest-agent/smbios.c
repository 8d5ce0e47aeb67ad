/* smbios: reading dmi-sysfs entries and parsing SMBIOS bytes. See smbios.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "smbios.h"

/* Upper bound for one entry: systemd reads at most 8 + 1 MiB; the kernel's table is far
 * smaller in practice. Anything beyond 16 MiB is not SMBIOS. */
#define SMBIOS_READ_MAX (16u * 1024u * 1024u)

static char *path_join(const char *root, const char *rel)
{
	char *p;
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (n == 1 && root[0] == '/')
		n = 0;
	if (asprintf(&p, "%.*s%s", (int) n, root, rel) < 0)
		return NULL;
	return p;
}

/* Reads a whole file with a read() loop until EOF. The buffer grows by doubling; old buffers
 * are cleared before they are freed because the bytes may be secrets. */
int smbios_read_file(const char *path, uint8_t **out, size_t *out_len)
{
	size_t cap = 4096, len = 0;
	uint8_t *buf;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t k;

		if (len == cap) {
			uint8_t *nbuf;

			if (cap >= SMBIOS_READ_MAX) {
				r = -EFBIG;
				break;
			}
			nbuf = malloc(cap * 2);
			if (!nbuf) {
				r = -ENOMEM;
				break;
			}
			memcpy(nbuf, buf, len);
			secret_clear(buf, cap);
			free(buf);
			buf = nbuf;
			cap *= 2;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		len += (size_t) k;
	}
	close(fd);
	if (r < 0) {
		secret_clear(buf, cap);
		free(buf);
		return r;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

void raw_blobs_free(struct raw_blob *b, size_t n)
{
	if (!b)
		return;
	for (size_t i = 0; i < n; i++) {
		secret_clear(b[i].data, b[i].len);
		free(b[i].data);
		free(b[i].name);
	}
	free(b);
}

static int entries_append(struct raw_blob **v, size_t *n, unsigned idx, uint8_t *data, size_t len)
{
	struct raw_blob *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (asprintf(&nv[*n].name, "11-%u", idx) < 0)
		return -ENOMEM;
	nv[*n].data = data;
	nv[*n].len = len;
	(*n)++;
	return 0;
}

int smbios_read_entries(const char *root, struct raw_blob **out, size_t *n_out, bool *dmi_sysfs_present)
{
	struct raw_blob *v = NULL;
	size_t n = 0;
	char *dir;
	struct stat st;
	int r = 0;

	dir = path_join(root, "/sys/firmware/dmi/entries");
	if (!dir)
		return -ENOMEM;
	*dmi_sysfs_present = stat(dir, &st) == 0;
	/* Same scan as systemd: 11-0 upward, first ENOENT ends it, no look past gaps. */
	for (unsigned i = 0; i < UINT_MAX; i++) {
		uint8_t *data;
		size_t len;
		char *path;

		if (asprintf(&path, "%s/11-%u/raw", dir, i) < 0) {
			r = -ENOMEM;
			break;
		}
		r = smbios_read_file(path, &data, &len);
		if (r == -ENOENT) {
			free(path);
			r = 0;
			break;
		}
		if (r < 0) {
			fprintf(stderr, "credscope: cannot read %s: %s\n", path, strerror(-r));
			free(path);
			break;
		}
		free(path);
		r = entries_append(&v, &n, i, data, len);
		if (r < 0) {
			secret_clear(data, len);
			free(data);
			break;
		}
	}
	free(dir);
	if (r < 0) {
		raw_blobs_free(v, n);
		return r;
	}
	*out = v;
	*n_out = n;
	return 0;
}
