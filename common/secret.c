/* secret: clearing and reading secret bytes. */
#include "secret.h"

#include <stdlib.h>
#include <string.h>

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
