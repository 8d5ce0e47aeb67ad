/* snapshot: sources + prediction + store under one root. */
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

int snapshot_load(const struct cli_ctx *ctx, struct snapshot *s)
{
	struct utsname u;
	int r;
	memset(s, 0, sizeof *s);
	snprintf(s->kernel, sizeof s->kernel, "%s", uname(&u) == 0 ? u.release : "unknown");
	r = sources_load(ctx->root, ctx->systemd_version, &s->env, &s->sources);
	if (r < 0)
		return r;   /* sources_load said what failed */
	r = predict_import(&s->sources, &s->env, &s->pred);
	if (r < 0) {
		fprintf(stderr, "credscope: predicting systemd's import failed: %s\n", strerror(-r));
		sources_free(&s->sources);
		return r;
	}
	r = credstore_load(ctx->root, s->pred.env.systemd_version, &s->store);
	if (r < 0) {
		prediction_free(&s->pred);
		sources_free(&s->sources);
		return r;
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
