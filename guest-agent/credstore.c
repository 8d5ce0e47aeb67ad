/* credstore: reads /run/credentials/@system under a root and judges its filesystem. */
#include "credstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "secret.h"
#include "strutil.h"
#include "systemd/versions.h"

#define MOUNTINFO_MAX (16u * 1024u * 1024u)

const char *store_security_name(enum store_security sec)
{
	switch (sec) {
	case STORE_SECURITY_SECURE: return "secure";
	case STORE_SECURITY_WEAK: return "weak";
	case STORE_SECURITY_UNKNOWN: break;
	}
	return "unknown";
}

const char *store_file_problem_name(enum store_file_problem p)
{
	switch (p) {
	case STORE_FILE_OK: return "ok";
	case STORE_FILE_SYMLINK: return "symlink";
	case STORE_FILE_NOT_REGULAR: return "not-regular";
	case STORE_FILE_UNREADABLE: return "unreadable";
	case STORE_FILE_TOO_LARGE: return "too-large";
	}
	return "?";
}

bool store_file_insecure(const struct store_file *f)
{
	return (f->mode & 0377) != 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r; ) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 4;
		} else
			*w++ = *r++;
	}
	*w = '\0';
}

static bool path_covers(const char *mp, const char *path)
{
	size_t n = strlen(mp);
	if (strcmp(mp, "/") == 0)
		return path[0] == '/';
	return strncmp(mp, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool has_option(const char *opts, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = opts; p && *p; ) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, opt, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* The value of OPT=... in a comma-separated list, with tmpfs's k/m/g suffixes; 0 when absent
 * or malformed. */
static uint64_t option_size(const char *opts, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = opts; p && *p; ) {
		const char *end = strchr(p, ',');
		if (strncmp(p, opt, n) == 0 && p[n] == '=') {
			char *e;
			unsigned long long v = strtoull(p + n + 1, &e, 10);
			uint64_t mul = *e == 'k' || *e == 'K' ? 1024u : *e == 'm' || *e == 'M' ? 1024u * 1024u :
				       *e == 'g' || *e == 'G' ? 1024u * 1024u * 1024u : 1;
			if (e == p + n + 1)
				return 0;
			if (mul > 1)
				e++;
			if (*e && *e != ',')
				return 0;
			return (uint64_t)v * mul;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

void credstore_limits(const struct credstore *s, struct store_limits *out)
{
	memset(out, 0, sizeof *out);
	if (!s->exists || !s->fs_known || !s->is_mount_point)
		return;
	out->observed = true;
	snprintf(out->fs, sizeof out->fs, "%s", s->fs_type);
	if (strcmp(s->fs_type, "tmpfs") == 0) {
		out->size_bytes = s->size_limit;
		out->inodes = s->inode_limit;
	}
}

/* Splits one mountinfo line into mount point, per-mount options, fstype, super options.
 * Returns false for a line that does not have that shape. */
static bool split_mountinfo_line(char *line, char **mp, char **mopts, char **fstype, char **sopts)
{
	char *save = NULL, *tok;
	int field = 0;
	*mp = *mopts = *fstype = *sopts = NULL;
	for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
		if (field == 4)
			*mp = tok;
		else if (field == 5)
			*mopts = tok;
		else if (field > 5 && strcmp(tok, "-") == 0) {
			*fstype = strtok_r(NULL, " \n", &save);
			(void)strtok_r(NULL, " \n", &save);   /* source */
			*sopts = strtok_r(NULL, " \n", &save);
			break;
		}
	}
	return *mp && *mopts && *fstype;
}

int credstore_parse_mountinfo(const char *text, const char *path, struct credstore *s)
{
	char *copy = strdup(text), *save = NULL;
	size_t best_len = 0;
	if (!copy)
		return -ENOMEM;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *mp, *mopts, *fstype, *sopts;
		if (!split_mountinfo_line(line, &mp, &mopts, &fstype, &sopts))
			continue;
		unescape_octal(mp);
		if (!path_covers(mp, path) || strlen(mp) < best_len)
			continue;
		/* later lines stack on earlier ones: ">=" keeps the last mount of a point */
		best_len = strlen(mp);
		free(s->fs_type);
		free(s->mount_point);
		free(s->mount_options);
		s->fs_type = strdup(fstype);
		s->mount_point = strdup(mp);
		if (asprintf(&s->mount_options, "%s%s%s", mopts, sopts ? "," : "", sopts ? sopts : "") < 0)
			s->mount_options = NULL;
		if (!s->fs_type || !s->mount_point || !s->mount_options) {
			free(copy);
			return -ENOMEM;
		}
		s->fs_known = true;
		s->is_mount_point = strcmp(mp, path) == 0;
		s->read_only = has_option(mopts, "ro") || (sopts && has_option(sopts, "ro"));
		s->noswap = has_option(mopts, "noswap") || (sopts && has_option(sopts, "noswap"));
		s->size_limit = sopts ? option_size(sopts, "size") : 0;
		s->inode_limit = sopts ? option_size(sopts, "nr_inodes") : 0;
	}
	free(copy);
	return 0;
}

enum store_security credstore_judge(const struct credstore *s, unsigned systemd_version)
{
	if (!s->fs_known)
		return STORE_SECURITY_UNKNOWN;
	if (strcmp(s->fs_type, "ramfs") == 0)
		return STORE_SECURITY_SECURE;
	/* From 257 (commit 2af17b5e) tmpfs mounted with noswap counts too; before, systemd-creds
	 * tests only for RAMFS_MAGIC and calls the same mount "weak". */
	if (strcmp(s->fs_type, "tmpfs") == 0 && s->noswap && systemd_release(systemd_version)->tmpfs_noswap_secure)
		return STORE_SECURITY_SECURE;
	return STORE_SECURITY_WEAK;
}

const char *credstore_weak_reason(const struct credstore *s)
{
	if (!s->fs_known)
		return "no mount covering it was found in /proc/self/mountinfo";
	if (strcmp(s->fs_type, "tmpfs") == 0 && s->noswap)
		return "it is on tmpfs with noswap, which systemd before 257 does not count as secure";
	if (strcmp(s->fs_type, "tmpfs") == 0)
		return "it is on tmpfs without noswap, so its contents can be swapped to disk";
	return "it is not on ramfs or a tmpfs with noswap, so its contents can reach disk";
}

static void load_file(int dfd, struct store_file *f, const struct credstore_share *share)
{
	struct stat st;
	if (fstatat(dfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		f->problem = STORE_FILE_UNREADABLE;
		f->error = errno;
		return;
	}
	f->size = (size_t)st.st_size;
	f->mode = st.st_mode;
	f->uid = st.st_uid;
	f->gid = st.st_gid;
	if (S_ISLNK(st.st_mode)) {
		f->problem = STORE_FILE_SYMLINK;
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		f->problem = STORE_FILE_NOT_REGULAR;
		return;
	}
	if (st.st_size > (off_t)CREDSTORE_FILE_MAX) {
		f->problem = STORE_FILE_TOO_LARGE;
		return;
	}
	/* O_NOFOLLOW: a file swapped for a symlink after the fstatat() is not followed;
	 * O_NONBLOCK and fd_read_bounded()'s type check: nor is one swapped for a FIFO. */
	int fd = openat(dfd, f->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		f->problem = STORE_FILE_UNREADABLE;
		f->error = errno;
		return;
	}
	int r = fd_read_bounded(fd, CREDSTORE_FILE_MAX, &f->data, &f->size);
	close(fd);
	if (r == -EFBIG)
		f->problem = STORE_FILE_TOO_LARGE;
	else if (r < 0) {
		f->problem = STORE_FILE_UNREADABLE;
		f->error = -r;
	} else if (share && share->same_bytes) {
		/* the same bytes are already held elsewhere: keep those, drop this copy */
		const uint8_t *same = share->same_bytes(share->userdata, f->name, f->data, f->size);
		if (same) {
			secret_free(f->data, f->size);
			f->data = (uint8_t *)same;
			f->shared = true;
		}
	}
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct store_file *)a)->name, ((const struct store_file *)b)->name);
}

