/* report_check: strict report parsing and the host's own verdict. */
#include "runner/report_check.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "jsonutil.h"

enum ftype { F_STR, F_STR_NULL, F_BOOL, F_INT, F_HEX };

struct field {
	const char *key;
	enum ftype type;
	bool required;
	size_t off;
	int64_t min, max;
};

static const struct json_doc report_doc = { "report", FRAME_MAX, JSON_DOC_FRAME };

static bool is_lower_hex64(const char *s)
{
	if (strlen(s) != DIGEST_HEX_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int store_field(json_t *v, const struct field *f, const char *where, void *base, char **error)
{
	char *dst = (char *)base + f->off;
	if (f->type == F_STR_NULL && json_is_null(v))
		return 0;
	switch (f->type) {
	case F_STR:
	case F_STR_NULL:
		if (!json_is_string(v))
			return json_doc_fail(error, "%s%s: expected a string", where, f->key);
		if (json_string_length(v) > REPORT_STRING_MAX)
			return json_doc_fail(error, "%s%s: %zu bytes, more than %u", where, f->key, json_string_length(v),
					     REPORT_STRING_MAX);
		if (!(*(char **)dst = strdup(json_string_value(v))))
			return -ENOMEM;
		return 0;
	case F_BOOL:
		if (!json_is_boolean(v))
			return json_doc_fail(error, "%s%s: expected true or false", where, f->key);
		*(bool *)dst = json_is_true(v);
		return 0;
	case F_INT:
		if (!json_is_integer(v) || json_integer_value(v) < f->min || json_integer_value(v) > f->max)
			return json_doc_fail(error, "%s%s: expected an integer from %lld to %lld", where, f->key,
					     (long long)f->min, (long long)f->max);
		*(int64_t *)dst = json_integer_value(v);
		return 0;
	case F_HEX:
		if (!json_is_string(v) || !is_lower_hex64(json_string_value(v)))
			return json_doc_fail(error, "%s%s: expected %d lowercase hex characters", where, f->key, DIGEST_HEX_LEN);
		memcpy(dst, json_string_value(v), DIGEST_HEX_LEN + 1);
		return 0;
	}
	return -EINVAL;
}

/* Checks obj against the field table: no unknown fields, required ones present, types and
 * ranges right; stores each into base + off. */
static int parse_object(json_t *obj, const char *where, const struct field *fields, size_t n, void *base, char **error)
{
	const char *key;
	json_t *v;
	if (!json_is_object(obj))
		return json_doc_fail(error, "%s: expected an object", *where ? where : "report");
	json_object_foreach(obj, key, v) {
		size_t i = 0;
		while (i < n && strcmp(fields[i].key, key))
			i++;
		if (i == n)
			return json_doc_fail(error, "%s%s: unknown field", where, key);
	}
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(obj, fields[i].key);
		if (!v) {
			if (fields[i].required)
				return json_doc_fail(error, "%s%s: missing", where, fields[i].key);
			continue;
		}
		int r = store_field(v, &fields[i], where, base, error);
		if (r < 0)
			return r;
	}
	return 0;
}

#define FS(k, t, req, st, m) { k, t, req, offsetof(st, m), 0, 0 }
#define FI(k, req, st, m, lo, hi) { k, F_INT, req, offsetof(st, m), lo, hi }

static const struct field source_fields[] = {
	FS("source", F_STR, true, struct report_source, source),
	FS("origin", F_STR, true, struct report_source, origin),
	FI("length", true, struct report_source, length, 0, 64 * 1024 * 1024),
	FS("binary", F_BOOL, true, struct report_source, binary),
	FS("name", F_STR_NULL, false, struct report_source, name),
	FS("fate", F_STR, true, struct report_source, fate),
	FS("detail", F_STR_NULL, false, struct report_source, detail),
};

static const struct field cred_fields[] = {
	FS("name", F_STR, true, struct report_cred, name),
	FI("size", true, struct report_cred, size, 0, 64 * 1024 * 1024),
	FS("mode", F_STR, true, struct report_cred, mode),
	FI("uid", true, struct report_cred, uid, 0, 4294967295LL),
	FI("gid", true, struct report_cred, gid, 0, 4294967295LL),
	FS("source", F_STR_NULL, true, struct report_cred, source),
	FS("hmac-sha256", F_HEX, false, struct report_cred, hmac),
	FS("origin", F_STR_NULL, false, struct report_cred, origin),
};

static const struct field finding_fields[] = {
	FS("name", F_STR_NULL, false, struct report_finding, name),
	FS("kind", F_STR, true, struct report_finding, kind),
	FS("rule", F_STR_NULL, false, struct report_finding, rule),
	FS("message", F_STR, true, struct report_finding, message),
};

static int parse_list(json_t *a, const char *name, const struct field *fields, size_t nf, size_t elem, void **out,
		      size_t *n, char **error)
{
	if (!json_is_array(a))
		return json_doc_fail(error, "%s: expected an array", name);
	if (json_array_size(a) > REPORT_LIST_MAX)
		return json_doc_fail(error, "%s: %zu entries, more than %u", name, json_array_size(a), REPORT_LIST_MAX);
	*out = calloc(json_array_size(a) + 1, elem);
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(a); i++) {
		char where[64];
		snprintf(where, sizeof where, "%s[%zu].", name, i);
		*n = i + 1;
		int r = parse_object(json_array_get(a, i), where, fields, nf, (char *)*out + i * elem, error);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_sections(json_t *root, struct report *r, char **error)
{
	struct { int64_t v; } ver = { 0 };
	static const struct field agent_fields[] = { FS("version", F_STR, true, struct report, agent_version) };
	static const struct field manifest_fields[] = {
		FS("source", F_STR, true, struct report, manifest_source),
		FS("sha256", F_HEX, true, struct report, manifest_sha256),
	};
	static const struct field env_fields[] = {
		FS("container", F_BOOL, true, struct report, env_container),
		FS("confidential_vm", F_BOOL, true, struct report, env_confidential_vm),
		FS("credentials_dir_preset", F_BOOL, true, struct report, env_credentials_dir_preset),
		FS("import_disabled", F_BOOL, true, struct report, env_import_disabled),
		FS("dmi_sysfs", F_BOOL, true, struct report, env_dmi_sysfs),
		FS("fw_cfg", F_BOOL, true, struct report, env_fw_cfg),
		FI("page_size", true, struct report, env_page_size, 512, 1 << 24),
	};
	static const struct field store_fields[] = {
		FS("path", F_STR, true, struct report, store_path),
		FS("exists", F_BOOL, true, struct report, store_exists),
		FS("fs", F_STR_NULL, true, struct report, store_fs),
		FS("secure", F_BOOL, true, struct report, store_secure),
		FS("read_only", F_BOOL, true, struct report, store_read_only),
	};
	static const struct field systemd_fields[] = {
		FI("version", true, struct report, systemd_version, 0, 100000),
		FS("detected", F_BOOL, true, struct report, systemd_detected),
	};
	/* the agent's version-table row that judged the boot (docs/report.md); optional */
	struct report_model { int64_t version, applied_to; bool verified; } model;
	static const struct field model_fields[] = {
		FI("version", true, struct report_model, version, 0, 100000),
		FI("applied_to", true, struct report_model, applied_to, 0, 100000),
		FS("verified", F_BOOL, true, struct report_model, verified),
	};
	(void)ver;
	int x;
	if (json_object_get(root, "model") &&
	    (x = parse_object(json_object_get(root, "model"), "model.", model_fields, 3, &model, error)) < 0)
		return x;
	if ((x = parse_object(json_object_get(root, "agent"), "agent.", agent_fields, 1, r, error)) < 0 ||
	    (x = parse_object(json_object_get(root, "systemd"), "systemd.", systemd_fields, 2, r, error)) < 0 ||
	    (x = parse_object(json_object_get(root, "manifest"), "manifest.", manifest_fields, 2, r, error)) < 0 ||
	    (x = parse_object(json_object_get(root, "env"), "env.", env_fields, 7, r, error)) < 0 ||
	    (x = parse_object(json_object_get(root, "store"), "store.", store_fields, 5, r, error)) < 0)
		return x;
	return 0;
}

/* "pid1_log" (optional, docs/report.md): typed, and consistent: agree <= compared, and a log
 * not read ("none") has nothing in it. */
static int parse_pid1_log(json_t *v, struct report *r, char **error)
{
	static const struct field fields[] = {
		FS("source", F_STR, true, struct report, pid1_log_source),
		FS("complete", F_BOOL, true, struct report, pid1_log_complete),
		FI("lines", true, struct report, pid1_log_lines, 0, REPORT_LIST_MAX),
		FI("compared", true, struct report, pid1_log_compared, 0, 2 * REPORT_LIST_MAX),
		FI("agree", true, struct report, pid1_log_agree, 0, 2 * REPORT_LIST_MAX),
	};
	int x = json_is_object(v) ? parse_object(v, "pid1_log.", fields, 5, r, error)
				  : json_doc_fail(error, "pid1_log: expected an object");
	if (x < 0)
		return x;
	r->has_pid1_log = true;
	if (strcmp(r->pid1_log_source, "/dev/kmsg") && strcmp(r->pid1_log_source, "none"))
		return json_doc_fail(error, "pid1_log.source: expected \"/dev/kmsg\" or \"none\"");
	if (r->pid1_log_agree > r->pid1_log_compared)
		return json_doc_fail(error, "pid1_log.agree: %lld, more than compared (%lld)",
				     (long long)r->pid1_log_agree, (long long)r->pid1_log_compared);
	if (!strcmp(r->pid1_log_source, "none") && (r->pid1_log_complete || r->pid1_log_lines || r->pid1_log_compared))
		return json_doc_fail(error, "pid1_log: a log not read (\"none\") must be incomplete with no lines");
	return 0;
}

/* "smbios" (optional): {"entry_point": one of four anchors, "version": short text}. */
static int parse_smbios(json_t *v, struct report *r, char **error)
{
	static const struct field fields[] = {
		FS("entry_point", F_STR, true, struct report, smbios_entry_point),
		FS("version", F_STR, true, struct report, smbios_version),
	};
	static const char *const anchors[] = { "_SM3_", "_SM_", "_DMI_", "none" };
	int x = json_is_object(v) ? parse_object(v, "smbios.", fields, 2, r, error)
				  : json_doc_fail(error, "smbios: expected an object");
	bool known = false;

	if (x < 0)
		return x;
	for (size_t i = 0; i < 4; i++)
		known = known || strcmp(r->smbios_entry_point, anchors[i]) == 0;
	if (!known)
		return json_doc_fail(error, "smbios.entry_point: expected _SM3_, _SM_, _DMI_ or none");
	if (strlen(r->smbios_version) > 32)
		return json_doc_fail(error, "smbios.version: longer than 32 characters");
	return 0;
}

static int parse_root(json_t *root, struct report *r, char **error)
{
	static const char *const top[] = { "credscope-report", "agent", "systemd", "kernel", "manifest", "env",
					   "sources", "store", "credentials", "findings", "verdict" };
	const char *key;
	json_t *v;
	int x;
	if (!json_is_object(root))
		return json_doc_fail(error, "report: the top level must be a JSON object");
	json_object_foreach(root, key, v) {
		size_t i = 0;
		while (i < sizeof top / sizeof *top && strcmp(top[i], key))
			i++;
		/* "model", "pid1_log" and "smbios": optional, below */
		if (i == sizeof top / sizeof *top && strcmp(key, "model") && strcmp(key, "pid1_log") && strcmp(key, "smbios"))
			return json_doc_fail(error, "%s: unknown field", key);
	}
	for (size_t i = 0; i < sizeof top / sizeof *top; i++)
		if (!json_object_get(root, top[i]))
			return json_doc_fail(error, "%s: missing", top[i]);
	v = json_object_get(root, "credscope-report");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return json_doc_fail(error, "credscope-report: unsupported report version (expected 1)");
	v = json_object_get(root, "kernel");
	if (!json_is_string(v) || json_string_length(v) > REPORT_STRING_MAX || !(r->kernel = strdup(json_string_value(v))))
		return r->kernel || !json_is_string(v) ? json_doc_fail(error, "kernel: expected a string") : -ENOMEM;
	v = json_object_get(root, "verdict");
	if (!json_is_string(v) || (strcmp(json_string_value(v), "pass") && strcmp(json_string_value(v), "fail") &&
				    strcmp(json_string_value(v), "error")))
		return json_doc_fail(error, "verdict: expected pass, fail or error");
	if (!(r->verdict = strdup(json_string_value(v))))
		return -ENOMEM;
	if (json_object_get(root, "pid1_log") && (x = parse_pid1_log(json_object_get(root, "pid1_log"), r, error)) < 0)
		return x;
	if (json_object_get(root, "smbios") && (x = parse_smbios(json_object_get(root, "smbios"), r, error)) < 0)
		return x;
	if ((x = parse_sections(root, r, error)) < 0 ||
	    (x = parse_list(json_object_get(root, "sources"), "sources", source_fields, 7, sizeof *r->sources,
			    (void **)&r->sources, &r->n_sources, error)) < 0 ||
	    (x = parse_list(json_object_get(root, "credentials"), "credentials", cred_fields, 8, sizeof *r->creds,
			    (void **)&r->creds, &r->n_creds, error)) < 0 ||
	    (x = parse_list(json_object_get(root, "findings"), "findings", finding_fields, 4, sizeof *r->findings,
			    (void **)&r->findings, &r->n_findings, error)) < 0)
		return x;
	for (size_t i = 0; i < r->n_creds; i++)
		r->creds[i].has_hmac = r->creds[i].hmac[0] != '\0';
	return 0;
}

int report_parse(const char *buf, size_t len, struct report *out, char **error)
{
	json_t *root;
	memset(out, 0, sizeof *out);
	int r = json_doc_load(&report_doc, buf, len, &root, error);
	if (r < 0)
		return r;
	r = parse_root(root, out, error);
	json_decref(root);
	if (r < 0)
		report_free(out);
	return r;
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->n_sources; i++) {
		struct report_source *s = &r->sources[i];
		free(s->source), free(s->origin), free(s->name), free(s->fate), free(s->detail);
	}
	for (size_t i = 0; i < r->n_creds; i++)
		free(r->creds[i].name), free(r->creds[i].mode), free(r->creds[i].source), free(r->creds[i].origin);
	for (size_t i = 0; i < r->n_findings; i++) {
		struct report_finding *f = &r->findings[i];
		free(f->name), free(f->kind), free(f->rule), free(f->message);
	}
	free(r->sources), free(r->creds), free(r->findings);
	free(r->agent_version), free(r->kernel), free(r->manifest_source), free(r->store_path), free(r->store_fs);
	free(r->verdict), free(r->pid1_log_source), free(r->smbios_entry_point), free(r->smbios_version);
	memset(r, 0, sizeof *r);
}

/* The agent writes host-controlled names escaped to printable ASCII: every byte outside
 * 0x20..0x7e, and the backslash itself, as "\xNN" (lowercase hex; common/strutil.h
 * text_escape()), so the form is unambiguous. True when the reported name is the host's
 * name in that form. Compared in place rather than by escaping the host's name, so that
 * matching cannot fail for want of memory. */
bool report_name_is(const char *reported, const char *host)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *h = (const unsigned char *)host;
	for (; *h; h++) {
		if (*h >= 0x20 && *h <= 0x7e && *h != '\\') {
			if (*reported++ != (char)*h)
				return false;
			continue;
		}
		if (reported[0] != '\\' || reported[1] != 'x' || reported[2] != hexd[*h >> 4] || reported[3] != hexd[*h & 15])
			return false;
		reported += 4;
	}
	return *reported == 0;
}

