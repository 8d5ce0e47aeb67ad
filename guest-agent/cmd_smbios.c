/* credscope smbios: every SMBIOS type 11 structure and string, shown as `dmidecode -t 11`
 * shows them, each io.systemd.credential string judged by systemd's rules for the version,
 * then every finding (malformed bytes, wrapped count, entries/table mismatch, page cut).
 *
 * Credential values are secrets: by default only name, size and verdict are printed; the
 * raw string only with --show-values. JSON schema: docs/json-smbios.md.
 * Exit: 0 shown, 2 no SMBIOS / unreadable / dmi-sysfs missing (with the reason). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "smbios_view.h"

static void usage(FILE *f)
{
	fputs("Usage: credscope [--root DIR] [--json] [--systemd-version N] smbios [--show-values]\n\n"
	      "Shows every SMBIOS type 11 (OEM strings) structure as dmidecode -t 11 does, judges each\n"
	      "io.systemd.credential string by systemd's rules, and lists malformed bytes with offsets.\n\n"
	      "  --show-values   print credential values too (they are secrets: off by default)\n", f);
}

/* Prints "\tString N: ..." for one string. */
static void print_string(const struct smbios_string_view *sv, bool show_values)
{
	const struct smbios_verdict *v = &sv->verdict;

	printf("\tString %zu: ", sv->index);
	if (v->kind == SMBIOS_STRING_VENDOR || show_values)
		printf("%s", sv->escaped);
	else if (!v->name_escaped)
		printf("%s<%zu bytes>", v->prefix, sv->string->len - strlen(v->prefix));
	else
		printf("%s%s=<%s>", v->prefix, v->name_escaped, v->summary);
	if (sv->string->after_end)
		printf(" [after the double NUL]");
	else if (!sv->string->terminated)
		printf(" [no NUL: cut at the end of the entry]");
	if (v->kind == SMBIOS_STRING_VENDOR)
		putchar('\n');
	else if (show_values || !v->name_escaped)
		printf("\n\t\t=> %s\n", v->summary);
	else
		putchar('\n');
}

static void print_text(const struct smbios_view *v, bool show_values)
{
	char ver[32];

	if (v->ep_present)
		printf("SMBIOS %s present (entry point %s, table %zu bytes, %zu structures).\n",
		       smbios_entry_point_version(&v->ep, ver, sizeof(ver)), smbios_view_anchor(v),
		       v->dmi_len, v->table.n_structs);
	/* with nothing to judge (no SMBIOS at all) the error line says why */
	if ((v->n_structs > 0 || v->ep_present) && v->systemd_version)
		printf("Judged by systemd %u's rules, page size %zu.\n", v->systemd_version, v->page_size);
	else if (v->n_structs > 0 || v->ep_present)
		printf("systemd version unknown: judged by 257's rules, earlier versions noted.\n");
	for (size_t i = 0; i < v->n_structs; i++) {
		const struct smbios_struct_view *s = &v->structs[i];

		printf("\nHandle 0x%04X, DMI type %u, %u bytes\nOEM Strings\n", s->s.handle, s->s.type, s->s.length);
		for (size_t k = 0; k < s->n_strings; k++)
			print_string(&s->strings[k], show_values);
	}
	if (v->n_structs == 0 && (v->dmi_sysfs || v->ep_present))
		printf("\nNo type 11 (OEM strings) structure: no SMBIOS credentials were passed.\n");
	if (v->findings.n == 0) {
		printf("\nNo findings.\n");
		return;
	}
	printf("\nFindings:\n");
	for (size_t i = 0; i < v->findings.n; i++)
		printf("\t%s at byte %zu: %s\n", v->findings.v[i].where, v->findings.v[i].offset,
		       v->findings.v[i].message);
}

/* ---- JSON (docs/json-smbios.md) ---- */

