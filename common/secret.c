/* secret: clearing and reading secret bytes. */
#include "secret.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

void secret_clear(void *p, size_t len)
{
	if (p)
		explicit_bzero(p, len);
}

void secret_free(void *p, size_t len)
{
	secret_clear(p, len);
	free(p);
}

int secret_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len)
{
	return file_read_bounded(AT_FDCWD, path, max, out, out_len);
}