const struct report_cred *report_find_cred(const struct report *r, const char *name)
{
	for (size_t i = 0; i < r->n_creds; i++)
		if (report_name_is(r->creds[i].name, name))
			return &r->creds[i];
	return NULL;
}

/* ---- the host's verdict ---------------------------------------------------------- */

/* For "%.*s%s": S cut to MAX bytes, then "..." when it was longer. Guest strings reach
 * 64 KiB each; a sentence shows a bounded piece. */
#define SHOWN(s, max) (int)strnlen((s), (max)), (s), (s)[strnlen((s), (max))] ? "..." : ""

/* Takes MSG (malloc'd) as the next problem, about NAME for the cause KEY (both copied). */
static int judgement_push(struct judgement *j, char *msg, const char *name, const char *key, size_t at)
{
	struct judge_cause c = { .at = at };
	char **np = realloc(j->problems, (j->n_problems + 1) * sizeof *np);
	struct judge_cause *nc = np ? realloc(j->causes, (j->n_problems + 1) * sizeof *nc) : NULL;

	if (np)
		j->problems = np;
	if (nc)
		j->causes = nc;
	if (!nc || (name && !(c.name = strdup(name))) || (key && !(c.key = strdup(key)))) {
		free(c.name);
		free(msg);
		return -ENOMEM;
	}
	j->causes[j->n_problems] = c;
	j->problems[j->n_problems++] = msg;
	return 0;
}

