/* cmd_explain: `credscope explain NAME`: one credential's whole path and one sentence. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "explain.h"
#include "output.h"
#include "report.h"

static void explain_help(void)
{
	printf("Usage: credscope [GLOBAL OPTIONS] explain NAME [--manifest FILE | --manifest-label LABEL]\n\n"
	       "Follows credential NAME source by source (fw_cfg, SMBIOS, kernel command line, initrd)\n"
	       "and rule by rule to /run/credentials/@system, and ends with one sentence that says why\n"
	       "it is present, missing or different. With a manifest, NAME's expectation is taken from\n"
	       "it; otherwise NAME is expected with the bytes the host sent.\n\n"
	       "Exit status: 0 present (or absent) as expected, 1 otherwise, 2 usage or environment error.\n");
}

/* Prints s with host-controlled bytes escaped (output.h), then suffix. */
static void put(const char *s, const char *suffix)
{
	char *e = text_escape(s ? s : "?");
	fputs(e ? e : "?", stdout);
	fputs(suffix, stdout);
	free(e);
}

struct judgement {
	bool ok;
	const char *rule;
	char *sentence;
	bool from_manifest;
};

/* Without a manifest entry NAME is expected with the bytes the host sent through the winning
 * source, or merely present when no source carries it. */
static void synthetic_entry(const struct name_facts *nf, struct manifest_entry *e)
{
	const struct cred_candidate *w = nf->winner;
	e->expect = EXPECT_PRESENT;
	e->digest = DIGEST_NONE;
	if (w && (w->value || w->imported)) {
		e->expect = EXPECT_MATCH;
		e->digest = DIGEST_SHA256;
		if (w->value)
			digest_sha256_hex(w->value, w->value_len, e->hex);
		else
			digest_sha256_hex(w->imported, w->imported_len, e->hex);
	}
}

static int judge(const struct check *c, const char *name, struct judgement *j)
{
	struct verify_result r = { .verdict = VERDICT_PASS };
	struct manifest_entry synth = { .name = (char *)name };
	struct name_facts nf;
	const struct manifest_entry *e = c->have_manifest ? manifest_find(&c->manifest, name) : NULL;
	name_facts_collect(&c->snap.pred, name, &nf);
	if (!e)
		synthetic_entry(&nf, &synth);
	j->from_manifest = e != NULL;
	if (verify_entry(&c->manifest, e ? e : &synth, &c->snap.store, &c->snap.pred, &r) < 0)
		return -1;
	if (r.n_failures) {
		j->ok = false;
		j->rule = r.findings[0].rule;
		j->sentence = r.findings[0].message;
		r.findings[0].message = NULL;
	} else if (e && e->expect == EXPECT_ABSENT) {
		char *why = explain_absent(&c->snap.pred, &c->snap.store, name, &j->rule);
		j->ok = true;
		if (why && asprintf(&j->sentence, "As the manifest expects, %s", why) < 0)
			j->sentence = NULL;
		free(why);
	} else {
		j->ok = true;
		j->rule = nf.winner ? explain_fate_rule(nf.winner->fate) : "imported";
		j->sentence = explain_present(&c->snap.pred, credstore_find(&c->snap.store, name), name);
	}
	verify_result_free(&r);
	return j->sentence ? 0 : -1;
}

static void print_source(const struct check *c, enum cred_source src, const char *name, bool color)
{
	const struct prediction *p = &c->snap.pred;
	bool any = false;
	for (size_t i = 0; i < p->n_cands; i++) {
		const struct cred_candidate *cd = &p->cands[i];
		if (cd->source != src || !cd->name || strcmp(cd->name, name) != 0)
			continue;
		bool good = cd->fate == FATE_IMPORTED;
		printf("  %-8s ", cred_source_name(src));
		put(cd->origin, "");
		printf(", %zu bytes: %s%s%s [%s]%s", cd->raw_len, color_on(color, good ? COLOR_GREEN : COLOR_RED),
		       cred_fate_name(cd->fate), color_off(color), explain_fate_rule(cd->fate), cd->detail ? ": " : "");
		put(cd->detail ? cd->detail : "", "\n");
		any = true;
	}
	if (!any) {
		printf("  %-8s ", cred_source_name(src));
		put(p->source_skip_reason[src] ? p->source_skip_reason[src] : "does not carry this name", "\n");
	}
}

static void print_store(const struct credstore *s, const char *name)
{
	const struct store_file *f = credstore_find(s, name);
	if (!s->exists)
		printf("  @system  %s does not exist\n", CREDSTORE_PATH);
	else if (!f) {
		printf("  @system  no file %s/", CREDSTORE_PATH);
		put(name, "\n");
	}
	else
		printf("  @system  %zu bytes, mode %04o, uid %u gid %u, %s (%s)%s%s%s\n", f->size,
		       (unsigned)(f->mode & 07777), (unsigned)f->uid, (unsigned)f->gid,
		       s->fs_known ? s->fs_type : "unknown fs", store_security_name(s->security),
		       s->read_only ? ", read-only" : ", writable",
		       f->problem != STORE_FILE_OK ? ", " : "", f->problem != STORE_FILE_OK ? store_file_problem_name(f->problem) : "");
}

