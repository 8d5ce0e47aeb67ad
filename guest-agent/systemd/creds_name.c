/* creds_name: credential_name_valid() as upstream src/shared/creds-util.c has it. See
 * creds_name.h. */
#include "systemd/creds_name.h"

#include <string.h>

/* filename_is_valid() runs first upstream, then fdname_is_valid(); the first failing check
 * is what we name. fdname_is_valid() walks a signed char, so bytes >= 0x80 fail its "< ' '"
 * test as well. */
const char *credential_name_problem(const char *name, size_t len)
{
	if (!name || len == 0)
		return "the name is empty";
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return len == 1 ? "the name is \".\"" : "the name is \"..\"";
	if (memchr(name, '/', len))
		return "its name contains '/'";
	if (len > CRED_NAME_MAX)
		return "its name is longer than 255 bytes";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) name[i];
		if (c < 0x20)
			return "its name contains a control character (below 0x20)";
		if (c >= 0x7f)
			return c == 0x7f ? "its name contains the byte 0x7f (DEL)"
					 : "its name contains a byte above 0x7e";
	}
	if (memchr(name, ':', len))
		return "its name contains ':'";
	return NULL;
}

bool credential_name_valid(const char *name, size_t len)
{
	return credential_name_problem(name, len) == NULL;
}