static int load_files(int dfd, struct credstore *s, const struct credstore_share *share)
{
	DIR *d = fdopendir(dfd);
	size_t cap = 0;
	struct dirent *de;
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (s->n_files == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct store_file *nf = realloc(s->files, ncap * sizeof *nf);
			if (!nf)
				break;
			s->files = nf;
			cap = ncap;
		}
		struct store_file *f = &s->files[s->n_files];
		memset(f, 0, sizeof *f);
		if (!(f->name = strdup(de->d_name)))
			break;
		s->n_files++;
		load_file(dirfd(d), f, share);
	}
	int r = errno ? -errno : 0;
	closedir(d);
	if (r < 0)
		return r;
	if (s->n_files)
		qsort(s->files, s->n_files, sizeof *s->files, cmp_file);
	return 0;
}

/* An unreadable mountinfo (missing, a FIFO, too large) leaves fs_known false: the store is
 * then judged "unknown", which the findings explain. */
static int load_mountinfo(const char *root, struct credstore *s)
{
	char *path = NULL;
	int r;
	uint8_t *text = NULL;
	size_t len = 0;
	if (asprintf(&path, "%s/proc/self/mountinfo", root) < 0)
		return -ENOMEM;
	r = file_read_bounded(AT_FDCWD, path, MOUNTINFO_MAX, &text, &len);
	free(path);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	r = credstore_parse_mountinfo((char *)text, CREDSTORE_PATH, s);
	free(text);
	return r;
}

