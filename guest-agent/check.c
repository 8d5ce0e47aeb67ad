/* check: snapshot + manifest + verify, with a verdict in every case. */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "boot_verdict.h"
#include "explain.h"
#include "fileio.h"
#include "output.h"
#include "parse.h"
#include "report.h"
#include "smbios.h"
#include "strutil.h"
#include "transport.h"

static int set_error(struct check *c, int r, char *message)
{
	free(c->error);
	c->error = message ? message : strdup("out of memory");
	c->verdict = VERDICT_ERROR;
	return r < 0 ? r : -EINVAL;
}

int check_load_manifest(const struct cli_ctx *ctx, const struct manifest_opts *o, struct check *c)
{
	char *error = NULL, *label = NULL;
	int r;
	if (o->file)
		r = manifest_source_file(o->file, &c->bytes, &error);
	else {
		label = o->label ? strdup(o->label) : cmdline_value(ctx->root, "credscope.manifest-label");
		/* no label asked for: the fw_cfg entry when the host passed one (no disk to wait
		 * for), else the default label */
		r = label ? -ENOENT : manifest_source_fw_cfg(ctx->root, &c->bytes, &error);
		if (r == -ENOENT)
			r = manifest_source_label(label ? label : MANIFEST_DEFAULT_LABEL, o->wait_seconds, &c->bytes,
						  &error);
		free(label);
	}
	if (r < 0)
		return set_error(c, r, error);
	if (digest_sha256_hex(c->bytes.data, c->bytes.len, c->manifest_sha256) < 0)
		return set_error(c, -EIO, strdup("hashing the manifest failed"));
	r = manifest_parse((const char *)c->bytes.data, c->bytes.len, &c->manifest, &error);
	if (r < 0) {
		char *msg = NULL;
		if (asprintf(&msg, "%s: %s", c->bytes.source, error ? error : "cannot be parsed") < 0)
			msg = NULL;
		free(error);
		return set_error(c, r, msg);
	}
	c->have_manifest = true;
	return 0;
}

static long long ts_ms(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

/* The boot-time facts of the verdict line (check.h); only for the running system. */
static void note_timing(const struct cli_ctx *ctx, struct check *c)
{
	struct timespec now_boot, now_real;
	struct stat st;

	c->verdict_ms = c->import_ms = -1;
	c->import_from = NULL;
	if (strcmp(ctx->root, "/") || clock_gettime(CLOCK_BOOTTIME, &now_boot) < 0 ||
	    clock_gettime(CLOCK_REALTIME, &now_real) < 0)
		return;
	c->verdict_ms = ts_ms(&now_boot);
	if (c->have_snapshot && c->snap.pid1.import_seen) {
		c->import_ms = (long long)(c->snap.pid1.import_usec / 1000);
		c->import_from = "its log";
	} else if (c->have_snapshot && c->snap.store.exists && stat(CREDSTORE_PATH, &st) == 0) {
		/* the directory changed last when PID 1 created its last file; the wall clock
		 * minus its distance to the boot clock now gives that moment since boot */
		long long at = ts_ms(&st.st_mtim) - (ts_ms(&now_real) - ts_ms(&now_boot));
		if (at > 0 && at <= c->verdict_ms)
			c->import_ms = at, c->import_from = "the store's mtime";
	}
}

int check_generator_verdict(const struct cli_ctx *ctx, const struct manifest_opts *o, struct boot_verdict *bv)
{
	char *error = NULL;
	/* the generator used the fw_cfg manifest: it does not answer for another one */
	if (!o->generator_verdict || o->file || o->label)
		return 0;
	int r = boot_verdict_load(ctx->root, bv, &error);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		fprintf(stderr, "credscope: %s; checking again\n", error ? error : strerror(-r));
		free(error);
		return 0;
	}
	printf("credscope-generator reached this verdict while PID 1 started (%s):\n", bv->path);
	fputs(bv->text, stdout);
	fflush(stdout);
	return 1;
}

int check_run(const struct cli_ctx *ctx, const struct manifest_opts *o, struct check *c)
{
	int r;
	memset(c, 0, sizeof *c);
	c->verdict = VERDICT_ERROR;
	char *error = NULL;
	if (snapshot_load(ctx, &c->snap, &error) < 0) {
		set_error(c, -EIO, error);
		return 2;
	}
	c->have_snapshot = true;
	if (check_load_manifest(ctx, o, c) < 0)
		return 2;
	r = verify_run(&c->manifest, &c->snap.store, &c->snap.pred, &c->result);
	if (r == 0)
		r = verify_pid1_log(&c->snap.pid1, &c->result);
	if (r < 0) {
		set_error(c, r, strdup("out of memory while verifying"));
		return 2;
	}
	c->verdict = c->result.verdict;
	note_timing(ctx, c);
	return verdict_exit_status(c->verdict);
}

void check_free(struct check *c)
{
	verify_result_free(&c->result);
	if (c->have_manifest)
		manifest_free(&c->manifest);
	manifest_bytes_free(&c->bytes);
	if (c->have_snapshot)
		snapshot_free(&c->snap);
	free(c->error);
	memset(c, 0, sizeof *c);
}

void check_print(const struct check *c, bool color)
{
	check_fprint(stdout, stderr, c, color);
}

