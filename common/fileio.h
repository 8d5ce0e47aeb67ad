/* fileio: the one way credscope reads a file it did not write, and the one EINTR loop.
 *
 * Promises:
 * - file_read_bounded() never blocks on what is not a regular file: it opens with
 *   O_NONBLOCK | O_NOCTTY | O_CLOEXEC, refuses a directory (-EISDIR), a FIFO or socket
 *   (-ESPIPE) and a device (-ENODEV) before reading a byte, and reads to EOF rather than
 *   trusting st_size (sysfs and procfs files report 4096 or 0).
 * - More than MAX bytes is -EFBIG, never a silent truncation.
 * - Every buffer it drops on the way (growth, error) is cleared first: the bytes may be
 *   secrets. The result has a NUL after its LEN bytes, so text callers can use it as is.
 * - fd_read_full() and fd_write_full() retry EINTR and short transfers; they are for
 *   blocking descriptors (sockets with deadlines keep their own poll loops).
 * Nothing here logs: callers word errors with file_error_text(). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads the regular file PATH (relative to DIRFD, or AT_FDCWD) whole: 0 with *OUT
 * (malloc'd, LEN + 1 bytes, NUL-terminated) and *OUT_LEN, or -errno: -ENOENT, -EACCES,
 * -EISDIR, -ESPIPE (FIFO or socket), -ENODEV (device), -EFBIG (over MAX), -ENOMEM, -EIO. */
int file_read_bounded(int dirfd, const char *path, size_t max, uint8_t **out, size_t *out_len);

/* The same over an open descriptor (after the same type check); FD stays open. */
int fd_read_bounded(int fd, size_t max, uint8_t **out, size_t *out_len);

/* Opens PATH for reading the way file_read_bounded() does (O_NONBLOCK, type check) and
 * returns the descriptor, switched back to blocking, or -errno as above. */
int file_open_regular(int dirfd, const char *path);

/* A phrase for the errors above that a message can follow the path with: "is a
 * directory", "is a FIFO or socket, not a regular file", "is larger than the limit",
 * otherwise strerror(). */
const char *file_error_text(int err);

/* Reads until LEN bytes or EOF. Returns the count read (short only at EOF) or -errno. */
ssize_t fd_read_full(int fd, void *buf, size_t len);

/* Writes all LEN bytes. Returns 0 or -errno (-EIO when write() returns 0). */
int fd_write_full(int fd, const void *buf, size_t len);

/* Removes PATH and everything below it without following symlinks (a private run
 * directory). Returns 0, or the first -errno met; goes on past errors. */
int rm_tree(const char *path);

/* Copies the regular file FROM to a new 0600 file TO (truncated). 0 or -errno. */
int file_copy(const char *from, const char *to);
