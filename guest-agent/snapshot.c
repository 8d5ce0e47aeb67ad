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
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	credstore_free(&s->store);
	prediction_free(&s->pred);
	sources_free(&s->sources);
	memset(s, 0, sizeof *s);
}
