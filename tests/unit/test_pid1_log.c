/* PID 1's own log against the prediction: guest-agent/kmsg.c (records, the real device, a
 * fixture's dev/kmsg), guest-agent/systemd/pid1_lines.c (the formats, the lines a prediction
 * implies) and guest-agent/pid1_check.c (completeness, agreement, the sentences), end to end
 * through snapshot_load() and verify on small roots made in /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "kmsg.h"
#include "pid1_check.h"
#include "report.h"
#include "snapshot.h"
#include "strutil.h"
#include "systemd/pid1_lines.h"
#include "verify.h"
#include "temp_root.h"

#define TMPFS "35 24 0:31 / /run/credentials/@system ro,nosuid,nodev,noexec,relatime,nosymfollow - tmpfs " \
	      "tmpfs ro,size=1024k,nr_inodes=1024,mode=700,noswap\n"
#define RAMFS "35 24 0:31 / /run/credentials/@system ro,nosuid,nodev,noexec,relatime - ramfs ramfs ro,mode=700\n"
#define RUNNING "systemd[1]: systemd 257.13-1~deb13u1 running in system mode (+PAM +AUDIT)"

/* ---- a guest root in /tmp --------------------------------------------------------------------- */

/* The kernel's log: PID 1's "running" line, then LINES (each "PRIO;TEXT", one per line), with
 * sequence numbers from FIRST on. */
static void put_kmsg(const char *root, unsigned first, const char *lines)
{
	char *out = NULL, *copy = strdup(lines), *save = NULL;
	size_t seq = first;

	assert_non_null(copy);
	assert_true(asprintf(&out, "5,%zu,0,-;Linux version 6.12.107+deb13-cloud-amd64\n30,%zu,100,-;" RUNNING "\n",
			     seq, seq + 1) > 0);
	seq += 2;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save), seq++) {
		char *semi = strchr(l, ';'), *more;
		assert_non_null(semi);
		*semi = 0;
		assert_true(asprintf(&more, "%s%s,%zu,%zu,-;%s\n", out, l, seq, seq * 1000, semi + 1) > 0);
		free(out);
		out = more;
	}
	puts_at(root, "/dev/kmsg", out);
	free(out);
	free(copy);
}

/* One SMBIOS 11-0 entry with STRINGS (NULL-terminated list). */
static void put_smbios(const char *root, const char *const *strings)
{
	char b[65536] = "\x0b\x05\x00\x0e\x01";
	size_t len = 5;

	for (size_t i = 0; strings[i]; i++) {
		assert_true(len + strlen(strings[i]) + 2 < sizeof b);
		memcpy(b + len, strings[i], strlen(strings[i]) + 1);
		len += strlen(strings[i]) + 1;
	}
	b[len++] = 0;
	put(root, "/sys/firmware/dmi/entries/11-0/raw", b, len);
}

/* 257 on a 1 MiB tmpfs unless MOUNT says otherwise; the store holds STORE ("NAME=VALUE"). */
static char *make_root(unsigned version, const char *mount, const char *const *strings, const char *const *store)
{
	char *root = strdup("/tmp/credscope-pid1-XXXXXX"), lib[128];

	assert_non_null(root);
	assert_non_null(mkdtemp(root));
	snprintf(lib, sizeof lib, "/usr/lib/systemd/libsystemd-shared-%u.so", version);
	puts_at(root, lib, "");
	puts_at(root, "/proc/self/mountinfo", mount);
	puts_at(root, "/proc/cmdline", "root=/dev/vda1 console=ttyS0\n");
	put_smbios(root, strings);
	for (size_t i = 0; store && store[i]; i++) {
		const char *eq = strchr(store[i], '=');
		char rel[300];
		snprintf(rel, sizeof rel, "/run/credentials/@system/%.*s", (int) (eq - store[i]), store[i]);
		puts_at(root, rel, eq + 1);
	}
	return root;
}

