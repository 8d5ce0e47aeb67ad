/* pid1_check: PID 1's log against the prediction (pid1_check.h). */
#include "pid1_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "secret.h"
#include "strutil.h"
#include "systemd/pid1_lines.h"
#include "systemd/proc_cmdline.h"
#include "systemd/versions.h"

/* PID 1's own ratelimit note (src/basic/log.c:607@254.26, :624@257.13, :603@262) and what it
 * logs just before the import (log_execution_mode(), src/core/main.c:2056@252.39,
 * :2324@257.13, :2562@262, called before initialize_runtime() imports: :2955-2957@252.39,
 * :3310-3312@257.13). */
#define PID1_KMSG_RATELIMITED "Too many messages being logged to kmsg, ignoring"
#define PID1_RUNNING " running in system mode ("
/* write_to_kmsg()'s ratelimit: 200 lines per 5 s (src/basic/log.c:541@252.39, :609@257.13). */
#define PID1_KMSG_BURST 200u
#define PID1_KMSG_INTERVAL_USEC 5000000u

/* printk.devkmsg= as the kernel takes it (control_devkmsg(), kernel/printk/printk.c:124-179
 * @6.1.176): a value starting with "on", "off" or "ratelimit", the last such one; NULL when
 * none. The result points into a static string. */
static const char *cmdline_devkmsg(const char *cmdline)
{
	const char *p = cmdline, *mode = NULL;
	char *w;

	while (p && proc_cmdline_next_word(&p, cmdline + strlen(cmdline), &w) > 0) {
		char *eq = strchr(w, '=');
		size_t len = strlen(w);
		if (eq) {
			*eq = 0;
			if (proc_cmdline_key_eq(w, "printk.devkmsg"))
				mode = strncmp(eq + 1, "on", 2) == 0 ? "on" : strncmp(eq + 1, "off", 3) == 0 ? "off" :
				       strncmp(eq + 1, "ratelimit", 9) == 0 ? "ratelimit" : mode;
		}
		secret_free(w, len);   /* a word may be a credential's */
	}
	return mode;
}

/* PID 1 wrote BURST lines within the interval: systemd < 254 drops the next ones silently. */
static bool burst_reached(const struct kmsg_log *log)
{
	for (size_t i = 0; i + PID1_KMSG_BURST - 1 < log->n_pid1; i++)
		if (log->pid1[i + PID1_KMSG_BURST - 1].usec - log->pid1[i].usec < PID1_KMSG_INTERVAL_USEC)
			return true;
	return false;
}

static bool pid1_logged(const struct kmsg_log *log, bool (*match)(const char *))
{
	for (size_t i = 0; i < log->n_pid1; i++)
		if (match(log->pid1[i].text))
			return true;
	return false;
}

static bool is_ratelimit_note(const char *t)
{
	return strcmp(t, PID1_KMSG_RATELIMITED) == 0;
}

static bool is_running_line(const char *t)
{
	return strncmp(t, "systemd ", 8) == 0 && strstr(t, PID1_RUNNING);
}

/* Whether nothing of PID 1's info lines is lost from LOG; else why not, into WHY. */
static bool judge_complete(const struct systemd_release *rel, const struct kmsg_log *log, const char *cmdline,
			   char *why, size_t n)
{
	const char *mode = log->devkmsg[0] ? log->devkmsg : cmdline ? cmdline_devkmsg(cmdline) : NULL;

	if (log->capped || log->read_error)
		snprintf(why, n, "credscope did not read all of it (%s)", log->capped ? "it stops at 100000 records or "
			 "4 MiB" : "a read failed");
	else if (log->first_seq > 1)
		snprintf(why, n, "its ring buffer wrapped: the oldest record left is number %llu",
			 (unsigned long long) log->first_seq);
	else if (log->missing || log->malformed)
		snprintf(why, n, "%zu of its records are missing and %zu malformed", log->missing, log->malformed);
	else if (log->systemd_suppressed)
		snprintf(why, n, "the kernel suppressed %zu lines of systemd (printk ratelimiting)", log->systemd_suppressed);
	else if (mode && strcmp(mode, "on") != 0)
		snprintf(why, n, "%s is %s, so the kernel may have dropped PID 1's lines (10 per 5 s)",
			 log->devkmsg[0] ? "kernel.printk_devkmsg" : "printk.devkmsg= on the kernel command line", mode);
	else if (pid1_logged(log, is_ratelimit_note) || (!rel->kmsg_ratelimit_notice && burst_reached(log)))
		snprintf(why, n, "PID 1 reached its own /dev/kmsg limit of %u lines in 5 s", PID1_KMSG_BURST);
	else if (!pid1_logged(log, is_running_line))
		snprintf(why, n, "PID 1's \"systemd ... running in system mode\" line is not in it, so PID 1 did not "
			 "log at info level to /dev/kmsg");
	else
		return true;
	return false;
}

