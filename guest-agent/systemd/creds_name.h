/* creds_name: which names systemd accepts for a credential.
 *
 * Promise: credential_name_valid() is exactly upstream's credential_name_valid()
 * (src/shared/creds-util.c: filename_is_valid() && fdname_is_valid(), from
 * src/basic/path-util.c and src/basic/fd-util.c); credential_name_problem() names the first
 * check that fails, in upstream's order. Pure; names are not secret but the clauses never
 * quote them.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define CRED_NAME_MAX 255u   /* NAME_MAX = FDNAME_MAX = CREDENTIAL_NAME_MAX */

/* Not empty, not "." / "..", no '/', at most 255 bytes, only 0x20..0x7e, no ':'. */
bool credential_name_valid(const char *name, size_t len);
/* Why a name is invalid, as a clause ("its name contains '/'"); NULL when valid. Static. */
const char *credential_name_problem(const char *name, size_t len);