static void remove_root(char *root)
{
	char *cmd;

	assert_int_equal(strncmp(root, "/tmp/credscope-pid1-", 20), 0);   /* only our own mkdtemp() */
	assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(root);
}

static void snapshot_of(const char *root, struct snapshot *snap)
{
	struct cli_ctx ctx = { .root = root };
	char *error = NULL;

	assert_int_equal(snapshot_load(&ctx, snap, &error), 0);
	assert_null(error);
}

/* The only model-disagrees finding verify makes of the snapshot's PID 1 check, or NULL. */
static const struct finding *pid1_finding(const struct snapshot *snap, struct verify_result *r)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(verify_pid1_log(&snap->pid1, r), 0);
	assert_true(r->n_findings <= 1);
	return r->n_findings ? &r->findings[0] : NULL;
}

static const char *const FOO[] = { "io.systemd.credential:FOO=bar", NULL };
static const char *const FOO_STORED[] = { "FOO=bar", NULL };

/* ---- records and formats ----------------------------------------------------------------------- */

static void test_kmsg_record_fields_are_parsed_strictly(void **state)
{
	struct kmsg_record r;

	assert_int_equal(kmsg_parse_record("30,7,1500,-,caller=T1;systemd[1]: x\n SUBSYSTEM=y", 48, &r), 0);
	assert_int_equal(r.prio, 30);
	assert_int_equal(r.seq, 7);
	assert_int_equal(r.usec, 1500);
	assert_int_equal(r.text_len, strlen("systemd[1]: x"));
	assert_memory_equal(r.text, "systemd[1]: x", r.text_len);
	assert_int_equal(kmsg_parse_record("30,7,1500;x", 11, &r), -EBADMSG);          /* no FLAGS */
	assert_int_equal(kmsg_parse_record("30,7,1500,-", 11, &r), -EBADMSG);          /* no ';' */
	assert_int_equal(kmsg_parse_record("x,7,1500,-;t", 12, &r), -EBADMSG);
	assert_int_equal(kmsg_parse_record("30,99999999999999999999,0,-;t", 29, &r), -EBADMSG);
	assert_int_equal(kmsg_parse_record("30,7,0,-;a\tb", 12, &r), -EBADMSG);        /* raw control byte */
}

static void test_kernel_escaping_is_undone_except_nul(void **state)
{
	char *raw = kmsg_unescape("a\\x5cb\\xffc\\x00d\\xzz");
	char *esc = text_escape("x\\y\xfe");

	assert_string_equal(raw, "a\\b\xff" "c\\x00d\\xzz");
	assert_string_equal(esc, "x\\x5cy\\xfe");   /* the agent's escaping is the kernel's */
	free(raw);
	free(esc);
}