/* ---- one comparison ------------------------------------------------------------------------ */

struct cmp {
	const struct prediction *p;
	const struct systemd_release *rel;
	char sd[64];                  /* "systemd 257" */
	struct pid1_check *out;
};

/* Records a disagreement (NAME raw or NULL for ""; MESSAGE malloc'd, NULL means ENOMEM). */
static int disagree(struct cmp *c, const char *name, char *message)
{
	struct pid1_disagreement *v;

	c->out->compared++;
	if (!message)
		return -ENOMEM;
	v = realloc(c->out->dis, (c->out->n_dis + 1) * sizeof *v);
	if (!v || !(v[c->out->n_dis].name = strdup(name ? name : ""))) {
		if (v)
			c->out->dis = v;
		free(message);
		return -ENOMEM;
	}
	c->out->dis = v;
	v[c->out->n_dis++].message = message;
	return 0;
}

/* PID 1's line for a sentence: its text unescaped, the command line word's value elided. */
static char *quote_found(const char *text, const struct pid1_line *l)
{
	if (l->kind == PID1_LINE_CMDLINE_NO_COLON)
		return pid1_line_text(l->kind, NULL, NULL, 0);
	return kmsg_unescape(text);
}

static char *quote_expected(const struct pid1_expect *e)
{
	char *name = e->name ? kmsg_unescape(e->name) : NULL, *value = e->value ? kmsg_unescape(e->value) : NULL;
	char *t = (e->name && !name) || (e->value && !value) ? NULL : pid1_line_text(e->kind, name, value, e->regular);

	free(name);
	free(value);
	return t;
}

/* Why the prediction has no line like L: one clause. */
static char *no_such_line(struct cmp *c, const struct pid1_line *l, const char *name)
{
	struct name_facts nf;

	if (!pid1_line_logged_by(l->kind, c->rel))
		return strprintf("%s does not log this line", c->sd);
	if (c->p->skip_reason && l->kind != PID1_LINE_IMPORT_DISABLED)
		return strprintf("%s imports nothing: %s", c->sd, c->p->skip_reason);
	switch (l->kind) {
	case PID1_LINE_IMPORT_DISABLED:
		return strprintf("%s runs the import (it finds no systemd.import_credentials=no)", c->sd);
	case PID1_LINE_ACQUIRED:
	case PID1_LINE_RECEIVED:
		for (size_t i = 0; i < c->p->n_cands; i++)
			if (c->p->cands[i].fate == FATE_IMPORTED || c->p->cands[i].fate == FATE_IMPORTED_TRUNCATED)
				return strprintf("%s logs it once, after the import", c->sd);
		return strprintf("%s imports no credential here, and PID 1 logs that at debug level only", c->sd);
	case PID1_LINE_SMBIOS_NO_EQ:
	case PID1_LINE_CMDLINE_NO_COLON:
	case PID1_LINE_WRITE_FAILED:
	case PID1_LINE_CMDLINE_FAILED:
		return strprintf("%s predicts fewer of these lines", c->sd);
	default:
		break;
	}
	name_facts_collect(c->p, name, &nf);
	if (nf.winner)
		return strprintf("%s imports %s from %s", c->sd, name, nf.winner->origin);
	if (nf.dropped)
		return strprintf("%s drops %s from %s as %s", c->sd, name, nf.dropped->origin,
				 cred_fate_name(nf.dropped->fate));
	if (nf.n_candidates)
		return strprintf("%s ignores %s as a duplicate", c->sd, name);
	return strprintf("no source credscope can read carries %s", name);
}

/* A line PID 1 logged, matched or not. */
static int found_line(struct cmp *c, const char *text, const struct pid1_line *l, struct pid1_expect *e,
		      size_t n_e, bool *used)
{
	char *quote = quote_found(text, l), *name = l->name ? kmsg_unescape(l->name) : NULL, *msg = NULL, *exp, *why;
	size_t i = 0;
	int r;

	while (i < n_e && (used[i] || e[i].kind != l->kind || (l->name && (!e[i].name || strcmp(e[i].name, l->name)))))
		i++;
	if (!quote || (l->name && !name)) {
		r = -ENOMEM;
	} else if (i < n_e) {
		used[i] = true;
		bool same = l->kind == PID1_LINE_ACQUIRED ? l->regular == e[i].regular :
			    e[i].value ? l->value && strcmp(l->value, e[i].value) == 0 : true;
		if (same) {
			c->out->compared++;
			c->out->agree++;
			r = 0;
		} else {
			exp = quote_expected(&e[i]);
			msg = exp ? strprintf("PID 1 logged \"%s\", but the model (%s) predicts \"%s\": the model does "
					      "not match what PID 1 did.", quote, c->sd, exp) : NULL;
			free(exp);
			r = disagree(c, e[i].cand && e[i].cand->name ? e[i].cand->name : name, msg);
		}
	} else {
		why = no_such_line(c, l, name ? name : "");
		msg = why ? strprintf("PID 1 logged \"%s\", but the model (%s) predicts no such line: %s.", quote, c->sd,
				      why) : NULL;
		free(why);
		r = disagree(c, name, msg);
	}
	free(quote);
	free(name);
	return r;
}