int judgement_add(struct judgement *j, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	return r < 0 ? -ENOMEM : judgement_push(j, msg, NULL, NULL, 0);
}

int judgement_add_about(struct judgement *j, const char *name, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *cause, *shown, *all;
	va_start(ap, fmt);
	int r = vasprintf(&cause, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (asprintf(&shown, "%.*s%s", SHOWN(name, JUDGE_NAME_SHOWN)) < 0)
		shown = NULL;
	if (!shown || asprintf(&all, "%s: %s", shown, cause) < 0)
		all = NULL;
	r = all ? judgement_push(j, all, shown, key ? key : cause, strlen(shown) + 2) : -ENOMEM;
	free(shown);
	free(cause);
	return r;
}

/* A problem with a cause key, for sorting the keys together (first found first). */
struct keyed {
	const char *key;
	size_t i;        /* the problem */
	size_t n;        /* on the first of a run of one key: the run's length */
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* One sentence for the problems RUN[0..n) of one cause: the first one's name and cause,
 * the count, and at most JUDGE_GROUP_LISTED further names (the first ones and the last). */
static void put_group(FILE *f, const struct judgement *j, const struct keyed *run, size_t n)
{
	const struct judge_cause *first = &j->causes[run[0].i];
	size_t more = n - 1;

	if (n == 1) {
		fputs(j->problems[run[0].i], f);
		return;
	}
	fprintf(f, "%s and %zu more (", first->name, more);
	for (size_t k = 1; k < n; k++) {
		if (more > JUDGE_GROUP_LISTED && k == JUDGE_GROUP_LISTED)
			fputs(", ...", f);
		if (more <= JUDGE_GROUP_LISTED || k < JUDGE_GROUP_LISTED || k == more)
			fprintf(f, "%s%s", k > 1 ? ", " : "", j->causes[run[k].i].name);
	}
	fprintf(f, "): %s", j->problems[run[0].i] + first->at);
}

char *judgement_text(const struct judgement *j)
{
	struct keyed *ks = j->n_problems ? calloc(j->n_problems, sizeof *ks) : NULL;
	size_t *run_of = ks ? calloc(j->n_problems, sizeof *run_of) : NULL;   /* 1 + its run's start in ks; 0: no key */
	size_t nk = 0, len = 0;
	char *out = NULL;
	FILE *f = run_of ? open_memstream(&out, &len) : NULL;

	for (size_t i = 0; f && i < j->n_problems; i++)
		if (j->causes[i].key && j->causes[i].name)
			ks[nk++] = (struct keyed){ .key = j->causes[i].key, .i = i };
	if (nk)
		qsort(ks, nk, sizeof *ks, keyed_cmp);
	for (size_t s = 0, e; s < nk; s = e) {
		for (e = s + 1; e < nk && strcmp(ks[e].key, ks[s].key) == 0; e++)
			;
		ks[s].n = e - s;
		for (size_t k = s; k < e; k++)
			run_of[ks[k].i] = s + 1;
	}
	for (size_t i = 0, said = 0; f && i < j->n_problems; i++) {
		const struct keyed *run = run_of[i] ? &ks[run_of[i] - 1] : NULL;
		if (run && run->i != i)
			continue;   /* said with the first of its cause */
		fputs(said++ ? "; " : "", f);
		if (run)
			put_group(f, j, run, run->n);
		else
			fputs(j->problems[i], f);
	}
	if (f && fclose(f) != 0) {
		free(out);
		out = NULL;
	}
	free(ks);
	free(run_of);
	return out;
}

void judgement_free(struct judgement *j)
{
	for (size_t i = 0; i < j->n_problems; i++) {
		free(j->problems[i]);
		free(j->causes[i].name);
		free(j->causes[i].key);
	}
	free(j->problems);
	free(j->causes);
	memset(j, 0, sizeof *j);
}

static const struct sent_cred *find_sent(const struct judge_input *in, const char *name)
{
	for (size_t i = 0; i < in->n_sent; i++)
		if (strcmp(in->sent[i].name, name) == 0)
			return &in->sent[i];
	return NULL;
}

/* The guest's own account of why NAME is as it is: each source string's fate. */
static char *explain_from_sources(const struct report *r, const char *name)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	bool any = false;
	for (size_t i = 0; i < r->n_sources; i++) {
		const struct report_source *s = &r->sources[i];
		if (!s->name || !report_name_is(s->name, name))
			continue;
		fprintf(f, "%s%.*s%s: %.*s%s", any ? ", " : "", SHOWN(s->origin, JUDGE_NAME_SHOWN),
			SHOWN(s->fate, JUDGE_NAME_SHOWN));
		if (s->detail)
			fprintf(f, " (%.*s%s)", SHOWN(s->detail, JUDGE_DETAIL_SHOWN));
		any = true;
	}
	if (!any)
		fputs("no source string in the guest carries this name", f);
	fclose(f);
	return out;
}

/* The key of a cause that the guest's account of NAME decides: WHAT (and WHAT2), then
 * the source and fate of each string carrying NAME ("smbios store-full"), in the report's
 * order. Origins, sizes and details differ from name to name and are left out. */
static char *cause_key(const struct report *r, const char *name, const char *what, const char *what2)
{
	char *out = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s%s; guest fates:", what, what2);
	for (size_t i = 0; i < r->n_sources && n <= JUDGE_GROUP_LISTED; i++) {
		const struct report_source *s = &r->sources[i];
		if (s->name && report_name_is(s->name, name))
			fprintf(f, " %.*s%s %.*s%s%s", SHOWN(s->source, JUDGE_NAME_SHOWN), SHOWN(s->fate, JUDGE_NAME_SHOWN),
				n++ == JUDGE_GROUP_LISTED ? " ..." : ",");
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int problem_missing(struct judgement *j, const struct report *r, const struct judge_input *in,
			   const struct sent_cred *s)
{
	_Bool smbios = s && (s->via == VIA_SMBIOS || s->via == VIA_SMBIOS_BINARY);
	const char *name = s->name;
	if (smbios && in->machine && strcmp(in->machine, "microvm") == 0)
		return judgement_add_about(j, name, NULL, "missing, because the microvm machine has no SMBIOS at all: a "
					   "credential sent as an SMBIOS OEM string cannot arrive there (send it with via fw_cfg)");
	char *why = explain_from_sources(r, name), *key = cause_key(r, name, "missing, sent by ", cred_via_name(s->via));
	int x = !key ? -ENOMEM :
		judgement_add_about(j, name, key, "missing from %.*s%s (sent %zu bytes by %s; guest sources: %s)",
				    SHOWN(r->store_path, JUDGE_NAME_SHOWN), s->len, cred_via_name(s->via), why ? why : "?");
	free(why);
	free(key);
	return x;
}

static int judge_one(struct judgement *j, const struct report *r, const struct judge_input *in, const char *name,
		     enum case_expect kind)
{
	const struct sent_cred *s = find_sent(in, name);
	const struct report_cred *got = report_find_cred(r, name);
	bool same = s && got && got->has_hmac && digest_equal(got->hmac, s->hmac);
	switch (kind) {
	case CEXPECT_EXACT:
		if (!s)
			return judgement_add_about(j, name, NULL, "the case expects it byte-exact but sends no credential "
						   "of that name");
		if (!got)
			return problem_missing(j, r, in, s);
		if (!got->has_hmac)
			return judgement_add_about(j, name, NULL, "the report gives no hmac-sha256 for it");
		if (!same) {
			char *why = explain_from_sources(r, name), *key = cause_key(r, name, "arrived different", "");
			int x = !key ? -ENOMEM :
				judgement_add_about(j, name, key, "arrived different: %llu bytes in the guest, %zu sent, HMAC "
						    "differs (guest sources: %s)", (unsigned long long)got->size, s->len,
						    why ? why : "?");
			free(why);
			free(key);
			return x;
		}
		return 0;
	case CEXPECT_ABSENT:
		return got ? judgement_add_about(j, name, "expected absent, but in the store", "expected absent, but it is "
						 "in %.*s%s (%llu bytes)", SHOWN(r->store_path, JUDGE_NAME_SHOWN),
						 (unsigned long long)got->size) : 0;
	case CEXPECT_PRESENT:
		return got ? 0 : s ? problem_missing(j, r, in, s) :
			judgement_add_about(j, name, NULL, "expected present, but missing");
	case CEXPECT_DIFFERENT:
		if (!got)
			return s ? problem_missing(j, r, in, s) : judgement_add_about(j, name, NULL, "expected present, but missing");
		return same ? judgement_add_about(j, name, NULL, "expected to differ from what was sent, but arrived "
						  "byte-exact") : 0;
	}
	return 0;
}

static bool fate_matches(const struct report_source *s, const struct case_fate *f)
{
	if (strcmp(s->fate, f->fate))
		return false;
	if (f->name && (!s->name || !report_name_is(s->name, f->name)))
		return false;
	return !f->source || strcmp(s->source, f->source) == 0;
}

static int judge_fates(struct judgement *j, const struct report *r, const struct case_view *v)
{
	for (size_t i = 0; i < v->n_fates; i++) {
		const struct case_fate *f = v->fates[i];
		int n = 0;
		for (size_t k = 0; k < r->n_sources; k++) {
			const struct report_source *src = &r->sources[k];
			if (!fate_matches(src, f))
				continue;
			n++;
			/* "found and explained": a string systemd did not import byte-exact needs the why */
			if (strcmp(src->fate, "imported") && strcmp(src->fate, "not-a-credential") &&
			    (!src->detail || !*src->detail)) {
				int x = judgement_add_about(j, src->origin, NULL, "fate %.*s%s without an explanation from the agent",
							    SHOWN(src->fate, JUDGE_NAME_SHOWN));
				if (x < 0)
					return x;
			}
		}
		if ((f->count < 0 && n == 0) || (f->count >= 0 && n != f->count)) {
			int x = judgement_add(j, "expected %s%d source string%s%s%s%s%s with fate %s, the guest reports %d",
					      f->count < 0 ? "at least " : "", f->count < 0 ? 1 : f->count,
					      f->count == 1 || f->count < 0 ? "" : "s", f->name ? " named " : "",
					      f->name ? f->name : "", f->source ? " from " : "", f->source ? f->source : "",
					      f->fate, n);
			if (x < 0)
				return x;
		}
	}
	return 0;
}

static bool expected_name(const struct judge_input *in, const char *reported)
{
	for (size_t i = 0; i < in->n_sent; i++)
		if (report_name_is(reported, in->sent[i].name))
			return true;
	for (size_t i = 0; i < in->view->n_expect; i++)
		if (report_name_is(reported, in->view->expect[i].name))
			return true;
	return false;
}

static int judge_all(struct judgement *j, const struct report *r, const struct judge_input *in)
{
	int x = 0;
	if (in->manifest_sha256 && !digest_equal(in->manifest_sha256, r->manifest_sha256))
		x = judgement_add(j, "the agent read a manifest with SHA-256 %.12s..., not the one the host wrote (%.12s...)",
				  r->manifest_sha256, in->manifest_sha256);
	if (x >= 0 && in->judge_instead)
		x = in->judge_instead(r, j);
	for (size_t i = 0; x >= 0 && !in->judge_instead && i < in->n_sent; i++) {
		bool listed;
		enum case_expect k = case_view_expect(in->view, in->sent[i].name, &listed);
		x = judge_one(j, r, in, in->sent[i].name, k);
	}
	for (size_t i = 0; x >= 0 && i < in->view->n_expect; i++)
		if (!find_sent(in, in->view->expect[i].name))
			x = judge_one(j, r, in, in->view->expect[i].name, in->view->expect[i].kind);
	if (x >= 0)
		x = judge_fates(j, r, in->view);
	for (size_t i = 0; x >= 0 && in->view->tc->strict && i < r->n_creds; i++)
		if (!expected_name(in, r->creds[i].name))
			x = judgement_add_about(j, r->creds[i].name, NULL, "in %.*s%s but not expected (strict)",
						SHOWN(r->store_path, JUDGE_NAME_SHOWN));
	return x;
}

int report_judge(const struct report *r, const struct judge_input *in, struct judgement *out)
{
	memset(out, 0, sizeof *out);
	int x = judge_all(out, r, in);
	if (x < 0)
		return x;
	bool host_pass = out->n_problems == 0;
	out->agent_agrees = host_pass ? strcmp(r->verdict, "pass") == 0 : strcmp(r->verdict, "fail") == 0;
	if (!out->agent_agrees) {
		const char *first = r->n_findings ? r->findings[0].message : "no findings";
		x = judgement_add(out, "disagreement: the host's verdict is %s but the agent's is %s (agent: %.*s%s)",
				  host_pass ? "pass" : "fail", r->verdict, SHOWN(first, JUDGE_DETAIL_SHOWN));
		if (x < 0)
			return x;
	}
	out->verdict = out->n_problems == 0 ? OUTCOME_PASS : OUTCOME_FAIL;
	return 0;
}

/* ---- per-credential outcomes for the writers --------------------------------------- */

/* The agent's account of NAME: its source strings' fates, then its findings. */
static char *explain_with_findings(const struct report *r, const char *name)
{
	char *src = explain_from_sources(r, name), *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f) {
		free(src);
		return NULL;
	}
	fputs(src ? src : "?", f);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct report_finding *fd = &r->findings[i];
		if (fd->name && report_name_is(fd->name, name))
			fprintf(f, "; %s%s%s%s: %s", fd->kind, fd->rule ? " (" : "", fd->rule ? fd->rule : "",
				fd->rule ? ")" : "", fd->message);
	}
	fclose(f);
	free(src);
	return out;
}

static const char *source_of(const struct report *r, const char *name, const struct report_cred *got)
{
	if (got && got->source)
		return got->source;
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].name && report_name_is(r->sources[i].name, name))
			return r->sources[i].source;
	return NULL;
}