static void test_every_import_line_is_recognised_with_its_name(void **state)
{
	static const struct { const char *text; enum pid1_line_kind kind; const char *name, *value; } cases[] = {
		{ "SMBIOS credential name 'a'b' is not valid, ignoring.", PID1_LINE_SMBIOS_BAD_NAME, "a'b", NULL },
		{ "SMBIOS credential name 'x' is not valid, ignoring: Invalid argument", PID1_LINE_SMBIOS_BAD_NAME, "x",
		  "Invalid argument" },
		{ "Failed to base64 decode credential 'B', ignoring: Invalid argument", PID1_LINE_SMBIOS_BAD_BASE64, "B",
		  "Invalid argument" },
		{ "Credential name 'c/d' is invalid, ignoring.", PID1_LINE_CMDLINE_BAD_NAME, "c/d", NULL },
		{ "Credential '.x' has invalid name, ignoring.", PID1_LINE_FILE_BAD_NAME, ".x", NULL },
		{ "Credential 'BIG' is larger than allowed limit (1.5M > 1.0M), skipping.", PID1_LINE_TOO_LARGE, "BIG",
		  "1.5M > 1.0M), skipping." },
		{ "Accumulated credential size would be above allowed limit (1.0M+4B > 1.0M), skipping 'L'.",
		  PID1_LINE_BUDGET, "L", NULL },
		{ "Failed to write credential: No space left on device", PID1_LINE_WRITE_FAILED, NULL,
		  "No space left on device" },
		{ "Failed to create credential 'FW': No space left on device", PID1_LINE_COPY_FAILED, "FW",
		  "No space left on device" },
		{ "Failed to create /run/credentials/@system/E: No space left on device", PID1_LINE_CREATE_FAILED, "E",
		  "No space left on device" },
		{ "Received regular credentials: A, B", PID1_LINE_RECEIVED, NULL, "A, B" },
		{ "SMBIOS OEM string lacks '=' character, ignoring.", PID1_LINE_SMBIOS_NO_EQ, NULL, NULL },
		{ "Credential assignment through kernel command line lacks ':' character, ignoring: secret",
		  PID1_LINE_CMDLINE_NO_COLON, NULL, NULL },
		{ "systemd.import_credentials=no is set, skipping importing of credentials.", PID1_LINE_IMPORT_DISABLED,
		  NULL, NULL },
	};
	struct pid1_line l;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(pid1_line_parse(cases[i].text, &l), 1);
		assert_int_equal(l.kind, cases[i].kind);
		if (cases[i].name)
			assert_string_equal(l.name, cases[i].name);
		else
			assert_null(l.name);
		if (cases[i].value)
			assert_string_equal(l.value, cases[i].value);
		else if (cases[i].kind != PID1_LINE_TOO_LARGE)
			assert_null(l.value);   /* the ':' warning's word value is never kept */
		pid1_line_free(&l);
	}
	assert_int_equal(pid1_line_parse("Acquired 3 regular credentials, 0 untrusted credentials.", &l), 1);
	assert_int_equal(l.regular, 3);
	assert_int_equal(pid1_line_parse("Acquired 3 regular credentials, 0 untrusted credentials. x", &l), 0);
	assert_int_equal(pid1_line_parse("Acquired -3 regular credentials, 0 untrusted credentials.", &l), 0);
	assert_int_equal(pid1_line_parse("Detected architecture x86-64.", &l), 0);
	assert_int_equal(pid1_line_parse("SMBIOS credential name 'x' is not valid", &l), 0);
}

/* ---- the lines a prediction implies ------------------------------------------------------------ */

static struct cred_candidate cand(enum cred_source src, const char *name, enum cred_fate fate)
{
	return (struct cred_candidate) { .source = src, .name = (char *) name, .fate = fate,
					 .origin = (char *) "somewhere" };
}

