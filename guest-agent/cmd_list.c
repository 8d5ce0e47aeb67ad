/* cmd_list: `credscope list`: every source's credentials, the prediction, and @system. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "explain.h"
#include "output.h"
#include "report.h"
#include "snapshot.h"

static void list_help(void)
{
	printf("Usage: credscope [GLOBAL OPTIONS] list\n\n"
	       "Lists every credential candidate from fw_cfg, SMBIOS type 11, the kernel command line\n"
	       "and the initrd with what systemd (the detected or given version) does with it, then\n"
	       "what is in /run/credentials/@system: size, mode, owner, and whether its filesystem is\n"
	       "secure (ramfs, or tmpfs with noswap from systemd 257) or weak.\n");
}

static void print_sources(const struct prediction *p, bool color)
{
	static const char *const headers[] = { "SOURCE", "NAME", "SIZE", "FATE", "ORIGIN", "DETAIL" };
	struct table *t = table_new(6, headers);
	char size[32];
	for (size_t i = 0; t && i < p->n_cands; i++) {
		const struct cred_candidate *c = &p->cands[i];
		bool in = c->fate == FATE_IMPORTED, cut = c->fate == FATE_IMPORTED_TRUNCATED;
		const char *cells[] = { cred_source_name(c->source), c->name,
					format_bytes(in || cut ? c->imported_len : c->value_len, size, sizeof size),
					cred_fate_name(c->fate), c->origin, c->detail };
		enum color colors[] = { COLOR_NONE, COLOR_NONE, COLOR_NONE,
					in ? COLOR_GREEN : c->fate == FATE_NOT_A_CREDENTIAL ? COLOR_GREY :
					cut ? COLOR_YELLOW : COLOR_RED, COLOR_NONE, COLOR_NONE };
		table_add_row(t, cells, colors);
	}
	if (t && table_rows(t))
		table_print(t, stdout, color);
	else
		printf("No credential passed through any source.\n");
	table_free(t);
}

static void print_summary(const struct prediction *p, const struct pid1_check *pid1)
{
	char line[400];

	char sd[64];
	size_t n = 0;
	for (size_t i = 0; i < p->n_cands; i++)
		n += p->cands[i].fate == FATE_IMPORTED || p->cands[i].fate == FATE_IMPORTED_TRUNCATED;
	printf("\n%s (%s) imports %zu credential%s, %zu of %u budget bytes.\n",
	       explain_systemd(p, sd, sizeof sd), p->env.version_detected ? "detected" : "given",
	       n, n == 1 ? "" : "s", p->budget_used, CRED_TOTAL_SIZE_MAX);
	char note[200];
	if (explain_model_note(p, note, sizeof note))
		printf("The %s.\n", note);
	char *e = p->skip_reason ? text_escape(p->skip_reason) : NULL;
	if (e)
		printf("The import is skipped: %s.\n", e);
	free(e);
	printf("Container: %s%s%s%s.\n", p->env.container_kind[0] ? p->env.container_kind : "none",
	       p->env.container_evidence[0] ? " (" : "", p->env.container_evidence,
	       p->env.container_evidence[0] ? ")" : "");
	if (p->env.container_note[0])
		printf("  Not seen: %s.\n", p->env.container_note);
	printf("Confidential VM: %s%s%s.\n", p->env.cvm_kind[0] ? p->env.cvm_kind : "none",
	       p->env.cvm_note[0] ? "; " : "", p->env.cvm_note);
	e = p->store_full ? text_escape(p->store_full) : NULL;
	if (e)
		printf("The store filled up: %s.\n", e);
	free(e);
	for (int s = 0; s < _CRED_SOURCE_MAX; s++) {
		e = p->source_skip_reason[s] ? text_escape(p->source_skip_reason[s]) : NULL;
		if (e)
			printf("%s: %s.\n", cred_source_name((enum cred_source)s), e);
		free(e);
	}
	printf("%s\n", pid1_check_summary(pid1, line, sizeof line));
}

static void print_store(const struct credstore *s, bool color)
{
	static const char *const headers[] = { "NAME", "SECURE", "SIZE", "MODE", "OWNER", "PATH" };
	struct table *t;
	printf("\n");
	if (!s->exists) {
		printf("%s does not exist: PID 1 imported nothing.\n", CREDSTORE_PATH);
		return;
	}
	printf("%s: %s, %s, %s.\n", CREDSTORE_PATH, s->fs_known ? s->fs_type : "filesystem unknown",
	       s->read_only ? "read-only" : "writable", store_security_name(s->security));
	t = table_new(6, headers);
	for (size_t i = 0; t && i < s->n_files; i++) {
		const struct store_file *f = &s->files[i];
		char size[32], mode[16], owner[48], path[512];
		bool insecure = store_file_insecure(f);
		const char *sec = f->problem != STORE_FILE_OK ? store_file_problem_name(f->problem) :
				  insecure ? "insecure" : store_security_name(s->security);
		snprintf(mode, sizeof mode, "%04o", (unsigned)(f->mode & 07777));
		snprintf(owner, sizeof owner, "%u:%u", (unsigned)f->uid, (unsigned)f->gid);
		snprintf(path, sizeof path, "%s/%s", CREDSTORE_PATH, f->name);
		const char *cells[] = { f->name, sec, format_bytes(f->size, size, sizeof size), mode, owner, path };
		enum color colors[] = { COLOR_NONE,
					s->security == STORE_SECURITY_SECURE && !insecure && f->problem == STORE_FILE_OK
					? COLOR_GREEN : insecure || f->problem != STORE_FILE_OK ? COLOR_RED : COLOR_YELLOW,
					COLOR_NONE, COLOR_NONE, COLOR_NONE, COLOR_NONE };
		table_add_row(t, cells, colors);
	}
	if (t && table_rows(t))
		table_print(t, stdout, color);
	else
		printf("No credentials.\n");
	table_free(t);
}

int cmd_list(const struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	struct snapshot snap;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			list_help();
			return 0;
		}
		fprintf(stderr, "credscope list: unknown option; see credscope list --help\n");
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "credscope list: takes no arguments; see credscope list --help\n");
		return 2;
	}
	char *error = NULL;
	if (snapshot_load(ctx, &snap, &error) < 0)
		return cli_fail(error);
	if (ctx->json) {
		struct report_input in = { .pred = &snap.pred, .store = &snap.store, .pid1 = &snap.pid1 };
		json_t *j = report_build_list(&in);
		if (j)
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(j);
	} else {
		print_sources(&snap.pred, ctx->color);
		print_summary(&snap.pred, &snap.pid1);
		print_store(&snap.store, ctx->color);
	}
	snapshot_free(&snap);
	return 0;
}
