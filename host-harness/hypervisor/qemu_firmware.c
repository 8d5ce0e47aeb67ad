/* qemu_firmware: locating OVMF and giving each run its own variable store. */
#include "hypervisor/qemu_firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fileio.h"

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

const char *qemu_ovmf_code(void)
{
	return env_or("CREDSCOPE_OVMF_CODE", QEMU_OVMF_CODE);
}

const char *qemu_ovmf_vars(void)
{
	return env_or("CREDSCOPE_OVMF_VARS", QEMU_OVMF_VARS);
}

char *qemu_ovmf_missing(void)
{
	const char *const files[] = { qemu_ovmf_code(), qemu_ovmf_vars() };
	char *why = NULL;

	for (size_t i = 0; i < 2; i++) {
		int fd = file_open_regular(AT_FDCWD, files[i]);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (asprintf(&why, "UEFI firmware %s: %s (install Debian's ovmf package, or set CREDSCOPE_OVMF_CODE "
			     "and CREDSCOPE_OVMF_VARS)", files[i], file_error_text(fd)) < 0)
			why = NULL;
		return why;
	}
	return NULL;
}

int qemu_ovmf_vars_copy(const char *run_dir, char **path)
{
	int r;

	if (asprintf(path, "%s/OVMF_VARS.fd", run_dir) < 0)
		return *path = NULL, -ENOMEM;
	if ((r = file_copy(qemu_ovmf_vars(), *path)) < 0) {
		(void)unlink(*path);
		free(*path);
		*path = NULL;
	}
	return r;
}
