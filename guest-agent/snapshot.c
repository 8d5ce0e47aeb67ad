/* snapshot: sources + prediction + store under one root. */
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "secret.h"
#include "strutil.h"

/* The sentence for a failure the loader did not word itself (out of memory). */
static int unworded(char **error, int r, const char *what)
{
	if (!*error)
		*error = strprintf("%s failed: %s", what, strerror(-r));
	return r;
}

/* PID 1's log, read and compared (pid1_check.h). 0 or -ENOMEM. */
static int load_pid1_log(const struct cli_ctx *ctx, struct snapshot *s, const char *cmdline)
{
	struct kmsg_log log = { 0 };
	int r = 0;

	if (s->env.in_container)
		snprintf(log.why_not, sizeof log.why_not, "in a container PID 1 logs to the console, not to /dev/kmsg");
	else
		r = kmsg_load(ctx->root, &log);
	if (r == 0)
		r = pid1_check_run(&s->pred, &log, cmdline, &s->pid1);
	kmsg_log_free(&log);
	return r;
}

/* The prediction's imported credentials by name, for credstore_share: a store file whose
 * bytes are what the replay says systemd wrote keeps the prediction's buffer instead of a
 * second copy (the usual case: every file as predicted). */
struct winners {
	const struct cred_candidate **c;
	size_t n;
};

static int cmp_winner(const void *a, const void *b)
{
	return strcmp((*(const struct cred_candidate *const *)a)->name, (*(const struct cred_candidate *const *)b)->name);
}

/* Only the first imported candidate of a name is its winner (prediction_winner()). */
static int winners_index(const struct prediction *p, struct winners *w)
{
	w->n = 0;
	w->c = p->n_cands ? calloc(p->n_cands, sizeof *w->c) : NULL;
	if (p->n_cands && !w->c)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_cands; i++) {
		const struct cred_candidate *c = &p->cands[i];
		if ((c->fate == FATE_IMPORTED || c->fate == FATE_IMPORTED_TRUNCATED) && c->name && c->imported)
			w->c[w->n++] = c;
	}
	if (w->n)
		qsort(w->c, w->n, sizeof *w->c, cmp_winner);
	return 0;
}

static const uint8_t *same_as_winner(void *userdata, const char *name, const uint8_t *data, size_t size)
{
	const struct winners *w = userdata;
	struct cred_candidate key = { .name = (char *)name };
	const struct cred_candidate *kp = &key, *const *found;
	found = w->n ? bsearch(&kp, w->c, w->n, sizeof *w->c, cmp_winner) : NULL;
	if (!found)
		return NULL;
	/* qsort is not stable: step back to the first of equal names in processing order */
	while (found > w->c && strcmp(found[-1]->name, name) == 0)
		found--;
	const struct cred_candidate *best = *found;
	for (const struct cred_candidate *const *f = found; f < w->c + w->n && strcmp((*f)->name, name) == 0; f++)
		if (*f < best)
			best = *f;
	return best->imported_len == size && memcmp(best->imported, data, size) == 0 ? best->imported : NULL;
}

int snapshot_load(const struct cli_ctx *ctx, struct snapshot *s, char **error)
{
	struct import_sources sources;
	struct winners w = { 0 };
	struct utsname u;
	char *cmdline;
	int r;
	memset(s, 0, sizeof *s);
	*error = NULL;
	snprintf(s->kernel, sizeof s->kernel, "%s", uname(&u) == 0 ? u.release : "unknown");
	r = sources_load(ctx->root, ctx->systemd_version, &s->env, &sources, error);
	if (r < 0)
		return unworded(error, r, "reading the credential sources");
	/* The store's filesystem first: its capacity is an input of the replay (a full tmpfs
	 * stops a source). */
	r = credstore_load_fs(ctx->root, s->env.systemd_version, &s->store, error);
	if (r < 0) {
		sources_free(&sources);
		return unworded(error, r, "reading " CREDSTORE_PATH);
	}
	credstore_limits(&s->store, &s->env.store);
	r = predict_import(&sources, &s->env, &s->pred);
	/* The raw sources are not needed past the replay (the prediction holds its own copies),
	 * only the command line, for PID 1's log; freeing them before the store is read keeps
	 * one copy of the credentials in memory, not three. */
	cmdline = sources.cmdline;
	sources.cmdline = NULL;
	sources_free(&sources);
	if (r < 0) {
		credstore_free(&s->store);
		goto fail;
	}
	if ((r = winners_index(&s->pred, &w)) < 0) {
		snapshot_free(s);
		goto fail;
	}
	r = credstore_load_files(ctx->root, &s->store, &(struct credstore_share){ same_as_winner, &w }, error);
	free(w.c);
	if (r < 0) {
		snapshot_free(s);
		if (cmdline)
			secret_free(cmdline, strlen(cmdline));
		return unworded(error, r, "reading " CREDSTORE_PATH);
	}
	r = load_pid1_log(ctx, s, cmdline);
	if (r < 0) {
		snapshot_free(s);
		if (cmdline)
			secret_free(cmdline, strlen(cmdline));
		return unworded(error, r, "reading PID 1's log");
	}
	if (cmdline)
		secret_free(cmdline, strlen(cmdline));
	return 0;
fail:
	if (cmdline)
		secret_free(cmdline, strlen(cmdline));
	return unworded(error, r, "predicting systemd's import");
}

void snapshot_free(struct snapshot *s)
{
	pid1_check_free(&s->pid1);
	/* the store first: its files may hold the prediction's buffers (f->shared) */
	credstore_free(&s->store);
	prediction_free(&s->pred);
	memset(s, 0, sizeof *s);
}
