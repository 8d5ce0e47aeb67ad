/* qemu_proc: the process edge of the launch library: spawn, QMP handshake, stop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "hypervisor/qemu.h"
#include "hypervisor/spawn.h"

struct child_fds {
	struct qemu_vm *vm;
	int null_fd, log_fd;
};

/* In the child (spawn.h): only async-signal-safe calls, the harness is threaded. */
static int child_setup(void *p)
{
	struct child_fds *c = p;
	struct qemu_vm *vm = c->vm;
	sigset_t all;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (vm->console_log && dup2(c->null_fd, STDIN_FILENO) < 0)   /* else the console is on our terminal */
		return -errno;
	if (c->log_fd >= 0 && (dup2(c->log_fd, STDOUT_FILENO) < 0 || dup2(c->log_fd, STDERR_FILENO) < 0))
		return -errno;
	for (size_t i = 0; i < vm->n_files; i++)
		if (fcntl(vm->files[i].fd, F_SETFD, 0) < 0)
			return -errno;
	return 0;
}

/* The absolute path of prog (PATH search done before fork). */
static char *find_program(const char *prog)
{
	if (strchr(prog, '/'))
		return strdup(prog);
	const char *path = getenv("PATH");
	char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); copy && d; d = strtok_r(NULL, ":", &save)) {
		char *full;
		if (asprintf(&full, "%s/%s", d, prog) < 0)
			break;
		if (access(full, X_OK) == 0) {
			free(copy);
			return full;
		}
		free(full);
	}
	free(copy);
	return NULL;
}

bool qemu_program_found(const char *prog)
{
	char *exe = find_program(prog);
	bool found = exe && access(exe, X_OK) == 0;

	free(exe);
	return found;
}

int qemu_spawn(struct qemu_vm *vm)
{
	char **argv;
	int r = qemu_build_argv(vm, &argv);
	if (r < 0)
		return r;
	char *exe = find_program(argv[0]);
	vm->exec_failed = false;
	if (!exe) {
		strv_free(argv);
		vm->exec_failed = true;
		return -ENOENT;
	}
	free(argv[0]);
	argv[0] = exe;
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int log_fd = vm->qemu_log ? open(vm->qemu_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	struct child_fds c = { vm, null_fd, log_fd };
	struct spawn_req rq = { .path = argv[0], .argv = argv, .own_process_group = vm->own_process_group,
				.setup = child_setup, .ctx = &c };
	pid_t pid;

	if (null_fd < 0 || (vm->qemu_log && log_fd < 0))
		r = -errno;
	else if ((r = spawn_start(&rq, &pid)) < 0)
		vm->exec_failed = true;   /* qemu_ops words it: "cannot start PATH: REASON" */
	else
		vm->pid = pid;
	if (null_fd >= 0)
		close(null_fd);
	if (log_fd >= 0)
		close(log_fd);
	strv_free(argv);
	return r;
}

/* Reads QMP lines until one holds "return" or "error" (events are skipped). */
static int qmp_wait_return(int fd, long long deadline)
{
	char buf[4096];
	size_t len = 0;
	for (;;) {
		int left = (int)(deadline - mono_ms());
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) <= 0)
			continue;
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		len += (size_t)n;
		buf[len] = 0;
		char *nl;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			bool ret = strstr(buf, "\"return\"") != NULL, err = strstr(buf, "\"error\"") != NULL;
			memmove(buf, nl + 1, len - (size_t)(nl + 1 - buf) + 1);
			len = strlen(buf);
			if (ret || err)
				return ret ? 0 : -EPROTO;
		}
		if (len == sizeof buf - 1)
			len = 0;   /* an overlong event: drop it */
	}
}

static int qmp_connect(const char *path, long long deadline, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	while (mono_ms() < deadline) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			*out = fd;
			return 0;
		}
		close(fd);
		usleep(20 * 1000);
	}
	return -ETIMEDOUT;
}

int qemu_qmp_ready(struct qemu_vm *vm, int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;
	static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\n";
	int fd = -1, status;
	for (;;) {
		int r = qmp_connect(vm->qmp_socket, mono_ms() + 100, &fd);
		if (r == 0)
			break;
		if (qemu_poll_exit(vm, &status) == 1)
			return -ECHILD;
		if (mono_ms() >= deadline)
			return r;
	}
	/* the greeting has no "return"; qmp_capabilities' answer does */
	if (send(fd, caps, sizeof caps - 1, MSG_NOSIGNAL) < 0 || qmp_wait_return(fd, deadline) < 0) {
		close(fd);
		return -EPROTO;
	}
	vm->qmp_fd = fd;
	/* QEMU has parsed every option and read every -smbios/-fw_cfg file by now */
	for (size_t i = 0; i < vm->n_files; i++) {
		close(vm->files[i].fd);
		vm->files[i].fd = -1;
	}
	return 0;
}

int qemu_poll_exit(struct qemu_vm *vm, int *status)
{
	if (vm->pid <= 0) {
		*status = vm->exit_status;
		return 1;
	}
	pid_t p = waitpid(vm->pid, status, WNOHANG);
	if (p == vm->pid) {
		vm->pid = -1;
		vm->exit_status = *status;
		return 1;
	}
	return p < 0 && errno == ECHILD ? (vm->pid = -1, 1) : 0;
}

int qemu_stop(struct qemu_vm *vm, bool powerdown, int grace_ms)
{
	int status = 0;
	if (vm->pid <= 0)
		return vm->exit_status;
	if (vm->qmp_fd >= 0) {
		const char *cmd = powerdown ? "{\"execute\":\"system_powerdown\"}\n" : "{\"execute\":\"quit\"}\n";
		(void)send(vm->qmp_fd, cmd, strlen(cmd), MSG_NOSIGNAL);
	} else
		kill(vm->pid, SIGTERM);
	long long deadline = mono_ms() + grace_ms;
	while (mono_ms() < deadline) {
		if (qemu_poll_exit(vm, &status) == 1)
			return vm->exit_status = status;
		usleep(20 * 1000);
	}
	kill(vm->pid, SIGKILL);
	while (waitpid(vm->pid, &status, 0) < 0 && errno == EINTR)
		;
	vm->pid = -1;
	return vm->exit_status = status;
}
