/* accel: KVM probe by booting a tiny guest. */
#include "hypervisor/accel.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_PORT 0xf4
#define PROBE_BYTE 0x2a
/* isa-debug-exit makes QEMU exit with (value << 1) | 1 */
#define PROBE_EXIT ((PROBE_BYTE << 1) | 1)

static int probe_disk(void)
{
	/* mov al, 0x2a; out 0xf4, al; cli; hlt; jmp $-1 -- then the boot signature */
	static const uint8_t code[] = { 0xb0, PROBE_BYTE, 0xe6, PROBE_PORT, 0xfa, 0xf4, 0xeb, 0xfd };
	uint8_t sector[512] = { 0 };
	memcpy(sector, code, sizeof code);
	sector[510] = 0x55;
	sector[511] = 0xaa;
	int fd = memfd_create("credscope-kvm-probe", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, sector, sizeof sector) != (ssize_t)sizeof sector) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static pid_t spawn_probe(const char *qemu, const char *accel, int disk)
{
	char drive[64], accel_opt[32];
	snprintf(drive, sizeof drive, "file=/proc/self/fd/%d,format=raw,if=ide", disk);
	snprintf(accel_opt, sizeof accel_opt, "%s", accel);
	char *argv[] = { (char *)qemu, "-nodefaults", "-no-user-config", "-display", "none", "-machine", "pc",
			 "-accel", accel_opt, "-m", "16", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
			 "-drive", drive, NULL };
	pid_t pid = fork();
	if (pid == 0) {
		int null_fd = open("/dev/null", O_RDWR);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null_fd, 0), dup2(null_fd, 1), dup2(null_fd, 2);
		fcntl(disk, F_SETFD, 0);
		execvp(qemu, argv);
		_exit(127);
	}
	return pid;
}

/* Waits for the probe; 1 when it exited with PROBE_EXIT in time. */
static int wait_probe(pid_t pid, int timeout_ms, char **why)
{
	long long deadline = mono_ms() + timeout_ms;
	int status;
	while (mono_ms() < deadline) {
		pid_t p = waitpid(pid, &status, WNOHANG);
		if (p == pid) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == PROBE_EXIT)
				return 1;
			if (why && asprintf(why, "the KVM probe guest ended with status %d instead of %d",
					    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), PROBE_EXIT) < 0)
				*why = NULL;
			return 0;
		}
		usleep(20 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (why && asprintf(why, "the KVM probe guest did not run within %d ms (/dev/kvm opens but does not run guests)",
			    timeout_ms) < 0)
		*why = NULL;
	return 0;
}

const char *accel_probe(const char *qemu_binary, const char *force, int timeout_ms, char **why)
{
	const char *qemu = qemu_binary ? qemu_binary : "qemu-system-x86_64";
	if (why)
		*why = NULL;
	if (force && strcmp(force, "auto"))
		return strcmp(force, "kvm") == 0 ? "kvm" : "tcg";
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		if (why && asprintf(why, "/dev/kvm cannot be opened: %s", strerror(errno)) < 0)
			*why = NULL;
		return "tcg";
	}
	close(kvm);
	int disk = probe_disk();
	if (disk < 0)
		return "tcg";
	pid_t pid = spawn_probe(qemu, "kvm", disk);
	close(disk);
	if (pid < 0)
		return "tcg";
	return wait_probe(pid, timeout_ms, why) == 1 ? "kvm" : "tcg";
}

unsigned accel_time_scale(const char *accel)
{
	return accel && strcmp(accel, "kvm") == 0 ? 1 : 4;
}