static void test_each_warned_drop_and_the_report_lines_are_expected_in_order(void **state)
{
	struct cred_candidate c[] = {
		cand(CRED_SOURCE_FW_CFG, ".dot:x", FATE_DROPPED_INVALID_NAME),   /* never seen: dot file */
		cand(CRED_SOURCE_FW_CFG, "Z", FATE_IMPORTED),
		cand(CRED_SOURCE_SMBIOS, "bad/name", FATE_DROPPED_INVALID_NAME),
		cand(CRED_SOURCE_SMBIOS, "two\nlines", FATE_DROPPED_INVALID_NAME),   /* split by PID 1 */
		cand(CRED_SOURCE_SMBIOS, "A", FATE_IMPORTED),
		cand(CRED_SOURCE_SMBIOS, "A", FATE_DROPPED_DUPLICATE),
		cand(CRED_SOURCE_SMBIOS, ".hidden", FATE_IMPORTED),   /* not listed by report_credentials() */
		cand(CRED_SOURCE_CMDLINE, "W", FATE_DROPPED_STORE_FULL),
	};
	struct prediction p = { .env.systemd_version = 257, .cands = c, .n_cands = 8 };
	struct pid1_expect *e;
	size_t n;

	c[7].store_failure = STORE_FAILURE_WRITE;
	assert_int_equal(pid1_expect_lines(&p, &e, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(e[0].kind, PID1_LINE_SMBIOS_BAD_NAME);
	assert_string_equal(e[0].name, "bad/name");
	assert_int_equal(e[1].kind, PID1_LINE_WRITE_FAILED);
	assert_string_equal(e[1].value, "No space left on device");
	assert_int_equal(e[2].kind, PID1_LINE_CMDLINE_FAILED);
	assert_int_equal(e[3].kind, PID1_LINE_RECEIVED);
	assert_string_equal(e[3].value, "A, Z");
	assert_int_equal(e[4].kind, PID1_LINE_ACQUIRED);
	assert_int_equal(e[4].regular, 2);
	for (size_t i = 0; i < n; i++)
		assert_true(e[i].required);
	pid1_expect_free(e, n);

	p.env.systemd_version = 252;   /* no report_credentials() */
	assert_int_equal(pid1_expect_lines(&p, &e, &n), 0);
	assert_int_equal(n, 3);
	pid1_expect_free(e, n);
}

/* systemd.import_credentials=no: one notice, two when a systemd initrd ran first (its PID 1
 * and the one after switch-root both read the word). */
static void test_import_disabled_is_one_notice_per_pid1(void **state)
{
	struct prediction p = { .env.systemd_version = 257, .env.import_disabled = true,
				.skip_reason = (char *) "systemd.import_credentials=no is set" };
	struct pid1_expect *e;
	size_t n;

	assert_int_equal(pid1_expect_lines(&p, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].kind, PID1_LINE_IMPORT_DISABLED);
	pid1_expect_free(e, n);
	p.env.pid1_switched_root = true;
	assert_int_equal(pid1_expect_lines(&p, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].kind, PID1_LINE_IMPORT_DISABLED);
	assert_int_equal(e[1].kind, PID1_LINE_IMPORT_DISABLED);
	pid1_expect_free(e, n);
}

/* After a systemd initrd that imported nothing (no preset variable), its PID 1 logged the same
 * drops as the one after switch-root, which then imported and reported. */
static void test_initrd_that_imported_nothing_logged_the_drops_too(void **state)
{
	struct cred_candidate c[] = { cand(CRED_SOURCE_SMBIOS, "bad/name", FATE_DROPPED_INVALID_NAME) };
	struct prediction p = { .env.systemd_version = 257, .env.pid1_switched_root = true, .cands = c, .n_cands = 1 };
	struct pid1_expect *e;
	size_t n;

	assert_int_equal(pid1_expect_lines(&p, &e, &n), 0);
	assert_int_equal(n, 2);   /* nothing imported: both reports are debug lines */
	assert_int_equal(e[0].kind, PID1_LINE_SMBIOS_BAD_NAME);
	assert_int_equal(e[1].kind, PID1_LINE_SMBIOS_BAD_NAME);
	pid1_expect_free(e, n);
}

/* A line longer than /dev/kmsg takes closes it for PID 1: what follows is not required. */
static void test_a_line_too_long_for_kmsg_ends_what_is_required(void **state)
{
	char fits[600], too_long[1200];
	struct cred_candidate c[3];
	struct prediction p = { .env.systemd_version = 257, .cands = c, .n_cands = 3 };
	struct pid1_expect *e;
	size_t n;

	memset(fits, 'n', sizeof fits);
	fits[0] = '/';
	fits[sizeof fits - 1] = 0;
	memset(too_long, 'n', sizeof too_long);
	too_long[0] = '/';
	too_long[sizeof too_long - 1] = 0;
	c[0] = cand(CRED_SOURCE_SMBIOS, fits, FATE_DROPPED_INVALID_NAME);      /* 599 + 51 bytes */
	c[1] = cand(CRED_SOURCE_SMBIOS, too_long, FATE_DROPPED_INVALID_NAME);  /* 1199 + 51: EINVAL */
	c[2] = cand(CRED_SOURCE_SMBIOS, "x:1", FATE_DROPPED_INVALID_NAME);
	assert_int_equal(pid1_expect_lines(&p, &e, &n), 0);
	assert_int_equal(n, 3);
	assert_true(e[0].required);
	assert_false(e[1].required);
	assert_false(e[2].required);   /* PID 1 logs to the console from there on */
	pid1_expect_free(e, n);
}

/* ---- (a) to (e): whole roots -------------------------------------------------------------------- */

/* trixie, 300 SMBIOS credentials, a 1 MiB tmpfs: 256 arrive; PID 1's own lines agree. */
static char *full_store_root(const char *acquired)
{
	static const char *strings[301];
	static const char *store[257];
	static char names[300][40], files[256][16];
	char log[256];

	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof names[i], "io.systemd.credential:C%03d=v", i);
		strings[i] = names[i];
	}
	for (int i = 0; i < 256; i++) {
		snprintf(files[i], sizeof files[i], "C%03d=v", i);
		store[i] = files[i];
	}
	char *root = make_root(257, TMPFS, strings, store);
	snprintf(log, sizeof log, "27;systemd[1]: Failed to write credential: No space left on device\n"
		 "30;systemd[1]: Acquired %s regular credentials, 0 untrusted credentials.\n", acquired);
	put_kmsg(root, 0, log);
	return root;
}

