/* console: phase tracking over the guest's serial console log. */
#include "runner/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

int console_watch_open(struct console_watch *w, const char *path)
{
	memset(w, 0, sizeof *w);
	w->fd = open(path, O_RDONLY | O_CLOEXEC | O_CREAT, 0600);
	return w->fd < 0 ? -errno : 0;
}

static void stamp(long long *at, long long now_ms)
{
	if (!*at)
		*at = now_ms;
}

static void raise_phase(struct console_watch *w, enum boot_phase p)
{
	if (p > w->phase)
		w->phase = p;
}

static void copy_line(char *dst, size_t dsz, const char *s)
{
	snprintf(dst, dsz, "%s", s);
}

/* Drops ANSI CSI sequences (systemd's colours) so the tail reads as text. */
static void strip_ansi(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\033' && p[1] == '[') {
			p += 2;
			while (*p && !(*p >= '@' && *p <= '~'))
				p++;
			if (!*p)
				break;
			continue;
		}
		if (p[0] == '\033' && p[1]) {   /* two-byte escapes such as ESC M */
			p++;
			continue;
		}
		if (*p == '\r')
			continue;
		*o++ = *p;
	}
	*o = 0;
}

/* One complete console line. */
static void on_line(struct console_watch *w, char *line, long long now_ms)
{
	strip_ansi(line);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\r'))
		line[--n] = 0;
	if (strstr(line, "Linux version") || strstr(line, "Command line:"))
		raise_phase(w, PHASE_KERNEL);
	if (strstr(line, "systemd[1]") || strstr(line, "Welcome to ") || strstr(line, "[  OK  ]") ||
	    strstr(line, "running in system mode")) {
		raise_phase(w, PHASE_SYSTEMD);
		stamp(&w->pid1_ms, now_ms);
	}
	/* PID 1 imports credentials before it loads units: its first job is an upper bound */
	if (w->pid1_ms && (strstr(line, "Queued start job") || strstr(line, "Reached target") || strstr(line, "[  OK  ]") ||
	    strstr(line, "Starting ")))
		stamp(&w->first_job_ms, now_ms);
	/* the agent: its unit starting, or its first line (credscope-generator writes to the
	 * kernel log before any unit starts) */
	if (strstr(line, "credscope-report.service") || strstr(line, "credscope: report imported") ||
	    strstr(line, "credscope["))
		stamp(&w->agent_ms, now_ms);
	if (strstr(line, "CREDSCOPE-VERDICT:")) {
		raise_phase(w, PHASE_REPORT);
		stamp(&w->verdict_ms, now_ms);
		copy_line(w->verdict_line, sizeof w->verdict_line, strstr(line, "CREDSCOPE-VERDICT:"));
	}
	if (strstr(line, "Kernel panic - not syncing") && !w->panicked) {
		w->panicked = true;
		copy_line(w->panic_line, sizeof w->panic_line, strstr(line, "Kernel panic"));
	}
	free(w->tail[w->tail_next]);
	w->tail[w->tail_next] = strdup(line);
	w->tail_next = (w->tail_next + 1) % CONSOLE_TAIL_LINES;
}

void console_watch_feed(struct console_watch *w, const char *buf, size_t len, long long now_ms)
{
	if (len == 0)
		return;
	w->any_output = true;
	w->last_output_ms = now_ms;
	stamp(&w->first_output_ms, now_ms);
	raise_phase(w, PHASE_KERNEL);   /* firmware prints nothing here: output means a kernel */
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' || w->partial_len == sizeof w->partial - 1) {
			w->partial[w->partial_len] = 0;
			on_line(w, w->partial, now_ms);
			w->partial_len = 0;
			if (buf[i] == '\n')
				continue;
		}
		w->partial[w->partial_len++] = buf[i] ? buf[i] : ' ';
	}
}

int console_watch_update(struct console_watch *w, long long now_ms)
{
	char buf[8192];
	int total = 0;
	for (;;) {
		ssize_t n = fd_read_full(w->fd, buf, sizeof buf);
		if (n < 0)
			return (int)n;
		console_watch_feed(w, buf, (size_t)n, now_ms);
		total += (int)n;
		if ((size_t)n < sizeof buf)   /* short only at the log's current end */
			return total;
	}
}

char *console_watch_tail(const struct console_watch *w, size_t max_lines)
{
	size_t len = 1;
	if (max_lines > CONSOLE_TAIL_LINES)
		max_lines = CONSOLE_TAIL_LINES;
	for (size_t i = 0; i < CONSOLE_TAIL_LINES; i++)
		len += w->tail[i] ? strlen(w->tail[i]) + 1 : 0;
	len += w->partial_len + 1;
	char *out = calloc(1, len);
	if (!out)
		return NULL;
	size_t start = (w->tail_next + CONSOLE_TAIL_LINES - max_lines) % CONSOLE_TAIL_LINES;
	for (size_t k = 0; k < max_lines; k++) {
		const char *l = w->tail[(start + k) % CONSOLE_TAIL_LINES];
		if (l) {
			strcat(out, l);
			strcat(out, "\n");
		}
	}
	strncat(out, w->partial, w->partial_len);
	return out;
}

void console_watch_close(struct console_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < CONSOLE_TAIL_LINES; i++)
		free(w->tail[i]);
	memset(w, 0, sizeof *w);
	w->fd = -1;
}

static void since(long long *dst, long long at, long long t0)
{
	if (at)
		*dst = at > t0 ? at - t0 : 0;
}

void console_watch_timeline(const struct console_watch *w, long long t0, struct run_timeline *t)
{
	since(&t->kernel_ms, w->first_output_ms, t0);
	since(&t->pid1_ms, w->pid1_ms, t0);
	since(&t->import_ms, w->first_job_ms, t0);
	since(&t->agent_ms, w->agent_ms, t0);
	since(&t->verdict_ms, w->verdict_ms, t0);
}
