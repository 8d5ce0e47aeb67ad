/* ch_kvm: "does KVM really run a guest here?" cloud-hypervisor needs KVM, and a
 * /dev/kvm that opens is no proof: on some hosts it exists and a real guest hangs. So a
 * child process runs a one-instruction guest (`hlt` at 0x1000, real mode) and must see
 * KVM_EXIT_HLT before a deadline; the parent never blocks longer than that. */
#include "hypervisor/ch_kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define GUEST_ADDR 0x1000

/* In the child: returns NULL when the guest halted, else what went wrong. */
static const char *run_hlt_guest(void)
{
	struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = GUEST_ADDR,
						       .memory_size = 0x1000 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = GUEST_ADDR, .rflags = 0x2 };
	struct kvm_run *run;
	int kvm, vm, vcpu, mmap_size;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return errno == ENOENT ? "/dev/kvm does not exist" : "/dev/kvm cannot be opened";
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return "/dev/kvm answers with an unexpected API version";
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return "KVM_CREATE_VM failed";
	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return "no memory for the probe guest";
	mem[0] = 0xf4;  /* hlt */
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return "KVM_SET_USER_MEMORY_REGION failed";
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || mmap_size <= 0)
		return "KVM_CREATE_VCPU failed";
	run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return "the vCPU state cannot be read";
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return "the vCPU state cannot be set";
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return "KVM_RUN failed";
	if (run->exit_reason != KVM_EXIT_HLT)
		return "the probe guest did not halt as it should (KVM misbehaves)";
	return NULL;
}

/* Waits for PID until the deadline; kills it on timeout. Returns its status or -ETIMEDOUT. */
static int wait_bounded(pid_t pid, int timeout_ms)
{
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	long long deadline = mono_ms() + timeout_ms;
	int status;

	while (mono_ms() < deadline) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	/* a vCPU stuck in the kernel may not die at once: give it a moment, then leave it */
	for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++)
		nanosleep(&pause, NULL);
	return -ETIMEDOUT;
}

static int probe_failed(char **reason, const char *why)
{
	if (reason && asprintf(reason, "KVM is not usable: %s", why) < 0)
		*reason = NULL;
	return -ENODEV;
}

int ch_kvm_probe(char **reason)
{
	char why[160] = "";
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (reason)
		*reason = NULL;
	if (access("/dev/kvm", F_OK) < 0)
		return probe_failed(reason, "/dev/kvm does not exist");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return probe_failed(reason, "cannot create a pipe for the probe");
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return probe_failed(reason, "cannot fork the probe");
	}
	if (pid == 0) {
		const char *msg;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		msg = run_hlt_guest();
		if (msg && write(pipefd[1], msg, strlen(msg)) < 0)
			_exit(3);
		_exit(msg ? 1 : 0);
	}
	close(pipefd[1]);
	status = wait_bounded(pid, CH_KVM_PROBE_TIMEOUT_MS);
	if (status == -ETIMEDOUT) {
		close(pipefd[0]);
		return probe_failed(reason, "a one-instruction probe guest did not finish within "
				    "1 s (/dev/kvm exists but does not run guests)");
	}
	n = read(pipefd[0], why, sizeof why - 1);
	close(pipefd[0]);
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (n <= 0)
		snprintf(why, sizeof why, "the probe guest ended abnormally");
	else
		why[n] = '\0';
	return probe_failed(reason, why);
}