static void test_a_full_store_and_pid1s_own_lines_agree(void **state)
{
	char *root = full_store_root("256");
	struct snapshot snap;
	struct verify_result r;

	snapshot_of(root, &snap);
	assert_true(snap.pid1.read);
	assert_true(snap.pid1.complete);
	assert_int_equal(snap.pid1.lines, 2);
	assert_int_equal(snap.pid1.compared, 2);   /* the Received line is too long for /dev/kmsg */
	assert_int_equal(snap.pid1.agree, 2);
	assert_null(pid1_finding(&snap, &r));
	json_t *j = report_json_pid1_log(&snap.pid1);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s, "{\"agree\":2,\"compared\":2,\"complete\":true,\"lines\":2,\"source\":\"/dev/kmsg\"}");
	free(s);
	json_decref(j);
	verify_result_free(&r);
	snapshot_free(&snap);
	remove_root(root);
}

static void test_b_pid1_counting_one_fewer_is_a_model_disagreement_naming_both(void **state)
{
	char *root = full_store_root("255");
	struct snapshot snap;
	struct verify_result r;
	const struct finding *f;

	snapshot_of(root, &snap);
	assert_int_equal(snap.pid1.compared, 2);
	assert_int_equal(snap.pid1.agree, 1);
	f = pid1_finding(&snap, &r);
	assert_non_null(f);
	assert_int_equal(f->kind, FINDING_MISMATCH);
	assert_string_equal(f->rule, "model-disagrees");
	assert_true(f->failure);
	assert_string_equal(f->name, "");
	assert_string_equal(f->message, "PID 1 logged \"Acquired 255 regular credentials, 0 untrusted credentials.\", "
			    "but the model (systemd 257) predicts \"Acquired 256 regular credentials, 0 untrusted "
			    "credentials.\": the model does not match what PID 1 did.");
	assert_int_equal(r.verdict, VERDICT_FAIL);
	verify_result_free(&r);
	snapshot_free(&snap);
	remove_root(root);
}

static void test_c_an_invalid_name_warning_for_an_imported_name_disagrees(void **state)
{
	char *root = make_root(257, TMPFS, FOO, FOO_STORED);
	struct snapshot snap;
	struct verify_result r;
	const struct finding *f;

	put_kmsg(root, 0, "28;systemd[1]: SMBIOS credential name 'FOO' is not valid, ignoring.\n"
		 "30;systemd[1]: Received regular credentials: FOO\n"
		 "30;systemd[1]: Acquired 1 regular credentials, 0 untrusted credentials.\n");
	snapshot_of(root, &snap);
	assert_int_equal(snap.pid1.lines, 3);
	assert_int_equal(snap.pid1.compared, 3);
	assert_int_equal(snap.pid1.agree, 2);
	f = pid1_finding(&snap, &r);
	assert_non_null(f);
	assert_string_equal(f->name, "FOO");
	assert_string_equal(f->message, "PID 1 logged \"SMBIOS credential name 'FOO' is not valid, ignoring.\", but the "
			    "model (systemd 257) predicts no such line: systemd 257 imports FOO from SMBIOS 11-0 string 1 "
			    "at byte 5.");
	verify_result_free(&r);
	snapshot_free(&snap);
	remove_root(root);
}

