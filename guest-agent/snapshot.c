/* snapshot: sources + prediction + store under one root. */
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "strutil.h"

/* The sentence for a failure the loader did not word itself (out of memory). */
static int unworded(char **error, int r, const char *what)
{
	if (!*error)
		*error = strprintf("%s failed: %s", what, strerror(-r));
	return r;
}

/* PID 1's log, read and compared (pid1_check.h). 0 or -ENOMEM. */
static int load_pid1_log(const struct cli_ctx *ctx, struct snapshot *s)
{
	struct kmsg_log log = { 0 };
	int r = 0;

	if (s->env.in_container)
		snprintf(log.why_not, sizeof log.why_not, "in a container PID 1 logs to the console, not to /dev/kmsg");
	else
		r = kmsg_load(ctx->root, &log);
	if (r == 0)
		r = pid1_check_run(&s->pred, &log, s->sources.cmdline, &s->pid1);
	kmsg_log_free(&log);
	return r;
}

int snapshot_load(const struct cli_ctx *ctx, struct snapshot *s, char **error)
{
	struct utsname u;
	int r;
	memset(s, 0, sizeof *s);
	*error = NULL;
	snprintf(s->kernel, sizeof s->kernel, "%s", uname(&u) == 0 ? u.release : "unknown");
	r = sources_load(ctx->root, ctx->systemd_version, &s->env, &s->sources, error);
	if (r < 0)
		return unworded(error, r, "reading the credential sources");
	/* The store first: its file system's capacity is an input of the replay (a full tmpfs
	 * stops a source). */
	r = credstore_load(ctx->root, s->env.systemd_version, &s->store, error);
	if (r < 0) {
		sources_free(&s->sources);
		return unworded(error, r, "reading " CREDSTORE_PATH);
	}
	credstore_limits(&s->store, &s->env.store);
	r = predict_import(&s->sources, &s->env, &s->pred);
	if (r < 0) {
		credstore_free(&s->store);
		sources_free(&s->sources);
		return unworded(error, r, "predicting systemd's import");
	}
	r = load_pid1_log(ctx, s);
	if (r < 0) {
		snapshot_free(s);
		return unworded(error, r, "reading PID 1's log");
	}
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	pid1_check_free(&s->pid1);
	credstore_free(&s->store);
	prediction_free(&s->pred);
	sources_free(&s->sources);
	memset(s, 0, sizeof *s);
}
