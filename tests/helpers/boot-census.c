/* boot-census OUT ROOT_PID: counts the VM boots of one `make check` from the outside, so
 * every way a test starts a guest counts the same (the harness, credscope-launch,
 * vm-images/run-vm, a test's own qemu-system-x86_64 line) and none of them needs code for
 * it. Every 100 ms it lists /proc; a qemu-system-* process that descends from ROOT_PID and
 * was given a -kernel (a boot, not the harness's KVM probe) is watched until it is gone,
 * then one line is appended to OUT:
 *
 *   boot PID WALL_S CPU_S TEST
 *
 * WALL_S from the process's start (/proc/PID/stat starttime) to the first poll that no
 * longer sees it (at most 0.1 s late), CPU_S its user + system time at the last poll (at
 * most 0.1 s short), TEST the integration test it ran under (the first ancestor with an
 * argument ending in ".test"), or "-". It ends on SIGTERM or SIGINT (after writing what it
 * watched) or when ROOT_PID is gone. tests/summarize reads OUT. Other users' VMs on a
 * shared machine are not counted: they do not descend from ROOT_PID. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_WATCHED 256
#define POLL_NS (100 * 1000 * 1000L)

struct watched {
	int pid;
	unsigned long long start_ticks;   /* /proc/PID/stat field 22 */
	double cpu_s;                     /* utime + stime at the last poll */
	char test[96];
	bool seen;                        /* in this poll */
};

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Fields of /proc/PID/stat after the command name: ppid (4), utime (14), stime (15),
 * starttime (22). Returns 0, or -1 when the process is gone or the line is odd. */
static int read_stat(int pid, int *ppid, double *cpu_s, unsigned long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0, stt = 0;
	int pp = 0;
	/* after ") ": state(3) ppid(4) pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime(14) stime(15) cutime cstime priority nice threads itreal starttime(22) */
	if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
			 &pp, &ut, &st, &stt) != 4)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	*ppid = pp;
	*cpu_s = (double)(ut + st) / (double)(hz > 0 ? hz : 100);
	*start = stt;
	return 0;
}

/* The NUL-separated command line of PID into BUF; its length, 0 when gone. */
static size_t read_cmdline(int pid, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	return n;
}

static bool has_arg(const char *cmd, size_t n, const char *arg)
{
	for (size_t i = 0; i < n; i += strlen(cmd + i) + 1)
		if (strcmp(cmd + i, arg) == 0)
			return true;
	return false;
}

/* The basename without ".test" of the first argument ending in ".test", into OUT. */
static bool test_arg(const char *cmd, size_t n, char *out, size_t size)
{
	for (size_t i = 0; i < n; i += strlen(cmd + i) + 1) {
		const char *a = cmd + i, *b = strrchr(a, '/');
		size_t l = strlen(a);
		if (l > 5 && strcmp(a + l - 5, ".test") == 0) {
			b = b ? b + 1 : a;
			snprintf(out, size, "%.*s", (int)(strlen(b) - 5), b);
			return true;
		}
	}
	return false;
}

/* Whether PID descends from ROOT; the test it runs under goes to TEST ("-" if none). */
static bool descends(int pid, int root, char *test, size_t size)
{
	static char cmd[8192];
	snprintf(test, size, "-");
	bool named = false;
	for (int depth = 0; depth < 64 && pid > 1; depth++) {
		int ppid;
		double cpu;
		unsigned long long st;
		if (pid == root)
			return true;
		size_t n = read_cmdline(pid, cmd, sizeof cmd);
		if (!named && n)
			named = test_arg(cmd, n, test, size);
		if (read_stat(pid, &ppid, &cpu, &st) < 0)
			return false;
		pid = ppid;
	}
	return pid == root;
}

static double boottime_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A qemu-system-* process given a -kernel: a boot (the KVM probe boots no kernel). */
static bool is_boot(int pid)
{
	static char cmd[65536];
	char path[64], comm[32] = "";
	snprintf(path, sizeof path, "/proc/%d/comm", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool qemu = fgets(comm, sizeof comm, f) && strncmp(comm, "qemu-system", 11) == 0;
	fclose(f);
	size_t n = qemu ? read_cmdline(pid, cmd, sizeof cmd) : 0;
	return n && has_arg(cmd, n, "-kernel");
}

struct census {
	struct watched w[MAX_WATCHED];
	size_t n;
	struct { int pid; unsigned long long start; } ignored[MAX_WATCHED];
	size_t n_ignored, next_ignored;
	double last_poll;
};

static bool known(struct census *c, int pid, unsigned long long start, double cpu)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->w[i].pid == pid && c->w[i].start_ticks == start) {
			c->w[i].cpu_s = cpu;
			c->w[i].seen = true;
			return true;
		}
	for (size_t i = 0; i < c->n_ignored; i++)
		if (c->ignored[i].pid == pid && c->ignored[i].start == start)
			return true;
	return false;
}

static void consider(struct census *c, int pid, int root)
{
	int ppid;
	double cpu;
	unsigned long long start;
	if (read_stat(pid, &ppid, &cpu, &start) < 0 || known(c, pid, start, cpu) || !is_boot(pid))
		return;
	struct watched w = { .pid = pid, .start_ticks = start, .cpu_s = cpu, .seen = true };
	if (c->n < MAX_WATCHED && descends(pid, root, w.test, sizeof w.test)) {
		c->w[c->n++] = w;
		return;
	}
	size_t k = c->next_ignored++ % MAX_WATCHED;   /* other users' VMs: not looked at again */
	c->ignored[k].pid = pid, c->ignored[k].start = start;
	if (c->n_ignored < MAX_WATCHED)
		c->n_ignored++;
}

/* Writes and forgets every watched process not seen in this poll (all of them if ALL). */
static void flush_gone(struct census *c, FILE *out, double now, bool all)
{
	long hz = sysconf(_SC_CLK_TCK);
	for (size_t i = 0; i < c->n;) {
		struct watched *w = &c->w[i];
		if (w->seen && !all) {
			i++;
			continue;
		}
		/* gone between the last poll and this one: the midpoint */
		double end = all ? now : (c->last_poll + now) / 2;
		double wall = end - (double)w->start_ticks / (double)(hz > 0 ? hz : 100);
		fprintf(out, "boot %d %.2f %.2f %s\n", w->pid, wall > 0 ? wall : 0, w->cpu_s, w->test);
		fflush(out);
		c->w[i] = c->w[--c->n];
	}
}

static void poll_once(struct census *c, int root, FILE *out)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	for (size_t i = 0; i < c->n; i++)
		c->w[i].seen = false;
	while (d && (e = readdir(d)))
		if (isdigit((unsigned char)e->d_name[0]))
			consider(c, atoi(e->d_name), root);
	if (d)
		closedir(d);
	double now = boottime_s();
	flush_gone(c, out, now, false);
	c->last_poll = now;
}

int main(int argc, char **argv)
{
	if (argc != 3 || atoi(argv[2]) <= 1) {
		fprintf(stderr, "usage: boot-census OUT ROOT_PID\n");
		return 2;
	}
	int root = atoi(argv[2]);
	FILE *out = fopen(argv[1], "ae");
	if (!out) {
		fprintf(stderr, "boot-census: cannot open %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	static struct census c;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	c.last_poll = boottime_s();
	while (!stop_requested && kill(root, 0) == 0) {
		poll_once(&c, root, out);
		struct timespec ts = { 0, POLL_NS };
		nanosleep(&ts, NULL);
	}
	flush_gone(&c, out, boottime_s(), true);
	fclose(out);
	return 0;
}