static void print_text(const struct check *c, const char *name, const struct judgement *j, bool color)
{
	char sd[64];
	fputs(color_on(color, COLOR_BOLD), stdout);
	put(name, color_off(color));
	putchar('\n');
	char note[200];
	printf("  version  %s (%s)\n", explain_systemd(&c->snap.pred, sd, sizeof sd),
	       c->snap.pred.env.version_detected ? "detected" : "given");
	if (explain_model_note(&c->snap.pred, note, sizeof note))
		printf("  model    %s\n", note);
	if (c->snap.pred.skip_reason) {
		printf("  import   skipped: ");
		put(c->snap.pred.skip_reason, "\n");
	}
	for (int s = 0; s < _CRED_SOURCE_MAX; s++)
		print_source(c, (enum cred_source)s, name, color);
	print_store(&c->snap.store, name);
	if (c->have_manifest) {
		const struct manifest_entry *e = manifest_find(&c->manifest, name);
		printf("  manifest %s\n", e ? expect_kind_name(e->expect) : "says nothing about this name");
	}
	printf("\n%s", color_on(color, j->ok ? COLOR_GREEN : COLOR_RED));
	put(j->sentence, color_off(color));
	putchar('\n');
}

static json_t *json_path(const struct prediction *p, const char *name)
{
	json_t *all = report_json_sources(p), *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(all, i, v) {
		json_t *n = json_object_get(v, "name");
		if (json_is_string(n) && strcmp(json_string_value(n), name) == 0) {
			json_object_set_new(v, "rule", json_string(explain_fate_rule(p->cands[i].fate)));
			json_array_append(out, v);
		}
	}
	json_decref(all);
	return out;
}

static json_t *json_store_entry(const struct credstore *s, const char *name)
{
	const struct store_file *f = credstore_find(s, name);
	json_t *o = report_json_store(s);
	json_object_set_new(o, "present", json_boolean(f != NULL));
	if (f) {
		char mode[8];
		snprintf(mode, sizeof mode, "%04o", (unsigned)(f->mode & 07777));
		json_object_set_new(o, "size", json_integer((json_int_t)f->size));
		json_object_set_new(o, "mode", json_string(mode));
		json_object_set_new(o, "uid", json_integer(f->uid));
		json_object_set_new(o, "gid", json_integer(f->gid));
		json_object_set_new(o, "problem", f->problem == STORE_FILE_OK ? json_null()
					: json_string(store_file_problem_name(f->problem)));
	}
	return o;
}

static void print_json(const struct check *c, const char *name, const struct judgement *j)
{
	const struct manifest_entry *e = c->have_manifest ? manifest_find(&c->manifest, name) : NULL;
	json_t *skips = json_object();
	for (int s = 0; s < _CRED_SOURCE_MAX; s++)
		if (c->snap.pred.source_skip_reason[s])
			json_object_set_new(skips, cred_source_name((enum cred_source)s),
					    report_text(c->snap.pred.source_skip_reason[s]));
	json_t *o = json_pack("{s:o, s:{s:I, s:b}, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:o}", "name", report_text(name),
			      "systemd", "version", (json_int_t)c->snap.pred.env.systemd_version,
			      "detected", c->snap.pred.env.version_detected,
			      "import_skipped", report_text(c->snap.pred.skip_reason),
			      "source_skipped", skips, "path", json_path(&c->snap.pred, name),
			      "store", json_store_entry(&c->snap.store, name),
			      "expectation", e ? json_string(expect_kind_name(e->expect)) : json_null(),
			      "ok", j->ok, "rule", j->rule, "sentence", report_text(j->sentence));
	if (o)
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(o);
}

int cmd_explain(const struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "manifest", required_argument, NULL, 'm' },
		{ "manifest-label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct manifest_opts o = { 0 };
	struct check c;
	struct judgement j = { 0 };
	const char *name = NULL;
	int opt, status = 2;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == 'm')
			o.file = optarg;
		else if (opt == 'l')
			o.label = optarg;
		else if (opt == 'h') {
			explain_help();
			return 0;
		} else {
			fprintf(stderr, "credscope explain: unknown option or missing value; see credscope explain --help\n");
			return 2;
		}
	}
	if (optind + 1 != argc || (o.file && o.label)) {
		fprintf(stderr, "credscope explain: give exactly one NAME and at most one manifest; see credscope explain --help\n");
		return 2;
	}
	name = argv[optind];
	memset(&c, 0, sizeof c);
	if (snapshot_load(ctx, &c.snap, &c.error) < 0)
		return cli_fail(c.error);
	c.have_snapshot = true;
	if ((o.file || o.label) && check_load_manifest(ctx, &o, &c) < 0) {
		fprintf(stderr, "credscope: %s\n", c.error ? c.error : "the manifest cannot be read");
		goto out;
	}
	if (judge(&c, name, &j) < 0) {
		fprintf(stderr, "credscope: out of memory\n");
		goto out;
	}
	if (ctx->json)
		print_json(&c, name, &j);
	else
		print_text(&c, name, &j, ctx->color);
	status = j.ok ? 0 : 1;
out:
	free(j.sentence);
	check_free(&c);
	return status;
}