/* json_string() refuses invalid UTF-8 (a root path may hold any byte): fall back to escaping. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *e;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	e = smbios_escape((const uint8_t *) s, strlen(s));
	j = e ? json_string(e) : NULL;
	free(e);
	return j;
}

static json_t *json_string_view(const struct smbios_string_view *sv, bool show_values)
{
	const struct smbios_verdict *v = &sv->verdict;
	static const char *const kinds[] = { "vendor", "credential", "credential-binary" };
	json_t *o = json_pack("{s:I, s:I, s:I, s:b, s:b, s:s, s:s, s:o}",
			      "index", (json_int_t) sv->index, "offset", (json_int_t) sv->string->offset,
			      "length", (json_int_t) sv->string->len, "terminated", sv->string->terminated,
			      "after_end", sv->string->after_end, "kind", kinds[v->kind], "verdict", v->token,
			      "detail", jstr(v->summary));

	if (!o)
		return NULL;
	if (v->name_escaped)
		json_object_set_new(o, "name", jstr(v->name_escaped));
	if (v->value_known)
		json_object_set_new(o, "value_size", json_integer((json_int_t) v->value_size));
	if (v->kind == SMBIOS_STRING_VENDOR || show_values)
		json_object_set_new(o, "text", jstr(sv->escaped));
	return o;
}

static json_t *json_struct_view(const struct smbios_struct_view *s, bool show_values)
{
	json_t *strings = json_array();
	json_t *o = json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:o, s:b}",
			      "source", s->source,
			      "table_offset", s->table_offset == SIZE_MAX ? json_null() : json_integer((json_int_t) s->table_offset),
			      "handle", (json_int_t) s->s.handle, "type", (json_int_t) s->s.type,
			      "length", (json_int_t) s->s.length, "size", (json_int_t) s->s.size,
			      "count", s->s.has_count ? json_integer(s->s.count) : json_null(),
			      "terminated", s->s.terminated);

	if (!o || !strings) {
		json_decref(o);
		json_decref(strings);
		return NULL;
	}
	for (size_t k = 0; k < s->n_strings; k++)
		json_array_append_new(strings, json_string_view(&s->strings[k], show_values));
	json_object_set_new(o, "strings", strings);
	return o;
}

static json_t *json_entry_point(const struct smbios_view *v)
{
	char ver[32];

	if (!v->ep_present)
		return json_null();
	return json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "anchor", smbios_view_anchor(v),
			 "version", smbios_entry_point_version(&v->ep, ver, sizeof(ver)), "valid", v->ep.valid,
			 "table_address", (json_int_t) v->ep.table_address, "table_length", (json_int_t) v->ep.table_length,
			 "structures", (json_int_t) v->ep.n_structures);
}

static int print_json(const struct smbios_view *v, bool show_values)
{
	json_t *structs = json_array(), *findings = json_array(), *root;
	int r;

	for (size_t i = 0; structs && i < v->n_structs; i++)
		json_array_append_new(structs, json_struct_view(&v->structs[i], show_values));
	for (size_t i = 0; findings && i < v->findings.n; i++)
		json_array_append_new(findings, json_pack("{s:s, s:s, s:I, s:o}",
							  "kind", smbios_finding_kind_name(v->findings.v[i].kind),
							  "where", v->findings.v[i].where, "offset", (json_int_t) v->findings.v[i].offset,
							  "message", jstr(v->findings.v[i].message)));
	root = json_pack("{s:i, s:o, s:I, s:b, s:o, s:o, s:s, s:o, s:o, s:o}",
			 "credscope-smbios", 1,
			 "systemd_version", v->systemd_version ? json_integer(v->systemd_version) : json_null(),
			 "page_size", (json_int_t) v->page_size, "dmi_sysfs", v->dmi_sysfs,
			 "entry_point", json_entry_point(v),
			 "table", v->table_present ? json_pack("{s:I, s:I, s:b}", "length", (json_int_t) v->dmi_len,
							     "structures", (json_int_t) v->table.n_structs,
							     "end_of_table", v->table.end_of_table) : json_null(),
			 "view", v->dmi_sysfs ? "entries" : "table",
			 "structures", structs, "findings", findings, "error", jstr(v->error));
	if (!root)
		return -ENOMEM;
	r = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);   /* holds escaped values with --show-values: jansson frees, cannot clear */
	putchar('\n');
	return r < 0 ? -EIO : 0;
}

static int parse_args(int argc, char **argv, bool *show_values)
{
	static const struct option opts[] = {
		{ "show-values", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			*show_values = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "credscope smbios: unknown option %s; see credscope smbios --help\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "credscope smbios: unexpected argument %s; see credscope smbios --help\n", argv[optind]);
		return 2;
	}
	return -1;
}

int cmd_smbios(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct smbios_view v;
	bool show_values = false;
	int r;

	r = parse_args(argc, argv, &show_values);
	if (r >= 0)
		return r;
	r = smbios_view_load(ctx->root, ctx->systemd_version, &v);
	if (r == -ENOMEM) {
		fprintf(stderr, "credscope smbios: out of memory\n");
		return 2;
	}
	if (ctx->json)
		r = print_json(&v, show_values);
	else {
		print_text(&v, show_values);
		r = 0;
	}
	fflush(stdout);
	if (v.error)
		fprintf(stderr, "credscope smbios: %s\n", v.error);
	r = r < 0 || v.error ? 2 : 0;
	smbios_view_free(&v);
	return r;
}
