/* credstore: what PID 1 actually wrote to /run/credentials/@system.
 *
 * Promise: credstore_load() reads ROOT/run/credentials/@system once: every entry's bytes,
 * size, mode and owner (lstat; symlinks and non-regular files are recorded with a problem
 * and never followed or read), and, from ROOT/proc/self/mountinfo, the filesystem that
 * holds it and whether it is read-only. It judges the filesystem the way `systemd-creds
 * list` of the given systemd version does (reference §5.2): before 257 only ramfs is
 * "secure"; from 257 ramfs or tmpfs with noswap; anything else is "weak". A missing
 * directory is a state (exists = false), not an error: systemd creates it only when it
 * imported something. Values are cleared by credstore_free().
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "systemd/import_creds.h"

#define CREDSTORE_PATH "/run/credentials/@system"
/* More than systemd ever writes (1 MiB per credential); bounds what we read from a file. */
#define CREDSTORE_FILE_MAX (4u * 1024u * 1024u)

enum store_file_problem {
	STORE_FILE_OK,
	STORE_FILE_SYMLINK,       /* not followed */
	STORE_FILE_NOT_REGULAR,   /* directory, FIFO, device, socket */
	STORE_FILE_UNREADABLE,    /* open/read failed: see error */
	STORE_FILE_TOO_LARGE,     /* larger than CREDSTORE_FILE_MAX */
};

struct store_file {
	char *name;
	uint8_t *data;            /* the value; NULL unless problem == STORE_FILE_OK */
	size_t size;              /* st_size */
	mode_t mode;              /* full st_mode */
	uid_t uid;
	gid_t gid;
	enum store_file_problem problem;
	int error;                /* errno for STORE_FILE_UNREADABLE */
	bool shared;              /* data is the equal bytes credstore_share handed over: not ours to free */
};

enum store_security { STORE_SECURITY_UNKNOWN, STORE_SECURITY_SECURE, STORE_SECURITY_WEAK };

struct credstore {
	bool exists;
	bool fs_known;            /* a mount covering the directory was found in mountinfo */
	bool is_mount_point;      /* the directory itself is a mount point */
	char *fs_type;            /* "ramfs", "tmpfs", ...; NULL when !fs_known */
	char *mount_point;        /* the mount that holds the directory */
	char *mount_options;      /* per-mount options, then super options, comma-joined */
	bool noswap;
	bool read_only;
	uint64_t size_limit;      /* tmpfs size= in bytes (mountinfo prints it in k), 0 when not shown */
	uint64_t inode_limit;     /* tmpfs nr_inodes=, 0 when not shown */
	unsigned judged_as;       /* the systemd version whose rule judged security */
	enum store_security security;
	struct store_file *files; /* sorted by name */
	size_t n_files;
};

/* Returns 0, or -errno when ROOT/run/credentials/@system exists but cannot be read; then
 * *error (when ERROR is not NULL) is a malloc'd sentence naming the path. Prints nothing.
 * systemd_version 0 judges by the newest rule (systemd/versions.h).
 * credstore_load() is credstore_load_fs() then credstore_load_files(..., NULL, ...). */
int credstore_load(const char *root, unsigned systemd_version, struct credstore *out, char **error);

/* The two halves, for a caller that needs the store's filesystem (its capacity is an input
 * of the import replay) before its files: credstore_load_fs() fills everything but the files
 * (exists, the mount, security); credstore_load_files() then reads the files into OUT, and on
 * failure leaves OUT for credstore_free(). With SHARE, a file whose bytes equal what
 * same_bytes() returns for its name keeps that pointer (f->shared) instead of its own copy:
 * the owner must outlive the store and end in a NUL as read files do. */
struct credstore_share {
	/* equal bytes of SIZE for NAME held by the caller, or NULL */
	const uint8_t *(*same_bytes)(void *userdata, const char *name, const uint8_t *data, size_t size);
	void *userdata;
};
int credstore_load_fs(const char *root, unsigned systemd_version, struct credstore *out, char **error);
int credstore_load_files(const char *root, struct credstore *out, const struct credstore_share *share,
			 char **error);
void credstore_free(struct credstore *s);
const struct store_file *credstore_find(const struct credstore *s, const char *name);

/* Pure parts, exposed for tests. */
/* Fills fs facts from the text of a mountinfo file for the mount covering PATH. */
int credstore_parse_mountinfo(const char *text, const char *path, struct credstore *s);
/* The capacity systemd's import meets (systemd/import_creds.h): only for a store that is a
 * mount point of its own, as PID 1 mounts it. */
void credstore_limits(const struct credstore *s, struct store_limits *out);
/* "secure"/"weak" for the fs facts already in s, as systemd-creds of that version says. */
enum store_security credstore_judge(const struct credstore *s, unsigned systemd_version);
const char *store_security_name(enum store_security sec);   /* "secure", "weak", "unknown" */
/* One clause why the store is weak, e.g. "it is on tmpfs without noswap". Static string. */
const char *credstore_weak_reason(const struct credstore *s);
/* systemd-creds's "insecure": any mode bit besides owner-read (mask 0377) is set. */
bool store_file_insecure(const struct store_file *f);
const char *store_file_problem_name(enum store_file_problem p);
