/* differential: the agent's prediction against the store PID 1 wrote (differential.h). */
#include "runner/differential.h"

#include <stdio.h>
#include <string.h>

#define DIFF_PAIRS_MAX 50000000ull

static bool predicted_in(const struct report_source *s)
{
	return strcmp(s->fate, "imported") == 0 || strcmp(s->fate, "imported-truncated") == 0;
}

/* Names and origins are compared in the agent's escaped wire form on both sides. */
static const struct report_cred *store_file(const struct report *r, const char *name)
{
	for (size_t i = 0; name && i < r->n_creds; i++)
		if (strcmp(r->creds[i].name, name) == 0)
			return &r->creds[i];
	return NULL;
}

static bool name_predicted_in(const struct report *r, const char *name)
{
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].name && strcmp(r->sources[i].name, name) == 0 && predicted_in(&r->sources[i]))
			return true;
	return false;
}

static const char *observed(const struct report_cred *c)
{
	return c->origin ? c->origin : "bytes no source string carries";
}

/* One source string: 1 agrees, 0 disagrees (a problem added), -ENOMEM. Problems of one
 * kind, source and fate share a key, so a run of them is one grouped sentence. */
static int judge_string(const struct report *r, const struct report_source *s, struct judgement *j)
{
	const struct report_cred *c = store_file(r, s->name);
	bool same = c && c->origin && strcmp(c->origin, s->origin) == 0;
	char key[160];
	int x;

	if (predicted_in(s) && !c) {
		snprintf(key, sizeof key, "differential missing %.40s %.40s", s->source, s->fate);
		x = judgement_add_about(j, s->name, key, "the model predicts %s from %s, but PID 1 put no such file into %s",
					s->fate, s->origin, r->store_path);
	} else if (predicted_in(s) && !same) {
		snprintf(key, sizeof key, "differential other-bytes %.40s", s->source);
		x = judgement_add_about(j, s->name, key, "the model predicts the bytes of %s, but %s holds those of %s",
					s->origin, r->store_path, observed(c));
	} else if (!predicted_in(s) && same) {
		snprintf(key, sizeof key, "differential imported %.40s %.40s", s->source, s->fate);
		x = judgement_add_about(j, s->name, key, "the model predicts %s for %s%s%s, but PID 1 imported it",
					s->fate, s->origin, s->detail ? ": " : "", s->detail ? s->detail : "");
	} else
		return 1;
	return x < 0 ? x : 0;
}

int differential_judge(const struct report *r, struct judgement *j)
{
	struct diff_count *out = &j->diff;
	int x;

	memset(out, 0, sizeof *out);
	out->on = true;
	/* the count pairs every source string with every store file: bound what a hostile
	 * report can make the host compare (a 4 MiB frame holds tens of thousands of each) */
	if ((unsigned long long)r->n_sources * (r->n_creds + r->n_sources) > DIFF_PAIRS_MAX)
		return judgement_add(j, "the report has %zu source strings and %zu store files, more than a differential "
				     "count compares (%llu pairs at most)", r->n_sources, r->n_creds,
				     (unsigned long long)DIFF_PAIRS_MAX);
	for (size_t i = 0; i < r->n_sources; i++) {
		if (strcmp(r->sources[i].fate, "not-a-credential") == 0)
			continue;
		out->total++;
		if ((x = judge_string(r, &r->sources[i], j)) < 0)
			return x;
		out->agree += (size_t)x;
	}
	/* PID 1's own log lines, as the agent compared them with its prediction (a difference
	 * is also a model-disagrees finding there, so the agent's verdict fails with it) */
	if (r->has_pid1_log) {
		out->pid1_compared = (size_t)r->pid1_log_compared;
		out->pid1_agree = (size_t)r->pid1_log_agree;
		if (out->pid1_agree < out->pid1_compared &&
		    (x = judgement_add(j, "PID 1's own log: %zu of %zu of its import lines agree with the model (%s)",
				       out->pid1_agree, out->pid1_compared, r->pid1_log_source)) < 0)
			return x;
	}
	/* files no predicted import explains: PID 1 imported what the model says it would not */
	for (size_t i = 0; i < r->n_creds; i++) {
		if (name_predicted_in(r, r->creds[i].name))
			continue;
		out->total++;
		if ((x = judgement_add_about(j, r->creds[i].name, "differential unpredicted", "in %s (%llu bytes, observed "
					     "%s), but the model predicts no import of that name", r->store_path,
					     (unsigned long long)r->creds[i].size, observed(&r->creds[i]))) < 0)
			return x;
	}
	return 0;
}