static const char *const FOO_AND_BAD[] = { "io.systemd.credential:FOO=bar", "io.systemd.credential:bad/name=x", NULL };

/* The expected warning for bad/name and the report lines are missing: a crime only in a
 * complete log. */
static void test_d_absence_counts_only_in_a_complete_log(void **state)
{
	char *root = make_root(257, TMPFS, FOO_AND_BAD, FOO_STORED);
	struct snapshot snap;
	struct verify_result r;
	const struct finding *f;

	put_kmsg(root, 0, "4;printk: systemd: 3 output lines suppressed due to ratelimiting\n");
	snapshot_of(root, &snap);
	assert_true(snap.pid1.read);
	assert_false(snap.pid1.complete);
	assert_string_equal(snap.pid1.why, "the kernel suppressed 3 lines of systemd (printk ratelimiting)");
	assert_int_equal(snap.pid1.compared, 0);
	assert_null(pid1_finding(&snap, &r));
	verify_result_free(&r);
	snapshot_free(&snap);

	put_kmsg(root, 0, "");   /* the same, whole: three lines are missing */
	snapshot_of(root, &snap);
	assert_true(snap.pid1.complete);
	assert_int_equal(snap.pid1.compared, 3);
	assert_int_equal(snap.pid1.agree, 0);
	assert_int_equal(snap.pid1.n_dis, 3);
	assert_string_equal(snap.pid1.dis[0].name, "bad/name");
	assert_string_equal(snap.pid1.dis[0].message, "The model (systemd 257) predicts PID 1 logged \"SMBIOS credential "
			    "name 'bad/name' is not valid, ignoring.\" (SMBIOS 11-0 string 2 at byte 35), but PID 1's "
			    "complete log in /dev/kmsg has no such line.");
	snapshot_free(&snap);

	/* positive evidence counts in an incomplete log too */
	put_kmsg(root, 0, "4;printk: systemd: 3 output lines suppressed due to ratelimiting\n"
		 "30;systemd[1]: Acquired 2 regular credentials, 0 untrusted credentials.\n");
	snapshot_of(root, &snap);
	assert_false(snap.pid1.complete);
	f = pid1_finding(&snap, &r);
	assert_non_null(f);
	assert_non_null(strstr(f->message, "Acquired 2 regular"));
	assert_non_null(strstr(f->message, "\"Acquired 1 regular"));
	verify_result_free(&r);
	snapshot_free(&snap);
	remove_root(root);
}

static void test_e_252_logs_no_acquired_line_and_one_from_it_disagrees(void **state)
{
	char *root = make_root(252, RAMFS, FOO_AND_BAD, FOO_STORED);
	struct snapshot snap;
	struct verify_result r;
	const struct finding *f;

	put_kmsg(root, 0, "28;systemd[1]: SMBIOS credential name 'bad/name' is not valid, ignoring.\n");
	snapshot_of(root, &snap);
	assert_true(snap.pid1.complete);
	assert_int_equal(snap.pid1.compared, 1);
	assert_int_equal(snap.pid1.agree, 1);
	assert_null(pid1_finding(&snap, &r));
	verify_result_free(&r);
	snapshot_free(&snap);

	put_kmsg(root, 0, "28;systemd[1]: SMBIOS credential name 'bad/name' is not valid, ignoring.\n"
		 "30;systemd[1]: Acquired 1 regular credentials, 0 untrusted credentials.\n");
	snapshot_of(root, &snap);
	f = pid1_finding(&snap, &r);
	assert_non_null(f);
	assert_non_null(strstr(f->message, "predicts no such line: systemd 252 does not log this line."));
	verify_result_free(&r);
	snapshot_free(&snap);
	remove_root(root);
}

