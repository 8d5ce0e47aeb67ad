/* qemu_firmware: locating OVMF or AAVMF and giving each run its own variable store. */
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

const char *qemu_uefi_code(bool aarch64)
{
	return aarch64 ? env_or("CREDSCOPE_AAVMF_CODE", QEMU_AAVMF_CODE) : env_or("CREDSCOPE_OVMF_CODE", QEMU_OVMF_CODE);
}

const char *qemu_uefi_vars(bool aarch64)
{
	return aarch64 ? env_or("CREDSCOPE_AAVMF_VARS", QEMU_AAVMF_VARS) : env_or("CREDSCOPE_OVMF_VARS", QEMU_OVMF_VARS);
}

char *qemu_uefi_missing(bool aarch64)
{
	const char *const files[] = { qemu_uefi_code(aarch64), qemu_uefi_vars(aarch64) };
	const char *pkg = aarch64 ? "qemu-efi-aarch64" : "ovmf", *env = aarch64 ? "AAVMF" : "OVMF";
	char *why = NULL;

	for (size_t i = 0; i < 2; i++) {
		int fd = file_open_regular(AT_FDCWD, files[i]);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (asprintf(&why, "UEFI firmware %s: %s (install Debian's %s package, or set CREDSCOPE_%s_CODE "
			     "and CREDSCOPE_%s_VARS)", files[i], file_error_text(fd), pkg, env, env) < 0)
			why = NULL;
		return why;
	}
	return NULL;
}

int qemu_uefi_vars_copy(bool aarch64, const char *run_dir, char **path)
{
	int r;

	if (asprintf(path, "%s/%s", run_dir, aarch64 ? "AAVMF_VARS.fd" : "OVMF_VARS.fd") < 0)
		return *path = NULL, -ENOMEM;
	if ((r = file_copy(qemu_uefi_vars(aarch64), *path)) < 0) {
		(void)unlink(*path);
		free(*path);
		*path = NULL;
	}
	return r;
}
