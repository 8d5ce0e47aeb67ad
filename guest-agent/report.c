/* report: builds the guest → host report with jansson. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "explain.h"
#include "output.h"
#include "systemd/versions.h"

json_t *report_text(const char *s)
{
	if (!s)
		return json_null();
	char *e = text_escape(s);
	json_t *j = e ? json_string(e) : NULL;
	free(e);
	return j;
}

static json_t *build_env(const struct import_env *env)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:I}",
			 "container", env->in_container, "confidential_vm", env->confidential_vm,
			 "credentials_dir_preset", env->credentials_dir_preset,
			 "import_disabled", env->import_disabled, "dmi_sysfs", env->dmi_sysfs_present,
			 "fw_cfg", env->fw_cfg_present, "page_size", (json_int_t)env->page_size);
}

json_t *report_json_sources(const struct prediction *p)
{
	json_t *a = json_array();
	for (size_t i = 0; a && p && i < p->n_cands; i++) {
		const struct cred_candidate *c = &p->cands[i];
		json_array_append_new(a, json_pack("{s:s, s:o, s:I, s:b, s:o, s:s, s:o}",
			"source", cred_source_name(c->source), "origin", report_text(c->origin ? c->origin : "unknown"),
			"length", (json_int_t)c->raw_len, "binary", c->binary, "name", report_text(c->name),
			"fate", cred_fate_name(c->fate), "detail", report_text(c->detail)));
	}
	return a;
}

json_t *report_json_store(const struct credstore *s)
{
	return json_pack("{s:s, s:b, s:o, s:b, s:b}", "path", CREDSTORE_PATH, "exists", s->exists,
			 "fs", report_text(s->fs_known ? s->fs_type : NULL),
			 "secure", s->security == STORE_SECURITY_SECURE, "read_only", s->read_only);
}

static json_t *build_credential(const struct report_input *in, const struct store_file *f, bool extended)
{
	/* the source observed to carry these exact bytes, not the one the prediction names */
	const struct cred_candidate *seen = explain_observed_origin(in->pred, f);
	char mode[8], hex[DIGEST_HEX_LEN + 1];
	snprintf(mode, sizeof mode, "%04o", (unsigned)(f->mode & 07777));
	json_t *o = json_pack("{s:o, s:I, s:s, s:I, s:I, s:s}", "name", report_text(f->name), "size", (json_int_t)f->size,
			      "mode", mode, "uid", (json_int_t)f->uid, "gid", (json_int_t)f->gid,
			      "source", seen ? cred_source_name(seen->source) : "unknown");
	if (!o)
		return NULL;
	/* which source string exactly: a differential run tells two strings of one source apart */
	if (seen && seen->origin)
		json_object_set_new(o, "origin", report_text(seen->origin));
	if (f->problem != STORE_FILE_OK) {
		if (extended)
			json_object_set_new(o, "problem", json_string(store_file_problem_name(f->problem)));
	} else if (in->manifest && in->manifest->key &&
		 digest_hmac_sha256_hex(in->manifest->key, in->manifest->key_len, f->data, f->size, hex) == 0)
		json_object_set_new(o, "hmac-sha256", json_string(hex));
	return o;
}

json_t *report_json_findings(const struct verify_result *r, bool extended)
{
	json_t *a = json_array();
	for (size_t i = 0; a && r && i < r->n_findings; i++) {
		const struct finding *f = &r->findings[i];
		json_t *o = json_pack("{s:o, s:s, s:s, s:o}", "name", report_text(f->name), "kind", finding_kind_name(f->kind),
				      "rule", f->rule, "message", report_text(f->message));
		if (o && extended)
			json_object_set_new(o, "failure", json_boolean(f->failure));
		json_array_append_new(a, o);
	}
	return a;
}

/* The report has no "error" member (the host's parser is strict): an error travels as an
 * environment finding with rule "error". */
static json_t *report_findings(const struct report_input *in)
{
	json_t *a = report_json_findings(in->result, false);
	if (a && in->error)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "name", "", "kind", "environment",
						   "rule", "error", "message", report_text(in->error)));
	return a;
}

json_t *report_json_credentials(const struct report_input *in, bool extended)
{
	json_t *creds = json_array();
	for (size_t i = 0; creds && i < in->store->n_files; i++)
		json_array_append_new(creds, build_credential(in, &in->store->files[i], extended));
	return creds;
}

/* Which row of the version table judged this boot (systemd/versions.h): {"version": 262,
 * "applied_to": 263, "verified": false}. */
json_t *report_json_model(const struct import_env *env)
{
	struct systemd_model m = systemd_model(env->systemd_version);

	return json_pack("{s:I, s:I, s:b}", "version", (json_int_t)m.row, "applied_to", (json_int_t)m.applied_to,
			 "verified", m.verified);
}

static json_t *build_systemd(const struct import_env *env)
{
	return json_pack("{s:I, s:b}", "version", (json_int_t)env->systemd_version, "detected", env->version_detected);
}

/* Where the expectations came from and the SHA-256 of the bytes read. When none could be
 * read the report still names the source tried and the digest of zero bytes (the host's
 * parser requires both); `list`/`verify --json` say null instead. */