/* ---- completeness ------------------------------------------------------------------------------- */

static void expect_incomplete(const char *root, const char *why)
{
	struct snapshot snap;

	snapshot_of(root, &snap);
	assert_true(snap.pid1.read);
	assert_false(snap.pid1.complete);
	if (!strstr(snap.pid1.why, why))
		fail_msg("\"%s\" does not say \"%s\"", snap.pid1.why, why);
	assert_int_equal(snap.pid1.n_dis, 0);
	snapshot_free(&snap);
}

static void test_a_wrapped_gapped_ratelimited_or_quiet_log_is_incomplete(void **state)
{
	char *root = make_root(257, TMPFS, FOO_AND_BAD, FOO_STORED);

	put_kmsg(root, 5, "");
	expect_incomplete(root, "its ring buffer wrapped: the oldest record left is number 5");
	puts_at(root, "/dev/kmsg", "5,0,0,-;Linux\n30,4,9,-;" RUNNING "\n");
	expect_incomplete(root, "3 of its records are missing");
	put_kmsg(root, 0, "30;systemd[1]: Too many messages being logged to kmsg, ignoring\n");
	expect_incomplete(root, "PID 1 reached its own /dev/kmsg limit");
	puts_at(root, "/dev/kmsg", "5,0,0,-;Linux\n30,1,9,-;systemd[1]: Detected architecture x86-64.\n");
	expect_incomplete(root, "\"systemd ... running in system mode\" line is not in it");
	put_kmsg(root, 0, "");
	puts_at(root, "/proc/cmdline", "root=/dev/vda1 printk.devkmsg=on printk.devkmsg=ratelimit\n");
	expect_incomplete(root, "printk.devkmsg= on the kernel command line is ratelimit");
	puts_at(root, "/proc/sys/kernel/printk_devkmsg", "off\n");   /* what the kernel says now wins */
	expect_incomplete(root, "kernel.printk_devkmsg is off");
	remove_root(root);
}

/* systemd 252 drops lines past its kmsg burst without a note: 200 lines in 5 s are a hint. */
static void test_252_burst_of_200_lines_makes_the_log_incomplete(void **state)
{
	char *root = make_root(252, RAMFS, FOO_AND_BAD, FOO_STORED), *log = calloc(200, 64);

	assert_non_null(log);
	for (int i = 0; i < 200; i++)
		strcat(log, "30;systemd[1]: Mounted something.\n");
	put_kmsg(root, 0, log);   /* 1 ms apart */
	expect_incomplete(root, "PID 1 reached its own /dev/kmsg limit of 200 lines in 5 s");
	free(log);
	remove_root(root);
}

/* ---- what is not read, and what is not compared ------------------------------------------------ */

static void test_a_fifo_or_missing_dev_kmsg_is_none_at_once(void **state)
{
	char *root = make_root(257, TMPFS, FOO, FOO_STORED), path[300];
	struct snapshot snap;
	char line[400];

	snapshot_of(root, &snap);
	assert_false(snap.pid1.read);
	assert_non_null(strstr(snap.pid1.why, "/dev/kmsg does not exist"));
	snapshot_free(&snap);

	snprintf(path, sizeof path, "%s/dev", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/dev/kmsg", root);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);   /* a FIFO nobody writes must not hang the agent */
	snapshot_of(root, &snap);
	alarm(0);
	assert_false(snap.pid1.read);
	assert_false(snap.pid1.complete);
	assert_non_null(strstr(snap.pid1.why, "is a FIFO or socket, not a regular file"));
	assert_int_equal(snap.pid1.lines + snap.pid1.compared + snap.pid1.agree, 0);
	assert_non_null(strstr(pid1_check_summary(&snap.pid1, line, sizeof line), "PID 1's log: none ("));
	json_t *j = report_json_pid1_log(&snap.pid1);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s, "{\"agree\":0,\"compared\":0,\"complete\":false,\"lines\":0,\"source\":\"none\"}");
	free(s);
	json_decref(j);
	snapshot_free(&snap);
	remove_root(root);
}