void check_fprint(FILE *out, FILE *err, const struct check *c, bool color)
{
	static const char *const headers[] = { "STATUS", "NAME", "KIND", "RULE", "FINDING" };
	struct table *t = table_new(5, headers);
	for (size_t i = 0; t && i < c->result.n_findings; i++) {
		const struct finding *f = &c->result.findings[i];
		const char *cells[] = { f->failure ? "FAIL" : "WARN", f->name[0] ? f->name : "-",
					finding_kind_name(f->kind), f->rule, f->message };
		enum color colors[] = { f->failure ? COLOR_RED : COLOR_YELLOW, COLOR_NONE, COLOR_NONE,
					COLOR_NONE, COLOR_NONE };
		table_add_row(t, cells, colors);
	}
	char note[200], line[400];
	if (c->error)
		fprintf(err, "credscope: %s\n", c->error);
	if (c->have_snapshot && explain_model_note(&c->snap.pred, note, sizeof note))
		fprintf(out, "The %s.\n", note);
	if (c->have_snapshot)
		fprintf(out, "%s\n", pid1_check_summary(&c->snap.pid1, line, sizeof line));
	if (c->verdict_ms > 0 && c->import_ms > 0)
		fprintf(out, "Timing: PID 1 imported the credentials %lld.%03lld s after boot (%s), the verdict came at "
		       "%lld.%03lld s, %.2fx that.\n", c->import_ms / 1000, c->import_ms % 1000, c->import_from,
		       c->verdict_ms / 1000, c->verdict_ms % 1000, (double)c->verdict_ms / (double)c->import_ms);
	else if (c->verdict_ms > 0)
		fprintf(out, "Timing: the verdict came %lld.%03lld s after boot.\n", c->verdict_ms / 1000, c->verdict_ms % 1000);
	if (t && table_rows(t))
		table_print(t, out, color);
	else if (c->verdict == VERDICT_PASS)
		fprintf(out, "All %zu expected credentials verified.\n", c->manifest.n_entries);
	table_free(t);
	check_fprint_verdict(out, c);
}

void check_print_verdict(const struct check *c)
{
	check_fprint_verdict(stdout, c);
}

void check_fprint_verdict(FILE *out, const struct check *c)
{
	fprintf(out, "CREDSCOPE-VERDICT: %s %zu findings\n", verdict_name(c->verdict), c->result.n_findings);
	fflush(out);
}

/* The SMBIOS entry point the kernel found (ROOT/sys/firmware/dmi/tables/smbios_entry_point,
 * parsed by smbios.h) for the report's "smbios": "none" and "" when there is none or it is
 * not valid. UEFI firmware publishes the 64-bit 3.0 one, SeaBIOS under QEMU 7.2 the 2.x one. */
static void smbios_entry(const char *root, const char **anchor, char *version, size_t n)
{
	static const char *const anchors[] = { [SMBIOS_EP_NONE] = "none", [SMBIOS_EP_21] = "_SM_",
					       [SMBIOS_EP_LEGACY] = "_DMI_", [SMBIOS_EP_30] = "_SM3_" };
	char *path = root_join(root, "/sys/firmware/dmi/tables/smbios_entry_point");
	struct smbios_entry_point ep = { .kind = SMBIOS_EP_NONE };
	uint8_t *buf = NULL;
	size_t len = 0;

	*anchor = "none";
	snprintf(version, n, "%s", "");
	if (path && file_read_bounded(AT_FDCWD, path, 64, &buf, &len) == 0 &&
	    smbios_parse_entry_point(buf, len, &ep, NULL) == 0 && ep.kind <= SMBIOS_EP_30) {
		*anchor = anchors[ep.kind];
		smbios_entry_point_version(&ep, version, n);
	}
	free(buf);
	free(path);
}

void check_report_input(const struct check *c, struct report_input *in)
{
	*in = (struct report_input){
		.pred = c->have_snapshot ? &c->snap.pred : NULL, .store = &c->snap.store,
		.pid1 = c->have_snapshot ? &c->snap.pid1 : NULL,
		.manifest = c->have_manifest ? &c->manifest : NULL, .manifest_source = c->bytes.source,
		.manifest_sha256 = c->bytes.source ? c->manifest_sha256 : NULL,
		.result = &c->result, .verdict = c->verdict, .kernel = c->snap.kernel, .error = c->error,
	};
}

char *check_report_dump(const struct cli_ctx *ctx, const struct check *c)
{
	const char *anchor;
	char version[32];
	struct report_input in;

	smbios_entry(ctx->root, &anchor, version, sizeof version);
	check_report_input(c, &in);
	in.smbios_anchor = anchor, in.smbios_version = version;
	return report_dump(&in);
}

/* Parses the options verify and report share; returns 0, 1 for --help, or 2 (usage). */
int parse_manifest_opts(int argc, char **argv, struct manifest_opts *o, const char **to, int *timeout_s,
			void (*help)(void))
{
	static const struct option opts[] = {
		{ "manifest", required_argument, NULL, 'm' },
		{ "manifest-label", required_argument, NULL, 'l' },
		{ "wait-label", required_argument, NULL, 'w' },
		{ "generator-verdict", no_argument, NULL, 'g' },
		{ "to", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	unsigned timeout;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o->file = optarg; break;
		case 'l': o->label = optarg; break;
		case 'w':
			if (parse_uint(optarg, 0, 3600, &o->wait_seconds) < 0)
				goto usage;
			break;
		case 'g': o->generator_verdict = true; break;
		case 't':
			if (!to)
				goto usage;
			*to = optarg;
			break;
		case 'T':
			if (!timeout_s)
				goto usage;
			if (parse_uint(optarg, 0, 86400, &timeout) < 0)
				goto usage;
			*timeout_s = (int)timeout;
			break;
		case 'h': help(); return 1;
		default: goto usage;
		}
	}
	if (optind < argc || (o->file && o->label))
		goto usage;
	return 0;
usage:
	fprintf(stderr, "credscope %s: %s; see credscope %s --help\n", argv[0],
		optind < argc && c == -1 ? "unexpected argument" :
		o->file && o->label ? "give --manifest or --manifest-label, not both" :
		"unknown option or bad value", argv[0]);
	return 2;
}

