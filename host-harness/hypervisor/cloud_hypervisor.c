/* cloud_hypervisor: spawning cloud-hypervisor with only an API socket, driving it
 * through its REST API, and stopping it. The JSON lives in ch_config.c, the KVM probe
 * in ch_kvm.c, HTTP in ch_api.c. */
#include "hypervisor/cloud_hypervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hypervisor/ch_api.h"
#include "hypervisor/ch_kvm.h"
#include "hypervisor/spawn.h"

#define CH_API_FD 3
#define CH_VERSION_TIMEOUT_MS 3000
#define CH_START_TIMEOUT_MS 5000

static char *const clean_env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };

__attribute__((format(printf, 2, 3)))
static void set_reason(char **reason, const char *fmt, ...)
{
	va_list ap;

	if (!reason)
		return;
	va_start(ap, fmt);
	if (vasprintf(reason, fmt, ap) < 0)
		*reason = NULL;
	va_end(ap);
}

/* Finds BINARY (a path, or a name in the harness's PATH). Returns a malloc'd path, or NULL
 * when a name is in no PATH directory. */
static char *resolve_binary(const char *binary)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *found = NULL;

	if (strchr(binary, '/'))
		return strdup(binary);   /* whether it runs, exec says (spawn.h): "cannot start PATH: ..." */
	copy = strdup(path ? path : "/usr/bin:/bin");
	for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *candidate;
		if (asprintf(&candidate, "%s/%s", *dir ? dir : ".", binary) < 0)
			break;
		if (access(candidate, X_OK) == 0)
			found = candidate;
		else
			free(candidate);
	}
	free(copy);
	return found;
}

int ch_reap_within(pid_t pid, int timeout_ms)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	long long start = mono_ms();
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (mono_ms() - start >= timeout_ms)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
}

static int version_setup(void *p)
{
	int out = *(int *)p;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	return dup2(out, STDOUT_FILENO) < 0 ? -errno : 0;
}

/* Runs `PATH --version` with a clean environment; the first line lands in OUT. An exec
 * failure (missing, not executable) is -errno with *EXEC_FAILED set. */
