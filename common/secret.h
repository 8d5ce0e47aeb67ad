/* secret: the few operations on bytes that may be secret values.
 * Promise: a secret's buffer is cleared before it is freed (secret_free()), and
 * secret_read_file() reads through the bounded reader (no FIFO blocks it, a directory is
 * refused) with its growth buffers cleared. Nothing here logs or formats the bytes. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Overwrites len bytes so the compiler cannot elide it; NULL is fine. */
void secret_clear(void *p, size_t len);

/* secret_clear() then free(). */
void secret_free(void *p, size_t len);

/* file_read_bounded(AT_FDCWD, PATH, MAX, ...) with its errors (common/fileio.h); defined in
 * fileio.c. */
int secret_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len);