static int cred_outcome_fill(struct cred_outcome *c, const struct report *r, const struct judge_input *in,
			     const char *name, enum case_expect kind)
{
	const struct sent_cred *s = find_sent(in, name);
	const struct report_cred *got = report_find_cred(r, name);
	bool same = s && got && got->has_hmac && digest_equal(got->hmac, s->hmac);
	const char *src = source_of(r, name, got);
	c->expect = case_expect_name(kind);
	c->ok = kind == CEXPECT_EXACT ? same : kind == CEXPECT_ABSENT ? !got : kind == CEXPECT_PRESENT ? got != NULL :
		got && !same;
	c->name = strdup(name);
	c->fate = strdup(!got ? "missing" : same ? "byte-exact" : got->has_hmac && s ? "different" : "present");
	c->source = src ? strdup(src) : NULL;
	c->explanation = explain_with_findings(r, name);
	return c->name && c->fate && (!src || c->source) && c->explanation ? 0 : -ENOMEM;
}

static bool listed_before(const struct cred_outcome *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return true;
	return false;
}

int report_cred_outcomes(const struct report *r, const struct judge_input *in, struct cred_outcome **out, size_t *n)
{
	size_t cap = in->n_sent + in->view->n_expect;
	struct cred_outcome *list = calloc(cap + 1, sizeof *list);
	size_t k = 0;
	int x = 0;
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; x == 0 && i < cap; i++) {
		bool sent = i < in->n_sent, listed;
		const char *name = sent ? in->sent[i].name : in->view->expect[i - in->n_sent].name;
		enum case_expect kind = sent ? case_view_expect(in->view, name, &listed) : in->view->expect[i - in->n_sent].kind;
		if (listed_before(list, k, name))
			continue;
		x = cred_outcome_fill(&list[k++], r, in, name, kind);
	}
	*out = list, *n = k;   /* on -ENOMEM too: case_result_free() frees what was filled */
	return x;
}