static int run_version(const char *path, char *out, size_t out_size, bool *exec_failed)
{
	char *const argv[] = { (char *)path, "--version", NULL };
	int pipefd[2], status;
	size_t used = 0;
	pid_t pid;

	*exec_failed = false;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	struct spawn_req rq = { .path = path, .argv = argv, .envp = clean_env, .setup = version_setup, .ctx = &pipefd[1] };
	int r = spawn_start(&rq, &pid);
	close(pipefd[1]);
	if (r < 0) {
		close(pipefd[0]);
		*exec_failed = true;
		return r;
	}
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	status = ch_reap_within(pid, CH_VERSION_TIMEOUT_MS);
	while (used < out_size - 1) {
		ssize_t n = read(pipefd[0], out + used, out_size - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	out[used] = '\0';
	close(pipefd[0]);
	if (status == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return status < 0 ? status : (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO);
}

int ch_query_version(const char *binary, unsigned *major, unsigned *minor, char **reason)
{
	const char *name = binary ? binary : "cloud-hypervisor";
	char *path = resolve_binary(name), text[256];
	int r;

	if (reason)
		*reason = NULL;
	if (!path) {
		set_reason(reason, "cloud-hypervisor is not installed (%s not found); install it "
			   "or name its path", name);
		return -ENOENT;
	}
	bool exec_failed;
	r = run_version(path, text, sizeof text, &exec_failed);
	if (exec_failed) {
		if (reason)
			*reason = spawn_error_text(path, r);
		free(path);
		return r;
	}
	if (r == 0 && ch_parse_version(text, major, minor) < 0)
		r = -EIO;
	if (r < 0) {
		set_reason(reason, "cannot read the version of %s (`--version` failed or printed "
			   "no version)", path);
		free(path);
		return -EIO;
	}
	if (*major < CH_MIN_MAJOR) {
		set_reason(reason, "%s is v%u, too old: credentials need platform.oem_strings, "
			   "available since cloud-hypervisor v26", path, *major);
		free(path);
		return -EPROTONOSUPPORT;
	}
	free(path);
	return 0;
}

int ch_available(const char *binary, char **reason)
{
	char *ch_reason = NULL, *kvm_reason = NULL;
	unsigned major, minor;
	int r_ch = ch_query_version(binary, &major, &minor, &ch_reason);
	int r_kvm = ch_kvm_probe(&kvm_reason);

	if (reason)
		*reason = NULL;
	if (r_ch == 0 && r_kvm == 0)
		return 0;
	if (reason && asprintf(reason, "%s%s%s", ch_reason ? ch_reason : "",
			       ch_reason && kvm_reason ? "; " : "", kvm_reason ? kvm_reason : "") < 0)
		*reason = NULL;
	free(ch_reason);
	free(kvm_reason);
	return r_ch < 0 ? r_ch : r_kvm;
}

static int unix_listen(const char *path, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int ch_report_listen(const char *vsock_socket, unsigned port)
{
	char *path;
	int fd;

	if (asprintf(&path, "%s_%u", vsock_socket, port) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT) {
		int r = -errno;
		free(path);
		return r;
	}
	fd = unix_listen(path, 16);
	free(path);
	return fd;
}

struct vmm_fds {
	int api_fd, log_fd;
	bool keep_stdout;
};

/* Child side of the spawn (spawn.h): only async-signal-safe calls before execve(). */
static int vmm_setup(void *p)
{
	const struct vmm_fds *c = p;
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || (!c->keep_stdout && dup2(c->log_fd, STDOUT_FILENO) < 0) ||
	    dup2(c->log_fd, STDERR_FILENO) < 0)
		return -errno;
	/* dup2 clears FD_CLOEXEC on the copy, but does nothing when api_fd already is 3 */
	if (c->api_fd == CH_API_FD ? fcntl(c->api_fd, F_SETFD, 0) < 0 : dup2(c->api_fd, CH_API_FD) < 0)
		return -errno;
	/* everything above fd 3 is closed by the exec (the spawn's error pipe works until then) */
	if (close_range(CH_API_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/* An exec failure (missing, not executable) comes back as -errno with *EXEC_FAILED set. */
static int spawn_vmm(const char *path, const struct ch_vm_config *cfg, int api_fd, pid_t *pid, bool *exec_failed)
{
	char api_arg[32], *log_path;
	char *const argv[] = { (char *)path, "--api-socket", api_arg, NULL };
	struct vmm_fds c = { .api_fd = api_fd, .keep_stdout = !cfg->serial_log && cfg->serial_tty };
	struct spawn_req rq = { .path = path, .argv = argv, .envp = clean_env, .setup = vmm_setup, .ctx = &c };
	int r;

	*exec_failed = false;
	snprintf(api_arg, sizeof api_arg, "fd=%d", CH_API_FD);
	if (asprintf(&log_path, "%s/cloud-hypervisor.log", cfg->runtime_dir) < 0)
		return -ENOMEM;
	c.log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(log_path);
	if (c.log_fd < 0)
		return -errno;
	r = spawn_start(&rq, pid);
	*exec_failed = r < 0;
	close(c.log_fd);
	return r;
}

/* GET vmm.ping until CH answers, it dies, or CH_START_TIMEOUT_MS passes. */
static int wait_for_api(struct ch_vm *vm, char **error)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	long long start = mono_ms();
	struct ch_api_reply reply;
	int status;

	while (mono_ms() - start < CH_START_TIMEOUT_MS) {
		if (waitpid(vm->pid, &status, WNOHANG) == vm->pid) {
			vm->pid = 0;
			set_reason(error, "cloud-hypervisor exited at start (status %d); see "
				   "cloud-hypervisor.log in the run directory", status);
			return -ECHILD;
		}
		if (ch_api_request(vm->api_socket, "GET", "vmm.ping", NULL, 1000, &reply) == 0) {
			long http = reply.status;
			ch_api_reply_free(&reply);
			if (http == 200)
				return 0;
		}
		nanosleep(&pause, NULL);
	}
	set_reason(error, "cloud-hypervisor's API did not answer vmm.ping within %d ms",
		   CH_START_TIMEOUT_MS);
	return -ETIMEDOUT;
}

static int create_and_boot(const struct ch_vm_config *cfg, struct ch_vm *vm, char **error)
{
	char *json = NULL;
	int r = ch_config_to_json(cfg, &json, error);

	if (r < 0)
		return r;
	r = ch_api_put(vm->api_socket, "vm.create", json, CH_API_TIMEOUT_MS, error);
	ch_config_json_free(json);
	if (r < 0)
		return r;
	return ch_api_put(vm->api_socket, "vm.boot", NULL, CH_API_TIMEOUT_MS, error);
}

static int start_vmm(const struct ch_vm_config *cfg, const char *path, struct ch_vm *vm, char **error)
{
	int api_fd, r;

	if (asprintf(&vm->api_socket, "%s/ch-api.sock", cfg->runtime_dir) < 0) {
		vm->api_socket = NULL;
		return -ENOMEM;
	}
	api_fd = unix_listen(vm->api_socket, 8);
	if (api_fd < 0) {
		set_reason(error, "cannot listen on the API socket %s: %s", vm->api_socket, strerror(-api_fd));
		return api_fd;
	}
	bool exec_failed;
	r = spawn_vmm(path, cfg, api_fd, &vm->pid, &exec_failed);
	close(api_fd);
	if (r < 0) {
		vm->pid = 0;
		if (exec_failed && error)
			*error = spawn_error_text(path, r);
		else
			set_reason(error, "cannot prepare %s: %s", path, strerror(-r));
	}
	return r;
}

int ch_launch(const struct ch_vm_config *cfg, struct ch_vm *vm, char **error)
{
	char *path = NULL;
	int r;

	*vm = (struct ch_vm){ 0 };
	if (error)
		*error = NULL;
	r = ch_query_version(cfg->binary, &vm->version_major, &vm->version_minor, error);
	if (r < 0)
		return r;
	path = resolve_binary(cfg->binary ? cfg->binary : "cloud-hypervisor");
	r = path ? start_vmm(cfg, path, vm, error) : -ENOENT;
	free(path);
	if (r == 0)
		r = wait_for_api(vm, error);
	if (r == 0)
		r = create_and_boot(cfg, vm, error);
	if (r < 0)
		ch_stop(vm, 1000);
	return r;
}

int ch_stop(struct ch_vm *vm, int grace_ms)
{
	int status = 0;

	if (vm->pid > 0) {
		/* both may fail (no VM yet, VMM already gone): the wait below is what counts */
		ch_api_put(vm->api_socket, "vm.shutdown", NULL, 2000, NULL);
		ch_api_put(vm->api_socket, "vmm.shutdown", NULL, 2000, NULL);
		status = ch_reap_within(vm->pid, grace_ms);
		if (status == -ETIMEDOUT) {
			kill(vm->pid, SIGKILL);
			status = waitpid(vm->pid, &status, 0) < 0 ? -errno : status;
		}
		vm->pid = 0;
	}
	if (vm->api_socket) {
		unlink(vm->api_socket);
		free(vm->api_socket);
		vm->api_socket = NULL;
	}
	return status;
}