/* An expected line PID 1's complete log lacks. */
static int absent_line(struct cmp *c, const struct pid1_expect *e)
{
	char *exp = quote_expected(e);
	char *msg = exp ? strprintf("The model (%s) predicts PID 1 logged \"%s\"%s%s%s, but PID 1's complete log in "
				    "/dev/kmsg has no such line.", c->sd, exp, e->cand ? " (" : "",
				    e->cand ? e->cand->origin : "", e->cand ? ")" : "") : NULL;

	free(exp);
	return disagree(c, e->cand && e->cand->name ? e->cand->name : NULL, msg);
}

static int compare(struct cmp *c, const struct kmsg_log *log)
{
	struct pid1_expect *e = NULL;
	size_t n_e = 0;
	bool *used;
	int r = pid1_expect_lines(c->p, &e, &n_e);

	if (r < 0)
		return r;
	used = calloc(n_e + 1, sizeof *used);
	if (!used)
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < log->n_pid1; i++) {
		struct pid1_line l;
		r = pid1_line_parse(log->pid1[i].text, &l);
		if (r > 0) {
			c->out->lines++;
			r = found_line(c, log->pid1[i].text, &l, e, n_e, used);
			pid1_line_free(&l);
		}
	}
	for (size_t i = 0; r >= 0 && c->out->complete && i < n_e; i++)
		if (!used[i] && e[i].required)
			r = absent_line(c, &e[i]);
	free(used);
	pid1_expect_free(e, n_e);
	return r < 0 ? r : 0;
}

/* The last "Acquired ..." line: PID 1 logs it when its import is done (254+). */
static void note_import_time(const struct kmsg_log *log, struct pid1_check *out)
{
	for (size_t i = 0; i < log->n_pid1; i++) {
		struct pid1_line l;
		if (pid1_line_parse(log->pid1[i].text, &l) > 0 && l.kind == PID1_LINE_ACQUIRED)
			out->import_seen = true, out->import_usec = log->pid1[i].usec;
		pid1_line_free(&l);
	}
}

static size_t count_lines(const struct kmsg_log *log)
{
	size_t n = 0;

	for (size_t i = 0; i < log->n_pid1; i++) {
		struct pid1_line l;
		int r = pid1_line_parse(log->pid1[i].text, &l);
		n += r > 0;
		pid1_line_free(&l);
	}
	return n;
}

int pid1_check_run(const struct prediction *p, const struct kmsg_log *log, const char *cmdline,
		   struct pid1_check *out)
{
	struct cmp c = { .p = p, .rel = systemd_release(p->env.systemd_version), .out = out };
	int r;

	*out = (struct pid1_check) { .read = log->read };
	if (!log->read) {
		snprintf(out->why, sizeof out->why, "%s", log->why_not);
		return 0;
	}
	note_import_time(log, out);
	out->complete = judge_complete(c.rel, log, cmdline, out->why, sizeof out->why);
	if (p->env.credentials_dir_preset || !c.rel->has_import) {
		out->lines = count_lines(log);
		snprintf(out->why, sizeof out->why, "%s", import_env_initrd_pid1(&p->env) ?
			 "not compared: the initrd's PID 1 imported before switch-root, and both PID 1s log "
			 "their credentials" : p->env.credentials_dir_preset ?
			 "not compared: $CREDENTIALS_DIRECTORY was preset, so an earlier PID 1 imported" :
			 "not compared: this systemd has no credential import");
		return 0;
	}
	explain_systemd(p, c.sd, sizeof c.sd);
	r = compare(&c, log);
	if (r < 0)
		pid1_check_free(out);
	return r;
}

void pid1_check_free(struct pid1_check *c)
{
	for (size_t i = 0; i < c->n_dis; i++) {
		free(c->dis[i].name);
		free(c->dis[i].message);
	}
	free(c->dis);
	c->dis = NULL;
	c->n_dis = 0;
}

const char *pid1_check_summary(const struct pid1_check *c, char *buf, size_t n)
{
	char *why = text_escape(c->why);   /* it may name a path under --root */

	if (!c->read)
		snprintf(buf, n, "PID 1's log: none (%s).", why ? why : "?");
	else
		snprintf(buf, n, "PID 1's log (/dev/kmsg, %s%s%s): %zu import line%s, %zu compared, %zu agree%s.",
			 c->complete ? "complete" : "incomplete", c->why[0] ? ": " : "", why ? why : "?", c->lines,
			 c->lines == 1 ? "" : "s", c->compared, c->agree, c->agree == 1 ? "s" : "");
	free(why);
	return buf;
}