static void test_a_preset_credentials_directory_is_counted_not_compared(void **state)
{
	char *root = make_root(257, TMPFS, FOO, FOO_STORED);
	struct snapshot snap;

	put(root, "/proc/1/environ", "CREDENTIALS_DIRECTORY=/run/credentials/@system\0", 47);
	put_kmsg(root, 0, "30;systemd[1]: Acquired 7 regular credentials, 0 untrusted credentials.\n");
	snapshot_of(root, &snap);
	assert_true(snap.pid1.read);
	assert_int_equal(snap.pid1.lines, 1);
	assert_int_equal(snap.pid1.compared, 0);
	assert_int_equal(snap.pid1.n_dis, 0);
	assert_non_null(strstr(snap.pid1.why, "not compared"));
	snapshot_free(&snap);
	remove_root(root);
}

static void test_a_received_list_that_differs_names_both_lists(void **state)
{
	char *root = make_root(257, TMPFS, FOO, FOO_STORED);
	struct snapshot snap;

	put_kmsg(root, 0, "30;systemd[1]: Received regular credentials: BAR, FOO\n");
	snapshot_of(root, &snap);
	assert_int_equal(snap.pid1.n_dis, 2);   /* the list, and the Acquired line a whole log lacks */
	assert_string_equal(snap.pid1.dis[0].message, "PID 1 logged \"Received regular credentials: BAR, FOO\", but the "
			    "model (systemd 257) predicts \"Received regular credentials: FOO\": the model does not match "
			    "what PID 1 did.");
	snapshot_free(&snap);
	remove_root(root);
}

/* Under root "/" the agent reads the real /dev/kmsg: never blocking, whatever it holds. */
static void test_the_real_dev_kmsg_is_read_without_blocking(void **state)
{
	struct kmsg_log log;

	alarm(20);
	assert_int_equal(kmsg_load("/", &log), 0);
	alarm(0);
	if (log.read)
		assert_true(log.n_records > 0);
	else
		assert_true(log.why_not[0] != 0);
	kmsg_log_free(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmsg_record_fields_are_parsed_strictly),
		cmocka_unit_test(test_kernel_escaping_is_undone_except_nul),
		cmocka_unit_test(test_every_import_line_is_recognised_with_its_name),
		cmocka_unit_test(test_each_warned_drop_and_the_report_lines_are_expected_in_order),
		cmocka_unit_test(test_import_disabled_is_one_notice_per_pid1),
		cmocka_unit_test(test_initrd_that_imported_nothing_logged_the_drops_too),
		cmocka_unit_test(test_a_line_too_long_for_kmsg_ends_what_is_required),
		cmocka_unit_test(test_a_full_store_and_pid1s_own_lines_agree),
		cmocka_unit_test(test_b_pid1_counting_one_fewer_is_a_model_disagreement_naming_both),
		cmocka_unit_test(test_c_an_invalid_name_warning_for_an_imported_name_disagrees),
		cmocka_unit_test(test_d_absence_counts_only_in_a_complete_log),
		cmocka_unit_test(test_e_252_logs_no_acquired_line_and_one_from_it_disagrees),
		cmocka_unit_test(test_a_wrapped_gapped_ratelimited_or_quiet_log_is_incomplete),
		cmocka_unit_test(test_252_burst_of_200_lines_makes_the_log_incomplete),
		cmocka_unit_test(test_a_fifo_or_missing_dev_kmsg_is_none_at_once),
		cmocka_unit_test(test_a_preset_credentials_directory_is_counted_not_compared),
		cmocka_unit_test(test_a_received_list_that_differs_names_both_lists),
		cmocka_unit_test(test_the_real_dev_kmsg_is_read_without_blocking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
