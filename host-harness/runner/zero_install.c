/* zero_install: the unit and drop-in credentials, the version rule, the agent to carry. */
#include "runner/zero_install.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/expect_disk.h"

/* A oneshot like guest-agent/units/credscope-report.service (no default dependencies: it
 * runs right after PID 1's import), but the agent comes from the disk: mounted read-only,
 * nodev, nosuid on a runtime directory, found by label through libblkid (mount -L, polled
 * while the kernel probes the disk, so no udev device unit is waited for), unmounted when
 * the agent is done. Not in a mount namespace of its own: PID 1 hides /run/credentials from
 * every unit that has one (PrivateMounts=, RuntimeDirectory= does not make one), and the
 * agent must read @system (src/core/namespace.c:2698-2747@257.13). `$$` is a literal `$`
 * in a unit file. Skipped in an initrd: the generator installs it there too. */
static const char unit_fmt[] =
	"# credscope zero-install: delivered by credscope-harness as the credential\n"
	"# " ZI_UNIT_CRED " (systemd 256+, systemd-debug-generator)\n"
	"[Unit]\n"
	"Description=credscope (zero-install): report imported systemd credentials to the host\n"
	"DefaultDependencies=no\n"
	"ConditionPathExists=!/etc/initrd-release\n"
	"Conflicts=shutdown.target\n"
	"Before=shutdown.target\n"
	"After=systemd-journald.socket\n"
	"\n"
	"[Service]\n"
	"Type=oneshot\n"
	"RemainAfterExit=yes\n"
	"Nice=-10\n"
	"RuntimeDirectory=credscope-zero-install\n"
	"ExecStart=/bin/sh -c 'd=/run/credscope-zero-install; i=0; "
	"until mount -o ro,nodev,nosuid -L " EXPECT_DISK_LABEL " \"$$d\" 2>/dev/null; do "
	"i=$$((i + 1)); if [ $$i -ge 100 ]; then echo \"credscope zero-install: no file system labelled "
	EXPECT_DISK_LABEL " within 20 s: the harness attaches it\"; exit 2; fi; sleep 0.2; done; "
	"\"$$d/" EXPECT_DISK_AGENT "\" report --to %s --wait-label 20; s=$$?; umount \"$$d\"; exit $$s'\n"
	"StandardOutput=journal+console\n"
	"StandardError=journal+console\n"
	"SyslogIdentifier=credscope\n";

const char zi_dropin_text[] =
	"# credscope zero-install: sysinit.target pulls in the unit of " ZI_UNIT_CRED "\n"
	"[Unit]\n"
	"Wants=" ZI_UNIT "\n";

char *zi_unit_text(const char *report_to)
{
	char *unit;

	return asprintf(&unit, unit_fmt, report_to) < 0 ? NULL : unit;
}

char *zi_refuse_version(unsigned version, const char *where)
{
	char *s;

	if (version == 0 || version >= ZI_MIN_SYSTEMD)
		return NULL;
	if (asprintf(&s, "zero_install: systemd %u (%s) does not read systemd.extra-unit credentials (first in %u): "
		     "install the agent in the guest instead (make deb, or the static build/static/x86_64/credscope "
		     "with its two units, docs/your-own-guest.md); not booted", version, where, ZI_MIN_SYSTEMD) < 0)
		return NULL;
	return s;
}

/* -ENOEXEC with *what set when the file is not a static ELF executable. */
static int static_elf(int fd, const char **what)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof ph) {
		*what = "not a 64-bit ELF file";
		return -ENOEXEC;
	}
	for (unsigned i = 0; i < eh.e_phnum && i < 256; i++) {
		if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (Elf64_Off)i * sizeof ph)) != (ssize_t)sizeof ph) {
			*what = "its program headers cannot be read";
			return -ENOEXEC;
		}
		if (ph.p_type == PT_INTERP) {
			*what = "dynamically linked (it has an interpreter): the guest may lack its libraries; "
				"use `make static`";
			return -ENOEXEC;
		}
	}
	return 0;
}

static int agent_path(const char *self_exe, const char *env_name, const char *arch, char **path, char **error)
{
	const char *env = getenv(env_name), *what = NULL;
	char *copy = NULL;
	struct stat st;
	int fd, r = 0;

	*path = NULL, *error = NULL;
	if (env && *env)
		*path = strdup(env);
	else if ((copy = strdup(self_exe ? self_exe : "")) &&
		 asprintf(path, "%s/../static/%s/credscope", dirname(copy), arch) < 0)
		*path = NULL;
	free(copy);
	if (!*path)
		return -ENOMEM;
	fd = open(*path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		r = -errno, what = strerror(errno);
	else if (fstat(fd, &st) < 0)
		r = -errno, what = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL, what = "not a regular file";
	else if (!(st.st_mode & S_IXUSR))
		r = -EACCES, what = "not executable";
	else
		r = static_elf(fd, &what);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		if (asprintf(error, "zero_install: the static agent %s: %s (build it with `make static`, or name one "
			     "in $%s)", *path, what, env_name) < 0)
			*error = NULL;
		free(*path);
		*path = NULL;
	}
	return r;
}

int zi_agent_path(const char *self_exe, char **path, char **error)
{
	return agent_path(self_exe, ZI_AGENT_ENV, "x86_64", path, error);
}

int zi_agent_path_aarch64(const char *self_exe, char **path, char **error)
{
	return agent_path(self_exe, ZI_AGENT_ENV "_AARCH64", "aarch64", path, error);
}