/* ROOT's store path, "" for "/" as root. */
static char *store_path(const char *root)
{
	return strprintf("%s%s", strcmp(root, "/") == 0 ? "" : root, CREDSTORE_PATH);
}

/* Opens ROOT's store directory: a directory fd, -ENOENT when there is none (a state), or
 * another -errno with *error naming the path (a non-directory or a symlink is an error).
 * *PATH (when PATH is not NULL) gets the path, malloc'd, on success. */
static int open_store(const char *root, char **path_out, char **error)
{
	char *path = store_path(root);
	if (!path)
		return -ENOMEM;
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	int r = dfd >= 0 ? dfd : -errno;
	if (r < 0 && r != -ENOENT && error)
		*error = strprintf("cannot open %s: %s", path, strerror(-r));
	if (path_out && r >= 0)
		*path_out = path;
	else
		free(path);
	return r;
}

int credstore_load_fs(const char *root, unsigned systemd_version, struct credstore *out, char **error)
{
	memset(out, 0, sizeof *out);
	if (error)
		*error = NULL;
	int r = open_store(root, NULL, error);
	if (r < 0 && r != -ENOENT)
		return r;
	out->exists = r >= 0;
	if (r >= 0)
		close(r);
	r = load_mountinfo(strcmp(root, "/") == 0 ? "" : root, out);
	if (r < 0) {
		credstore_free(out);
		return r;
	}
	out->judged_as = systemd_release_effective(systemd_version);
	out->security = credstore_judge(out, systemd_version);
	return 0;
}

int credstore_load_files(const char *root, struct credstore *out, const struct credstore_share *share,
			 char **error)
{
	char *path = NULL;
	if (error)
		*error = NULL;
	int dfd = open_store(root, &path, error);
	if (dfd < 0 && dfd != -ENOENT)
		return dfd;
	out->exists = dfd >= 0;
	if (dfd < 0)
		return 0;
	int r = load_files(dfd, out, share);
	if (r < 0 && error && r != -ENOMEM)
		*error = strprintf("cannot list %s: %s", path, strerror(-r));
	free(path);
	return r < 0 ? r : 0;
}

int credstore_load(const char *root, unsigned systemd_version, struct credstore *out, char **error)
{
	int r = credstore_load_fs(root, systemd_version, out, error);
	if (r < 0)
		return r;
	r = credstore_load_files(root, out, NULL, error);
	if (r < 0)
		credstore_free(out);
	return r;
}

const struct store_file *credstore_find(const struct credstore *s, const char *name)
{
	struct store_file key = { .name = (char *)name };
	if (!s->n_files)
		return NULL;
	return bsearch(&key, s->files, s->n_files, sizeof key, cmp_file);
}

void credstore_free(struct credstore *s)
{
	for (size_t i = 0; i < s->n_files; i++) {
		if (!s->files[i].shared)
			secret_free(s->files[i].data, s->files[i].size);
		free(s->files[i].name);
	}
	free(s->files);
	free(s->fs_type);
	free(s->mount_point);
	free(s->mount_options);
	memset(s, 0, sizeof *s);
}