static json_t *build_manifest(const struct report_input *in, bool for_host)
{
	char empty[DIGEST_HEX_LEN + 1];
	if (in->manifest_source && in->manifest_sha256)
		return json_pack("{s:o, s:s}", "source", report_text(in->manifest_source), "sha256", in->manifest_sha256);
	if (!for_host || digest_sha256_hex("", 0, empty) < 0)
		return json_null();
	return json_pack("{s:o, s:s}", "source", report_text(in->manifest_source ? in->manifest_source : "none"),
			 "sha256", empty);
}

json_t *report_json_pid1_log(const struct pid1_check *c)
{
	bool read = c && c->read;

	return json_pack("{s:s, s:b, s:I, s:I, s:I}", "source", read ? "/dev/kmsg" : "none",
			 "complete", read && c->complete, "lines", (json_int_t)(read ? c->lines : 0),
			 "compared", (json_int_t)(read ? c->compared : 0), "agree", (json_int_t)(read ? c->agree : 0));
}

json_t *report_build(const struct report_input *in)
{
	json_t *creds = report_json_credentials(in, false);
	/* when the sources could not be read at all: facts unknown, the page size of x86-64 */
	struct import_env none = { .page_size = 4096 };
	const struct import_env *env = in->pred ? &in->pred->env : &none;
	json_t *o = json_pack("{s:i, s:{s:s}, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
			      "credscope-report", 1, "agent", "version", CREDSCOPE_VERSION,
			      "systemd", build_systemd(env), "model", report_json_model(env),
			      "kernel", in->kernel ? in->kernel : "unknown", "manifest", build_manifest(in, true),
			      "env", build_env(env), "sources", report_json_sources(in->pred),
			      "store", report_json_store(in->store), "credentials", creds,
			      "findings", report_findings(in), "verdict", verdict_name(in->verdict));
	if (o)
		json_object_set_new(o, "pid1_log", report_json_pid1_log(in->pid1));
	/* which entry point (SMBIOS 2.x or the 64-bit 3.0 of UEFI firmware) the tables came by */
	if (o && in->smbios_anchor)
		json_object_set_new(o, "smbios", json_pack("{s:s, s:s}", "entry_point", in->smbios_anchor, "version",
							    in->smbios_version ? in->smbios_version : ""));
	return o;
}

json_t *report_build_verify(const struct report_input *in)
{
	struct import_env none = { 0 };
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:I, s:s}", "manifest", build_manifest(in, false),
			      "systemd", build_systemd(in->pred ? &in->pred->env : &none),
			      "model", report_json_model(in->pred ? &in->pred->env : &none),
			      "findings", report_json_findings(in->result, true),
			      "failures", (json_int_t)(in->result ? in->result->n_failures : 0),
			      "verdict", verdict_name(in->verdict));
	if (o)
		json_object_set_new(o, "pid1_log", report_json_pid1_log(in->pid1));
	if (o && in->error)
		json_object_set_new(o, "error", json_string(in->error));
	return o;
}

json_t *report_build_list(const struct report_input *in)
{
	const struct prediction *p = in->pred;
	json_t *imported = json_array();
	for (size_t i = 0; imported && i < p->n_cands; i++)
		if (p->cands[i].fate == FATE_IMPORTED || p->cands[i].fate == FATE_IMPORTED_TRUNCATED)
			json_array_append_new(imported, json_pack("{s:o, s:s, s:I, s:b}", "name", report_text(p->cands[i].name),
				"source", cred_source_name(p->cands[i].source),
				"size", (json_int_t)p->cands[i].imported_len,
				"truncated", p->cands[i].fate == FATE_IMPORTED_TRUNCATED));
	json_t *env = build_env(&p->env);
	/* list --json only (the report's env is parsed strictly by the host): what decided the
	 * detections, and what PID 1 saw that the agent cannot see */
	if (env)
		json_object_update_new(env, json_pack("{s:o, s:o, s:o, s:s, s:o}",
			"container_kind", report_text(p->env.container_kind[0] ? p->env.container_kind : NULL),
			"container_evidence", report_text(p->env.container_evidence[0] ? p->env.container_evidence : NULL),
			"container_unseen", report_text(p->env.container_note[0] ? p->env.container_note : NULL),
			"confidential_vm_kind", p->env.cvm_kind[0] ? p->env.cvm_kind : "none",
			"confidential_vm_unseen", report_text(p->env.cvm_note[0] ? p->env.cvm_note : NULL)));
	return json_pack("{s:o, s:o, s:o, s:o, s:{s:o, s:I, s:I, s:o, s:o}, s:o, s:o, s:o}",
			 "systemd", build_systemd(&p->env), "model", report_json_model(&p->env),
			 "env", env,
			 "sources", report_json_sources(p),
			 "prediction", "imported", imported, "budget_used", (json_int_t)p->budget_used,
			 "budget_max", (json_int_t)CRED_TOTAL_SIZE_MAX, "skip_reason", report_text(p->skip_reason),
			 "store_full", report_text(p->store_full),
			 "store", report_json_store(in->store), "credentials", report_json_credentials(in, true),
			 "pid1_log", report_json_pid1_log(in->pid1));
}

char *report_dump(const struct report_input *in)
{
	json_t *o = report_build(in);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}
