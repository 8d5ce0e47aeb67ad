/* boot_verdict: the generator's verdict, kept for the units of the same boot. */
#include "boot_verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "frame.h"
#include "strutil.h"

#define TEXT_FILE "verdict.txt"
#define REPORT_FILE "report.json"
#define DELIVERED_FILE "delivered.txt"

static int fail(char **error, int r, const char *what, const char *path)
{
	*error = strprintf("%s %s: %s", what, path, strerror(-r));
	return r;
}

/* Opens ROOT/run/credscope as a directory, creating it (0700) when CREATE; never follows a
 * symbolic link in its last component. */
static int open_dir(const char *dir, bool create)
{
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int read_text(int dirfd, const char *name, size_t max, char **out, size_t *len);

/* NAME in DIRFD: written as NAME.new (0600), then renamed over NAME. */
static int write_file(int dirfd, const char *name, const char *data)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s.new", name);
	(void)unlinkat(dirfd, tmp, 0);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = fd_write_full(fd, data, strlen(data));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

int boot_verdict_save(const char *root, const char *text, const char *report, char **error)
{
	char *dir = root_join(root, BOOT_VERDICT_DIR);
	if (!dir)
		return fail(error, -ENOMEM, "cannot keep the verdict in", BOOT_VERDICT_DIR);
	int r, dfd = open_dir(dir, true);
	if (dfd < 0) {
		r = fail(error, dfd, "cannot create or open the directory", dir);
		free(dir);
		return r;
	}
	const char *failed = REPORT_FILE;
	r = write_file(dfd, REPORT_FILE, report);
	if (r == 0)
		failed = TEXT_FILE, r = write_file(dfd, TEXT_FILE, text);
	close(dfd);
	if (r < 0) {
		char *path = strprintf("%s/%s", dir, failed);
		r = fail(error, r, "cannot write", path ? path : dir);
		free(path);
	}
	free(dir);
	return r;
}

int boot_verdict_save_delivery(const char *root, const char *to, const char *status, const char *message,
			       char **error)
{
	char *dir = root_join(root, BOOT_VERDICT_DIR);
	char *ets = text_escape(to), *est = text_escape(status), *em = text_escape(message ? message : "");
	char *text = ets && est && em ? strprintf("%s\n%s\n%s\n", ets, est, em) : NULL;
	int r = -ENOMEM;
	if (dir && text) {
		int dfd = open_dir(dir, false);
		r = dfd < 0 ? dfd : write_file(dfd, DELIVERED_FILE, text);
		if (dfd >= 0)
			close(dfd);
	}
	if (r < 0) {
		char *path = dir ? strprintf("%s/%s", dir, DELIVERED_FILE) : NULL;
		fail(error, r, "cannot write", path ? path : DELIVERED_FILE);
		free(path);
	}
	free(text);
	free(ets), free(est), free(em);
	free(dir);
	return r;
}

/* delivered.txt's three lines into BV; a missing file is no delivery, a malformed one too */
static void load_delivery(int dirfd, struct boot_verdict *bv)
{
	char *text = NULL;
	if (read_text(dirfd, DELIVERED_FILE, 16384, &text, NULL) < 0)
		return;
	char *save = NULL, *to = strtok_r(text, "\n", &save), *status = strtok_r(NULL, "\n", &save);
	char *message = strtok_r(NULL, "\n", &save);
	if (to && status) {
		bv->delivered_to = strdup(to);
		bv->ack_status = strdup(status);
		bv->ack_message = message ? strdup(message) : NULL;
	}
	free(text);
}

bool boot_verdict_exists(const char *root)
{
	char *path = root_join(root, BOOT_VERDICT_DIR "/" TEXT_FILE);
	bool yes = path && access(path, F_OK) == 0;
	free(path);
	return yes;
}

int boot_verdict_status(const char *text)
{
	static const char key[] = "CREDSCOPE-VERDICT: ";
	const char *last = NULL;
	for (const char *p = text; (p = strstr(p, key)); p += sizeof key - 1)
		if (p == text || p[-1] == '\n')
			last = p + sizeof key - 1;
	if (!last)
		return -1;
	if (strncmp(last, "pass ", 5) == 0)
		return 0;
	if (strncmp(last, "fail ", 5) == 0)
		return 1;
	if (strncmp(last, "error ", 6) == 0)
		return 2;
	return -1;
}

/* Reads NAME of DIRFD (a regular file of at most MAX bytes) as a string: file_read_bounded()
 * NUL-terminates it; a NUL byte inside is -EBADMSG. */
static int read_text(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	int r = file_read_bounded(dirfd, name, max, &buf, &n);
	if (r < 0)
		return r;
	if (strlen((char *)buf) != n) {
		free(buf);
		return -EBADMSG;
	}
	*out = (char *)buf;
	if (len)
		*len = n;
	return 0;
}

int boot_verdict_load(const char *root, struct boot_verdict *bv, char **error)
{
	memset(bv, 0, sizeof *bv);
	char *dir = root_join(root, BOOT_VERDICT_DIR);
	bv->path = dir ? strprintf("%s/%s", dir, TEXT_FILE) : NULL;
	if (!bv->path) {
		free(dir);
		return -ENOMEM;
	}
	int r, dfd = open_dir(dir, false);
	if (dfd < 0) {
		if (dfd != -ENOENT)
			fail(error, dfd, "cannot open the directory of", bv->path);
		free(dir);
		boot_verdict_free(bv);
		return dfd;
	}
	const char *name = TEXT_FILE;
	r = read_text(dfd, TEXT_FILE, 4u * 1024 * 1024, &bv->text, NULL);
	if (r == -ENOENT) {   /* no verdict.txt: no verdict, and nothing to say */
		close(dfd);
		free(dir);
		boot_verdict_free(bv);
		return r;
	}
	if (r == 0)
		name = REPORT_FILE, r = read_text(dfd, REPORT_FILE, FRAME_MAX, &bv->report, &bv->report_len);
	if (r == 0)
		load_delivery(dfd, bv);
	close(dfd);
	if (r == 0 && (bv->status = boot_verdict_status(bv->text)) < 0)
		name = TEXT_FILE, r = -EBADMSG;
	if (r < 0) {
		char *path = strprintf("%s/%s", dir, name);
		*error = strprintf("%s: %s", path ? path : name,
				   r == -EBADMSG ? "not a verdict credscope-generator wrote (no CREDSCOPE-VERDICT line, "
						   "or a NUL byte)" : file_error_text(r));
		free(path);
	}
	free(dir);
	if (r < 0)
		boot_verdict_free(bv);
	return r;
}

void boot_verdict_free(struct boot_verdict *bv)
{
	free(bv->text);
	free(bv->report);
	free(bv->path);
	free(bv->delivered_to);
	free(bv->ack_status);
	free(bv->ack_message);
	memset(bv, 0, sizeof *bv);
}
