/* Unit tests for guest-agent/systemd/ (import_creds, smbios11, gates, base64, creds_name,
 * proc_cmdline, versions): systemd's import rules per version, on in-memory sources. Every expectation is an exact fate, size or detail. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "explain.h"

#include "systemd/base64.h"
#include "systemd/confidential_virt.h"
#include "systemd/creds_name.h"
#include "systemd/gates.h"
#include "systemd/import_creds.h"
#include "systemd/proc_cmdline.h"
#include "systemd/versions.h"

/* ---- helpers ----------------------------------------------------------------------- */

struct entry {
	uint8_t *data;
	size_t len, cap;
};

static void entry_reserve(struct entry *e, size_t more)
{
	if (e->len + more <= e->cap)
		return;
	e->cap = (e->len + more) * 2;
	e->data = realloc(e->data, e->cap);
	assert_non_null(e->data);
}

/* A QEMU-style type 11 entry: header (type 11, length 5, handle 0x0e00, count), strings. */
static void entry_init(struct entry *e)
{
	*e = (struct entry) {};
	entry_reserve(e, 5);
	memcpy(e->data, "\x0b\x05\x00\x0e\x00", 5);
	e->len = 5;
}

static void entry_add(struct entry *e, const void *s, size_t n)
{
	entry_reserve(e, n + 1);
	memcpy(e->data + e->len, s, n);
	e->data[e->len + n] = 0;
	e->len += n + 1;
	e->data[4]++;
}

static void entry_adds(struct entry *e, const char *s)
{
	entry_add(e, s, strlen(s));
}

/* "PREFIX" + n copies of c */
static void entry_add_fill(struct entry *e, const char *prefix, char c, size_t n)
{
	size_t pl = strlen(prefix);
	char *s = malloc(pl + n);
	assert_non_null(s);
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	entry_add(e, s, pl + n);
	free(s);
}

static void entry_finish(struct entry *e)
{
	entry_reserve(e, 1);
	e->data[e->len++] = 0;   /* the closing double NUL */
}

static struct raw_blob blob_from(struct entry *e, const char *name)
{
	return (struct raw_blob) { .name = (char *) name, .data = e->data, .len = e->len };
}

static struct import_env env_for(unsigned version)
{
	return (struct import_env) {
		.systemd_version = version,
		.version_detected = true,
		.page_size = 4096,
		.dmi_sysfs_present = true,
		.fw_cfg_present = true,
	};
}

static void predict(const struct import_sources *s, const struct import_env *env, struct prediction *p)
{
	assert_int_equal(predict_import(s, env, p), 0);
}

/* The single candidate for NAME from SOURCE (fails the test if there is not exactly one). */
static const struct cred_candidate *cand(const struct prediction *p, enum cred_source src, const char *name)
{
	const struct cred_candidate *found = NULL;

	for (size_t i = 0; i < p->n_cands; i++)
		if (p->cands[i].source == src && p->cands[i].name && strcmp(p->cands[i].name, name) == 0) {
			assert_null(found);
			found = &p->cands[i];
		}
	assert_non_null(found);
	return found;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* One SMBIOS entry holding the given strings, predicted for VERSION. */
static void predict_strings(unsigned version, const char *const *strs, size_t n, struct prediction *p)
{
	struct entry e;
	struct raw_blob b;
	struct import_sources s = {};
	struct import_env env = env_for(version);

	entry_init(&e);
	for (size_t i = 0; i < n; i++)
		entry_adds(&e, strs[i]);
	entry_finish(&e);
	b = blob_from(&e, "11-0");
	s.smbios = &b;
	s.n_smbios = 1;
	predict(&s, &env, p);
	free(e.data);
}

static void predict_one_string(unsigned version, const char *str, struct prediction *p)
{
	predict_strings(version, &str, 1, p);
	assert_int_equal(p->n_cands, 1);
}

/* ---- the one-page read before 257 ----------------------------------------------------- */

/* The observed bookworm case: FIRST 3000 bytes arrives, SECOND is cut to 1033, THIRD is lost. */
static void build_three_text(struct entry *e)
{
	entry_init(e);
	entry_add_fill(e, "io.systemd.credential:FIRST=", 'a', 3000);   /* bytes 5..3032 */
	entry_add_fill(e, "io.systemd.credential:SECOND=", 'b', 3000);  /* bytes 3034..6062 */
	entry_adds(e, "io.systemd.credential:THIRD=xyz");               /* bytes 6064..6094 */
	entry_finish(e);
}

static void test_v252_cuts_the_entry_after_one_page(void **state)
{
	struct entry e;
	struct raw_blob b;
	struct import_sources s = {};
	struct import_env env = env_for(252);
	struct prediction p;
	const struct cred_candidate *c;

	build_three_text(&e);
	assert_int_equal(e.len, 6097);
	b = blob_from(&e, "11-0");
	s.smbios = &b;
	s.n_smbios = 1;
	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 3);

	c = cand(&p, CRED_SOURCE_SMBIOS, "FIRST");
	assert_int_equal(c->fate, FATE_IMPORTED);
	assert_int_equal(c->imported_len, 3000);
	assert_int_equal(c->offset, 5);
	assert_string_equal(c->origin, "SMBIOS 11-0 string 1 at byte 5");

	c = cand(&p, CRED_SOURCE_SMBIOS, "SECOND");
	assert_int_equal(c->fate, FATE_IMPORTED_TRUNCATED);
	assert_int_equal(c->imported_len, 1033);
	assert_true(all_bytes(c->imported, 1033, 'b'));
	assert_int_equal(c->value_len, 3000);      /* what the host sent */
	assert_int_equal(c->offset, 3034);
	assert_string_equal(c->detail, "the entry is 6097 bytes, systemd 252 reads only the first 4096, and SECOND "
			    "starts at byte 3034, so its value is cut from 3000 to 1033 bytes");

	c = cand(&p, CRED_SOURCE_SMBIOS, "THIRD");
	assert_int_equal(c->fate, FATE_DROPPED_PAST_PAGE);
	assert_null(c->imported);
	assert_int_equal(c->value_len, 3);
	assert_string_equal(c->detail, "the entry is 6097 bytes, systemd 252 reads only the first 4096, and THIRD "
			    "starts at byte 6064");
	assert_int_equal(p.budget_used, 4033);
	prediction_free(&p);
	free(e.data);
}

/* build_three_text() predicted for VERSION (the prediction holds its own copies). */
static void predict_three_text(unsigned version, struct prediction *p)
{
	struct entry e;
	struct raw_blob b;
	struct import_sources s = {};
	struct import_env env = env_for(version);

	build_three_text(&e);
	b = blob_from(&e, "11-0");
	s.smbios = &b;
	s.n_smbios = 1;
	predict(&s, &env, p);
	free(e.data);
}

static void test_v257_reads_the_whole_entry(void **state)
{
	struct prediction p;

	predict_three_text(257, &p);
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "FIRST")->fate, FATE_IMPORTED);
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "SECOND")->fate, FATE_IMPORTED);
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "SECOND")->imported_len, 3000);
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "THIRD")->fate, FATE_IMPORTED);
	assert_memory_equal(cand(&p, CRED_SOURCE_SMBIOS, "THIRD")->imported, "xyz", 3);
	assert_int_equal(p.budget_used, 6003);
	prediction_free(&p);
}

/* The bytes systemd writes are held once when they equal the value as sent (text or decoded
 * base64), and apart when the page cut changed them; both end in a NUL. prediction_free()
 * clears and frees a shared buffer once (the ASan build would report a double free). */
static void test_imported_bytes_share_the_value_buffer_only_when_equal(void **state)
{
	struct prediction p;
	const struct cred_candidate *c;

	predict_three_text(252, &p);
	c = cand(&p, CRED_SOURCE_SMBIOS, "FIRST");
	assert_ptr_equal(c->imported, c->value);
	assert_int_equal(c->imported[3000], 0);
	c = cand(&p, CRED_SOURCE_SMBIOS, "SECOND");
	assert_int_equal(c->fate, FATE_IMPORTED_TRUNCATED);
	assert_ptr_not_equal(c->imported, c->value);
	assert_int_equal(c->imported[1033], 0);
	assert_int_equal(c->value[3000], 0);
	prediction_free(&p);

	predict_one_string(257, "io.systemd.credential.binary:B=Zm9vYg==", &p);
	assert_int_equal(p.cands[0].fate, FATE_IMPORTED);
	assert_ptr_equal(p.cands[0].imported, p.cands[0].value);
	assert_int_equal(p.cands[0].imported_len, 4);
	assert_string_equal((const char *) p.cands[0].imported, "foob");
	prediction_free(&p);
}

/* [inferred] v257 reads each entry with read_full_file_full() capped at 8 + 1 MiB bytes. */
static void test_v257_reads_at_most_8_bytes_plus_1_mib_of_an_entry(void **state)
{
	struct entry e;
	struct raw_blob b;
	struct import_sources s = {};
	struct import_env env = env_for(257);
	struct prediction p;
	const struct cred_candidate *c;

	entry_init(&e);
	entry_add_fill(&e, "io.systemd.credential:HUGE=", 'h', 1048600);   /* 1048627 bytes at byte 5 */
	entry_finish(&e);
	b = blob_from(&e, "11-0");
	s.smbios = &b;
	s.n_smbios = 1;
	predict(&s, &env, &p);
	c = cand(&p, CRED_SOURCE_SMBIOS, "HUGE");
	assert_int_equal(c->fate, FATE_IMPORTED_TRUNCATED);
	assert_int_equal(c->imported_len, 1048552);   /* 1048584 - 5 - 27 */
	assert_int_equal(c->value_len, 1048600);
	assert_string_equal(c->detail, "the entry is 1048634 bytes, systemd 257 reads only the first 1048584, and HUGE "
			    "starts at byte 5, so its value is cut from 1048600 to 1048552 bytes");
	prediction_free(&p);
	free(e.data);
}

/* A filler string of FILL bytes puts the binary value at byte 4096 - SEEN of the entry. */
static void predict_cut_binary(unsigned version, size_t fill, struct prediction *p, struct entry *e)
{
	struct raw_blob b;
	struct import_sources s = {};
	struct import_env env = env_for(version);

	entry_init(e);
	entry_add_fill(e, "vendor:", 'x', fill - 7);
	entry_add_fill(e, "io.systemd.credential.binary:BIN=", 'A', 400);   /* 300 zero bytes */
	entry_finish(e);
	b = blob_from(e, "11-0");
	s.smbios = &b;
	s.n_smbios = 1;
	predict(&s, &env, p);
	assert_int_equal(p->n_cands, 2);
	assert_int_equal(p->cands[0].fate, FATE_NOT_A_CREDENTIAL);
}

static void test_v252_base64_cut_mid_quad_is_broken_pipe(void **state)
{
	struct prediction p;
	struct entry e;
	const struct cred_candidate *c;

	predict_cut_binary(252, 4050, &p, &e);   /* value starts at 4089: 7 characters seen */
	c = cand(&p, CRED_SOURCE_SMBIOS, "BIN");
	assert_int_equal(c->fate, FATE_DROPPED_BAD_BASE64);
	assert_null(c->imported);
	assert_int_equal(c->value_len, 300);
	assert_string_equal(c->detail, "the entry is 4491 bytes, systemd 252 reads only the first 4096, and BIN "
			    "starts at byte 4056, so its base64 text is cut from 400 to 7 characters: base64 "
			    "length 7 is not a multiple of 4 (systemd: Broken pipe)");
	prediction_free(&p);
	free(e.data);
}

static void test_v252_base64_cut_on_a_quad_boundary_is_silently_truncated(void **state)
{
	struct prediction p;
	struct entry e;
	const struct cred_candidate *c;

	predict_cut_binary(252, 4049, &p, &e);   /* value starts at 4088: 8 characters seen */
	c = cand(&p, CRED_SOURCE_SMBIOS, "BIN");
	assert_int_equal(c->fate, FATE_IMPORTED_TRUNCATED);
	assert_int_equal(c->imported_len, 6);
	assert_true(all_bytes(c->imported, 6, 0));
	assert_int_equal(c->value_len, 300);
	prediction_free(&p);
	free(e.data);

	predict_cut_binary(257, 4049, &p, &e);
	c = cand(&p, CRED_SOURCE_SMBIOS, "BIN");
	assert_int_equal(c->fate, FATE_IMPORTED);
	assert_int_equal(c->imported_len, 300);
	assert_true(all_bytes(c->imported, 300, 0));
	prediction_free(&p);
	free(e.data);
}

static void test_v254_cut_before_the_equals_sign_drops_the_string(void **state)
{
	struct entry e;
	struct raw_blob b;
	struct import_sources s = {};
	struct import_env env = env_for(254);
	struct prediction p;
	const struct cred_candidate *c;

	entry_init(&e);
	entry_add_fill(&e, "vendor:", 'x', 4076);          /* bytes 5..4087 */
	entry_adds(&e, "io.systemd.credential:LONGNAME=v");  /* starts at 4089, '=' at 4119 */
	entry_finish(&e);
	b = blob_from(&e, "11-0");
	s.smbios = &b;
	s.n_smbios = 1;
	predict(&s, &env, &p);
	c = cand(&p, CRED_SOURCE_SMBIOS, "LONGNAME");
	assert_int_equal(c->fate, FATE_NOT_A_CREDENTIAL);   /* the cut leaves "io.syst" */
	assert_string_equal(c->detail, "the entry is 4123 bytes, systemd 254 reads only the first 4096, and LONGNAME "
			    "starts at byte 4089, so only 7 of its 32 bytes were seen, which cuts it inside its prefix");
	prediction_free(&p);
	free(e.data);
}

/* ---- precedence ----------------------------------------------------------------------- */

static void test_first_source_wins_fw_cfg_then_smbios_then_cmdline(void **state)
{
	struct entry e;
	struct raw_blob smb, fw = { .name = "FOO", .data = (uint8_t *) "fw", .len = 2 };
	struct import_sources s = { .fw_cfg = &fw, .n_fw_cfg = 1,
				    .cmdline = "quiet systemd.set_credential=FOO:cmd" };
	struct import_env env = env_for(257);
	struct prediction p;
	const struct cred_candidate *c;

	entry_init(&e);
	entry_adds(&e, "io.systemd.credential:FOO=smbios");
	entry_finish(&e);
	smb = blob_from(&e, "11-0");
	s.smbios = &smb;
	s.n_smbios = 1;
	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 3);
	c = prediction_winner(&p, "FOO");
	assert_non_null(c);
	assert_int_equal(c->source, CRED_SOURCE_FW_CFG);
	assert_string_equal(c->origin, "fw_cfg opt/io.systemd.credentials/FOO");
	c = cand(&p, CRED_SOURCE_SMBIOS, "FOO");
	assert_int_equal(c->fate, FATE_DROPPED_DUPLICATE);
	assert_string_equal(c->detail, "the name was already created by fw_cfg opt/io.systemd.credentials/FOO");
	c = cand(&p, CRED_SOURCE_CMDLINE, "FOO");
	assert_int_equal(c->fate, FATE_DROPPED_DUPLICATE);
	assert_string_equal(c->origin, "kernel command line word 2");
	assert_int_equal(p.budget_used, 2);
	prediction_free(&p);

	s.n_fw_cfg = 0;   /* without fw_cfg, SMBIOS beats the command line */
	predict(&s, &env, &p);
	c = prediction_winner(&p, "FOO");
	assert_int_equal(c->source, CRED_SOURCE_SMBIOS);
	assert_memory_equal(c->imported, "smbios", 6);
	assert_string_equal(cand(&p, CRED_SOURCE_CMDLINE, "FOO")->detail,
			    "the name was already created by SMBIOS 11-0 string 1 at byte 5");
	prediction_free(&p);
	free(e.data);
}

static void test_efi_options_come_before_the_kernel_command_line(void **state)
{
	struct import_sources s = { .efi_options = "systemd.set_credential=A:efi",
				    .cmdline = "systemd.set_credential=A:kernel" };
	struct import_env env = env_for(252);
	struct prediction p;

	predict(&s, &env, &p);
	assert_string_equal(prediction_winner(&p, "A")->origin, "EFI SystemdOptions word 1");
	prediction_free(&p);

	env.efi_secure_boot = true;   /* under Secure Boot the variable is ignored */
	predict(&s, &env, &p);
	assert_string_equal(prediction_winner(&p, "A")->origin, "kernel command line word 1");
	assert_int_equal(p.cands[0].fate, FATE_SOURCE_SKIPPED);
	prediction_free(&p);
}

/* ---- names ------------------------------------------------------------------------------ */

static void test_each_class_of_invalid_name_is_rejected(void **state)
{
	char n256[256], n255[255];

	memset(n256, 'n', sizeof(n256));
	memset(n255, 'n', sizeof(n255));
	assert_string_equal(credential_name_problem("", 0), "the name is empty");
	assert_string_equal(credential_name_problem(".", 1), "the name is \".\"");
	assert_string_equal(credential_name_problem("..", 2), "the name is \"..\"");
	assert_string_equal(credential_name_problem("bad/name", 8), "its name contains '/'");
	assert_string_equal(credential_name_problem("a:b", 3), "its name contains ':'");
	assert_string_equal(credential_name_problem("a\tb", 3), "its name contains a control character (below 0x20)");
	assert_string_equal(credential_name_problem("a\x7f", 2), "its name contains the byte 0x7f (DEL)");
	assert_string_equal(credential_name_problem("\xc3\xa4", 2), "its name contains a byte above 0x7e");
	assert_string_equal(credential_name_problem(n256, 256), "its name is longer than 255 bytes");
	assert_false(credential_name_valid(n256, 256));
	assert_true(credential_name_valid(n255, 255));
	assert_true(credential_name_valid("with spaces", 11));
	assert_true(credential_name_valid("...", 3));
	assert_null(credential_name_problem("passwd.hashed-password.root", 27));
}

static void test_invalid_smbios_name_is_dropped_and_named(void **state)
{
	const char *strs[] = { "io.systemd.credential:bad/name=x", "io.systemd.credential:=x",
			       "io.systemd.credential:with spaces=ok", "io.systemd.credential:noequals",
			       "IO.systemd.credential:FOO=x", "vendor string" };
	struct prediction p;

	predict_strings(252, strs, 6, &p);
	assert_int_equal(p.n_cands, 6);
	assert_int_equal(p.cands[0].fate, FATE_DROPPED_INVALID_NAME);
	assert_string_equal(p.cands[0].name, "bad/name");
	assert_string_equal(p.cands[0].detail, "its name contains '/'");
	assert_int_equal(p.cands[1].fate, FATE_DROPPED_INVALID_NAME);
	assert_string_equal(p.cands[1].detail, "the name is empty");
	assert_int_equal(p.cands[2].fate, FATE_IMPORTED);
	assert_int_equal(p.cands[3].fate, FATE_DROPPED_NO_SEPARATOR);
	assert_null(p.cands[3].name);
	assert_int_equal(p.cands[4].fate, FATE_NOT_A_CREDENTIAL);
	assert_non_null(strstr(p.cands[4].detail, "(the prefix is case-sensitive)"));
	assert_int_equal(p.cands[5].fate, FATE_NOT_A_CREDENTIAL);
	assert_string_equal(p.cands[5].origin, "SMBIOS 11-0 string 6 at byte 159");
	prediction_free(&p);
}

static void test_fw_cfg_and_initrd_names_are_checked_and_cmdline_splits_at_the_first_colon(void **state)
{
	struct raw_blob fw[2] = { { .name = "a:b", .data = (uint8_t *) "x", .len = 1 },
				  { .name = "ok", .data = (uint8_t *) "y", .len = 1 } };
	struct raw_blob initrd[2] = { { .name = "..", .data = (uint8_t *) "z", .len = 1 },
				      { .name = ".hidden", .data = (uint8_t *) "h", .len = 1 } };
	struct import_sources s = { .fw_cfg = fw, .n_fw_cfg = 2, .initrd = initrd, .n_initrd = 2,
				    .cmdline = "systemd.set_credential=URL:http://h:80/ systemd.set_credential=:v" };
	struct import_env env = env_for(257);
	struct prediction p;

	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 6);
	assert_int_equal(p.cands[0].fate, FATE_DROPPED_INVALID_NAME);
	assert_string_equal(p.cands[0].detail, "its name contains ':'");
	assert_string_equal(p.cands[0].origin, "fw_cfg opt/io.systemd.credentials/a:b");
	assert_int_equal(p.cands[1].fate, FATE_IMPORTED);
	assert_string_equal((const char *) cand(&p, CRED_SOURCE_CMDLINE, "URL")->imported, "http://h:80/");
	assert_int_equal(p.cands[3].fate, FATE_DROPPED_INVALID_NAME);
	assert_string_equal(p.cands[3].detail, "the name is empty");
	assert_int_equal(p.cands[4].fate, FATE_DROPPED_INVALID_NAME);
	assert_string_equal(p.cands[4].origin, "/run/credentials/@initrd/..");
	assert_int_equal(p.cands[5].fate, FATE_DROPPED_UNSUPPORTED);   /* readdir without dot files */
	prediction_free(&p);
}

static void test_text_value_is_byte_exact_and_may_contain_equals(void **state)
{
	struct prediction p;

	predict_one_string(252, "io.systemd.credential:K=a=b \t\n", &p);
	assert_int_equal(p.cands[0].fate, FATE_IMPORTED);
	assert_int_equal(p.cands[0].imported_len, 6);
	assert_memory_equal(p.cands[0].imported, "a=b \t\n", 6);
	prediction_free(&p);
}

/* ---- base64 --------------------------------------------------------------------------- */

static int unb64(const char *in, unsigned version, char *out, size_t *out_len)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	int r = systemd_unbase64(in, strlen(in), version, &buf, &n);

	if (r == 0) {
		assert_true(n < 64);
		memcpy(out, buf, n);
		out[n] = 0;
		*out_len = n;
		free(buf);
	}
	return r;
}

static void test_base64_rules_match_unbase64mem(void **state)
{
	static const unsigned versions[] = { 252, 254, 257 };
	char out[64];
	size_t n;

	for (size_t i = 0; i < 3; i++) {
		unsigned v = versions[i];
		assert_int_equal(unb64("Zm9v", v, out, &n), 0);
		assert_string_equal(out, "foo");
		assert_int_equal(unb64(" Zm\n9v\r\tYmFy ", v, out, &n), 0);      /* whitespace anywhere */
		assert_string_equal(out, "foobar");
		assert_int_equal(unb64("Zm8=", v, out, &n), 0);
		assert_string_equal(out, "fo");
		assert_int_equal(unb64("Zg==", v, out, &n), 0);
		assert_string_equal(out, "f");
		assert_int_equal(unb64("Zg = = \n", v, out, &n), 0);              /* whitespace after padding */
		assert_string_equal(out, "f");
		assert_int_equal(unb64("", v, out, &n), 0);                       /* empty value accepted */
		assert_int_equal(n, 0);
		assert_int_equal(unb64("   ", v, out, &n), 0);
		assert_int_equal(n, 0);
		assert_int_equal(unb64("Zm8", v, out, &n), -EPIPE);               /* missing padding */
		assert_int_equal(unb64("Zg", v, out, &n), -EPIPE);
		assert_int_equal(unb64("Zg=", v, out, &n), -EPIPE);
		assert_int_equal(unb64("Z", v, out, &n), -EPIPE);
		assert_int_equal(unb64("=Zm9", v, out, &n), -EINVAL);             /* '=' in position 1 */
		assert_int_equal(unb64("Z===", v, out, &n), -EINVAL);             /* '=' in position 2 */
		assert_int_equal(unb64("Z=", v, out, &n), -EINVAL);               /* before the end is noticed */
		assert_int_equal(unb64("Zm=v", v, out, &n), -EINVAL);             /* 3rd '=', 4th not */
		assert_int_equal(unb64("Zh==", v, out, &n), -EINVAL);             /* non-zero bits before padding */
		assert_int_equal(unb64("Zm9=", v, out, &n), -EINVAL);
		assert_int_equal(unb64("Zg==Zg==", v, out, &n), -ENAMETOOLONG);   /* trailing garbage */
		assert_int_equal(unb64("Zm8=x", v, out, &n), -ENAMETOOLONG);
		assert_int_equal(unb64("Zm9v!", v, out, &n), -EINVAL);
		assert_int_equal(unb64("Z!", v, out, &n), -EINVAL);                 /* reading order: not EPIPE */
		assert_int_equal(unb64("+/+/", v, out, &n), 0);
		assert_memory_equal(out, "\xfb\xff\xbf", 3);
		/* URL-safe alphabet: only from 255 */
		assert_int_equal(unb64("-_-_", v, out, &n), v >= 255 ? 0 : -EINVAL);
		if (v >= 255)
			assert_memory_equal(out, "\xfb\xff\xbf", 3);
	}
}

static void test_base64_nul_byte_counts_as_whitespace(void **state)
{
	uint8_t *out = NULL;
	size_t n = 0;

	assert_int_equal(systemd_unbase64("Zm\0" "9v", 5, 252, &out, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "foo", 3);
	free(out);
}

static void test_bad_base64_detail_names_the_rule(void **state)
{
	struct prediction p;

	predict_one_string(254, "io.systemd.credential.binary:U=-_-_", &p);
	assert_int_equal(p.cands[0].fate, FATE_DROPPED_BAD_BASE64);
	assert_null(p.cands[0].value);
	assert_string_equal(p.cands[0].detail, "it uses the URL-safe alphabet at byte 0, and the URL-safe alphabet "
			    "('-', '_') is accepted only from systemd 255, not 254 (systemd: Invalid argument)");
	prediction_free(&p);

	predict_one_string(257, "io.systemd.credential.binary:U=-_-_", &p);
	assert_int_equal(p.cands[0].fate, FATE_IMPORTED);
	assert_memory_equal(p.cands[0].imported, "\xfb\xff\xbf", 3);
	prediction_free(&p);

	predict_one_string(257, "io.systemd.credential.binary:P=Zm9vYmE", &p);
	assert_string_equal(p.cands[0].detail, "base64 length 7 is not a multiple of 4 (systemd: Broken pipe)");
	prediction_free(&p);

	predict_one_string(257, "io.systemd.credential.binary:T=Zg==Zg==", &p);
	assert_string_equal(p.cands[0].detail,
			    "more text follows the padding that ends at byte 3 (systemd: File name too long)");
	prediction_free(&p);

	predict_one_string(252, "io.systemd.credential.binary:E=", &p);
	assert_int_equal(p.cands[0].fate, FATE_IMPORTED);
	assert_int_equal(p.cands[0].imported_len, 0);
	prediction_free(&p);
}

static void test_twenty_thousand_strings_with_repeated_names_keep_the_first_of_each(void **state)
{
	struct entry e;
	struct raw_blob b;
	struct import_sources s = {};
	struct import_env env = env_for(257);
	struct prediction p;
	size_t imported = 0, dup = 0;
	char str[64];

	entry_init(&e);
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(str, sizeof(str), "io.systemd.credential:N%05u=", i % 10000);
		entry_adds(&e, str);
	}
	entry_finish(&e);
	b = blob_from(&e, "11-0");
	s.smbios = &b;
	s.n_smbios = 1;
	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 20000);
	for (size_t i = 0; i < p.n_cands; i++) {
		imported += p.cands[i].fate == FATE_IMPORTED;
		dup += p.cands[i].fate == FATE_DROPPED_DUPLICATE;
	}
	assert_int_equal(imported, 10000);
	assert_int_equal(dup, 10000);
	assert_string_equal(p.cands[19999].detail, "the name was already created by SMBIOS 11-0 string 10000 at byte 299975");
	assert_int_equal(p.budget_used, 0);
	prediction_free(&p);
	free(e.data);
}

/* ---- sizes and the shared budget ------------------------------------------------------ */

static void test_exactly_one_mib_is_imported_and_one_byte_more_is_not(void **state)
{
	uint8_t *big = calloc(1, CRED_SIZE_MAX + 1);
	struct raw_blob fw = { .name = "BIG", .data = big, .len = CRED_SIZE_MAX };
	struct import_sources s = { .fw_cfg = &fw, .n_fw_cfg = 1 };
	struct import_env env = env_for(252);
	struct prediction p;

	assert_non_null(big);
	predict(&s, &env, &p);
	assert_int_equal(p.cands[0].fate, FATE_IMPORTED);
	assert_int_equal(p.cands[0].imported_len, 1048576);
	assert_int_equal(p.budget_used, 1048576);
	prediction_free(&p);

	fw.len = CRED_SIZE_MAX + 1;
	predict(&s, &env, &p);
	assert_int_equal(p.cands[0].fate, FATE_DROPPED_TOO_LARGE);
	assert_string_equal(p.cands[0].detail, "its size is 1048577 bytes, above the 1048576-byte limit");
	assert_int_equal(p.budget_used, 0);
	prediction_free(&p);
	free(big);
}

static void test_decoded_size_counts_for_binary_credentials(void **state)
{
	size_t n = CRED_SIZE_MAX + 1;                      /* 1048577 zero bytes */
	size_t b64 = (n + 2) / 3 * 4;                      /* ends in "A=" */
	const char *key = "systemd.set_credential_binary=B:";
	char *line = malloc(strlen(key) + b64 + 1);
	struct import_sources s = { .cmdline = line };
	struct import_env env = env_for(254);
	struct prediction p;

	assert_non_null(line);
	strcpy(line, key);
	memset(line + strlen(key), 'A', b64);
	line[strlen(key) + b64 - 1] = '=';   /* 1048577 = 3 * 349525 + 2: the last quad is "AAA=" */
	line[strlen(key) + b64] = 0;
	predict(&s, &env, &p);
	assert_int_equal(p.cands[0].fate, FATE_DROPPED_TOO_LARGE);
	assert_int_equal(p.cands[0].value_len, 1048577);
	assert_string_equal(p.cands[0].detail, "its decoded size is 1048577 bytes, above the 1048576-byte limit");
	prediction_free(&p);
	free(line);
}

static void test_budget_exhausted_by_an_earlier_source_drops_later_ones(void **state)
{
	uint8_t *big = calloc(1, 1048000);
	struct raw_blob fw = { .name = "BIG", .data = big, .len = 1048000 };
	struct entry e;
	struct raw_blob smb;
	struct import_sources s = { .fw_cfg = &fw, .n_fw_cfg = 1, .cmdline = "systemd.set_credential=C:0123456789" };
	struct import_env env = env_for(257);
	struct prediction p;
	const struct cred_candidate *c;

	entry_init(&e);
	entry_add_fill(&e, "io.systemd.credential:S=", 's', 570);
	entry_add_fill(&e, "io.systemd.credential:T=", 't', 1000);
	entry_finish(&e);
	smb = blob_from(&e, "11-0");
	s.smbios = &smb;
	s.n_smbios = 1;
	predict(&s, &env, &p);
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "S")->fate, FATE_IMPORTED);
	c = cand(&p, CRED_SOURCE_SMBIOS, "T");
	assert_int_equal(c->fate, FATE_DROPPED_BUDGET);
	assert_string_equal(c->detail, "it needs 1000 bytes, but the 1 MiB budget had 6 bytes left after fw_cfg and SMBIOS");
	c = cand(&p, CRED_SOURCE_CMDLINE, "C");
	assert_int_equal(c->fate, FATE_DROPPED_BUDGET);
	assert_string_equal(c->detail, "it needs 10 bytes, but the 1 MiB budget had 6 bytes left after fw_cfg and SMBIOS");
	assert_int_equal(p.budget_used, 1048570);
	prediction_free(&p);
	free(e.data);
	free(big);
}

static void test_size_check_runs_before_the_duplicate_check(void **state)
{
	uint8_t *big = calloc(1, CRED_SIZE_MAX);
	struct raw_blob fw = { .name = "FOO", .data = big, .len = CRED_SIZE_MAX };
	struct import_sources s = { .fw_cfg = &fw, .n_fw_cfg = 1, .cmdline = "systemd.set_credential=FOO:x" };
	struct import_env env = env_for(257);
	struct prediction p;

	predict(&s, &env, &p);
	assert_int_equal(cand(&p, CRED_SOURCE_CMDLINE, "FOO")->fate, FATE_DROPPED_BUDGET);
	prediction_free(&p);
	free(big);
}

/* ---- kernel command line ---------------------------------------------------------------- */

static void test_set_credential_binary_is_unknown_to_252_and_known_to_254(void **state)
{
	struct import_sources s = { .cmdline = "systemd.set_credential_binary=W:d29vZgo=" };
	struct import_env env = env_for(252);
	struct prediction p;

	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 1);
	assert_int_equal(p.cands[0].fate, FATE_DROPPED_UNSUPPORTED);
	assert_string_equal(p.cands[0].name, "W");
	assert_string_equal(p.cands[0].detail, "systemd.set_credential_binary= exists only from systemd 254, not 252");
	prediction_free(&p);

	env = env_for(254);
	predict(&s, &env, &p);
	assert_int_equal(p.cands[0].fate, FATE_IMPORTED);
	assert_true(p.cands[0].binary);
	assert_int_equal(p.cands[0].imported_len, 5);
	assert_memory_equal(p.cands[0].imported, "woof\n", 5);
	prediction_free(&p);
}

static void test_cmdline_quoting_dashes_and_rd_prefix_follow_proc_cmdline(void **state)
{
	struct import_sources s = {
		.cmdline = "BOOT_IMAGE=/vmlinuz systemd.set_credential=\"Q:a b\" "
			   "systemd.set-credential=D:x\\y 'systemd.set_credential=S:it''s' "
			   "systemd.set_credential=M:pre\"fix suf\"fix rd.systemd.set_credential=R:r "
			   "systemd.set_credential=NOCOLON systemd.set_credential=U:\"open ended\n"
			   "systemd.set_credential=AFTER:newline",
	};
	struct import_env env = env_for(257);
	struct prediction p;
	const struct cred_candidate *c;

	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 7);
	c = cand(&p, CRED_SOURCE_CMDLINE, "Q");
	assert_int_equal(c->fate, FATE_IMPORTED);
	assert_string_equal((const char *) c->imported, "a b");
	assert_string_equal(c->origin, "kernel command line word 2");
	assert_string_equal((const char *) cand(&p, CRED_SOURCE_CMDLINE, "D")->imported, "x\\y");
	assert_string_equal((const char *) cand(&p, CRED_SOURCE_CMDLINE, "S")->imported, "its");
	assert_string_equal((const char *) cand(&p, CRED_SOURCE_CMDLINE, "M")->imported, "prefix suffix");
	c = cand(&p, CRED_SOURCE_CMDLINE, "R");
	assert_int_equal(c->fate, FATE_DROPPED_UNSUPPORTED);
	assert_null(c->imported);
	assert_int_equal(p.cands[5].fate, FATE_DROPPED_NO_SEPARATOR);
	assert_null(p.cands[5].name);
	/* an unterminated quote runs to the end of the input (EXTRACT_RELAX): the newline and
	 * the next line are part of its value, not a word of their own */
	assert_string_equal((const char *) cand(&p, CRED_SOURCE_CMDLINE, "U")->imported,
			    "open ended\nsystemd.set_credential=AFTER:newline");
	assert_null(prediction_winner(&p, "AFTER"));
	prediction_free(&p);
}

/* proc_cmdline's words and lookups, directly: quotes group and vanish (also mid-word), a
 * NUL separates like a blank but a quoted NUL ends the word's string, an unterminated quote
 * runs to the end, the last KEY= wins and '-' equals '_'. A 1 MiB line of 512 Ki one-byte
 * words reads in linear time: each word's buffer is its own size, not the rest of the line's
 * (it was: 256 GiB allocated in all), and a lookup copies only the matching word's value. */
static void test_proc_cmdline_words_and_keys(void **state)
{
	static const char text[] = "a 'b c'd\"e f\"\tg\0h i'\0=j' k=1 \"k=2\"x l-m=\"v w\" \"open\nend";
	static const char *const want[] = { "a", "b cde f", "g", "h", "i", "k=1", "k=2x", "l-m=v w", "open\nend" };
	static const char quoted_nul[] = "x=\"1\0=2\" y";
	const char *p = text, *end = text + sizeof(text) - 1;
	char *w = NULL, *v = NULL;
	size_t n = 0, len = 1 << 20;

	while (proc_cmdline_next_word(&p, end, &w) == 1) {
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_string_equal(w, want[n++]);
		free(w);
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	assert_ptr_equal(p, end);
	assert_int_equal(proc_cmdline_get_key_in(text, end, "k", &v), 1);
	assert_string_equal(v, "2x");
	assert_int_equal(proc_cmdline_get_key_in(text, end, "l_m", &v), 1);
	assert_string_equal(v, "v w");
	assert_int_equal(proc_cmdline_get_key_in(text, end, "i", &v), 0);   /* i'\0=j' is "i": no '=' */
	assert_int_equal(proc_cmdline_get_key_in(quoted_nul, quoted_nul + sizeof(quoted_nul) - 1, "x", &v), 1);
	assert_string_equal(v, "1");
	assert_int_equal(proc_cmdline_get_key_whole("x=\"1\0=2\" y", "x", &v), 1);   /* the string is x="1 */
	assert_string_equal(v, "1");
	free(v);
	v = NULL;
	assert_int_equal(proc_cmdline_get_key("a=1\na=2", "a", &v), 1);
	assert_string_equal(v, "1");
	free(v);
	v = NULL;

	char *big = malloc(len + 1);
	assert_non_null(big);
	for (size_t i = 0; i < len; i += 4)
		memcpy(big + i, "x y ", 4);
	memcpy(big + len - 4, "k=v ", 4);
	big[len] = 0;
	p = big;
	for (n = 0; proc_cmdline_next_word(&p, big + len, &w) == 1; n++)
		free(w);
	assert_int_equal(n, len / 2 - 1);   /* "x", "y" per 4 bytes, "k=v" last */
	assert_int_equal(proc_cmdline_get_key_whole(big, "k", &v), 1);
	assert_string_equal(v, "v");
	free(v);
	free(big);
}

static void test_import_credentials_switch_is_read_like_proc_cmdline_get_key(void **state)
{
	assert_true(cmdline_import_credentials_disabled("quiet systemd.import_credentials=no", NULL));
	assert_true(cmdline_import_credentials_disabled("systemd.import-credentials=OFF", NULL));
	assert_true(cmdline_import_credentials_disabled("systemd.import_credentials=1 systemd.import_credentials=0", NULL));
	assert_false(cmdline_import_credentials_disabled("systemd.import_credentials=0 systemd.import_credentials=yes", NULL));
	assert_false(cmdline_import_credentials_disabled("rd.systemd.import_credentials=no", NULL));
	assert_false(cmdline_import_credentials_disabled("systemd.import_credentials=maybe", "systemd.import_credentials=no"));
	assert_false(cmdline_import_credentials_disabled("systemd.import_credentials", NULL));
	assert_true(cmdline_import_credentials_disabled("quiet", "systemd.import_credentials=false"));
	assert_true(cmdline_import_credentials_disabled(NULL, "systemd.import_credentials=n"));
	assert_false(cmdline_import_credentials_disabled(NULL, NULL));
}

/* ---- whole-import and per-source skips ------------------------------------------------- */

struct skip_fixture {
	struct entry e;
	struct raw_blob smb, fw, initrd;
	struct import_sources s;
};

static void skip_fixture_init(struct skip_fixture *f)
{
	entry_init(&f->e);
	entry_adds(&f->e, "io.systemd.credential:S=smbios");
	entry_finish(&f->e);
	f->smb = blob_from(&f->e, "11-0");
	f->fw = (struct raw_blob) { .name = "F", .data = (uint8_t *) "fw", .len = 2 };
	f->initrd = (struct raw_blob) { .name = "I", .data = (uint8_t *) "initrd", .len = 6 };
	f->s = (struct import_sources) { .smbios = &f->smb, .n_smbios = 1, .fw_cfg = &f->fw, .n_fw_cfg = 1,
					 .cmdline = "systemd.set_credential=C:c", .initrd = &f->initrd, .n_initrd = 1 };
}

/* The fates of F, S, C, I in that order. */
static void expect_fates(const struct prediction *p, enum cred_fate f, enum cred_fate s, enum cred_fate c,
			 enum cred_fate i)
{
	assert_int_equal(p->n_cands, 4);
	assert_int_equal(cand(p, CRED_SOURCE_FW_CFG, "F")->fate, f);
	assert_int_equal(cand(p, CRED_SOURCE_SMBIOS, "S")->fate, s);
	assert_int_equal(cand(p, CRED_SOURCE_CMDLINE, "C")->fate, c);
	assert_int_equal(cand(p, CRED_SOURCE_INITRD, "I")->fate, i);
}

static void test_preset_credentials_directory_skips_the_import(void **state)
{
	struct skip_fixture f;
	struct import_env env = env_for(254);
	struct prediction p;

	skip_fixture_init(&f);
	env.credentials_dir_preset = true;
	predict(&f.s, &env, &p);
	expect_fates(&p, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED);
	assert_string_equal(p.skip_reason, "$CREDENTIALS_DIRECTORY was already set for PID 1 (by a container manager), "
			    "so systemd 254 imported nothing itself");
	prediction_free(&p);

	env.credentials_dir_is_system = true;   /* v254+ still merges @initrd into @system */
	predict(&f.s, &env, &p);
	expect_fates(&p, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_IMPORTED);
	assert_string_equal(p.skip_reason, "$CREDENTIALS_DIRECTORY=/run/credentials/@system was already set for PID 1, "
			    "so an initrd's PID 1 did the import (credscope cannot replay it) and systemd 254 imported "
			    "nothing itself but merged /run/credentials/@initrd");
	prediction_free(&p);
	free(f.e.data);
}

/* The initrd's systemd imported (preset @system and --switched-root in PID 1's argv,
 * import_credentials_trusted() :615-636@252.39, :696-722@257.13 run in the initrd): the
 * replay is its import, and the host's PID 1 merges @initrd (254+) on a budget of its own. */
static void test_initrd_pid1_import_is_replayed_and_initrd_merged_after_switch_root(void **state)
{
	struct skip_fixture f;
	struct import_env env = env_for(252);
	struct prediction p;

	skip_fixture_init(&f);
	env.credentials_dir_preset = env.credentials_dir_is_system = env.pid1_switched_root = true;
	predict(&f.s, &env, &p);
	assert_null(p.skip_reason);
	expect_fates(&p, FATE_IMPORTED, FATE_IMPORTED, FATE_IMPORTED, FATE_DROPPED_UNSUPPORTED);
	prediction_free(&p);

	for (unsigned v = 254; v <= 257; v += 3) {
		env.systemd_version = v;
		predict(&f.s, &env, &p);
		assert_null(p.skip_reason);
		assert_null(p.source_skip_reason[CRED_SOURCE_INITRD]);
		expect_fates(&p, FATE_IMPORTED, FATE_IMPORTED, FATE_IMPORTED, FATE_IMPORTED);
		prediction_free(&p);
	}
	env.systemd_version = 257;
	predict(&f.s, &env, &p);
	assert_string_equal(cand(&p, CRED_SOURCE_SMBIOS, "S")->detail, "written as 6 bytes; imported by systemd 257 in the initrd (PID 1 "
			    "before switch-root); the store and $CREDENTIALS_DIRECTORY passed over switch-root, and PID 1 "
			    "after it did not import again");
	assert_string_equal(cand(&p, CRED_SOURCE_INITRD, "I")->detail, "written as 6 bytes; merged by systemd 257 after switch-root, which "
			    "found $CREDENTIALS_DIRECTORY set by the initrd's PID 1 and imported nothing else itself");
	prediction_free(&p);
	{
	}

	env.pid1_switched_root = false;   /* no --switched-root: whose import it was is unknown */
	predict(&f.s, &env, &p);
	expect_fates(&p, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_IMPORTED);
	assert_non_null(p.skip_reason);
	prediction_free(&p);
	free(f.e.data);
}

/* merge_credentials_trusted() starts from a fresh ImportCredentialContext (:745-776@254.26,
 * :724-755@257.13): after an initrd's import the 1 MiB the initrd's PID 1 spent does not
 * count against @initrd; in a one-PID-1 boot it does (import_credentials_trusted()). */
static void test_initrd_merge_after_switch_root_has_its_own_budget(void **state)
{
	uint8_t *big = calloc(1, 1048570);
	struct raw_blob fw = { .name = "BIG", .data = big, .len = 1048570 };
	struct raw_blob ini = { .name = "I", .data = (uint8_t *) "0123456789", .len = 10 };
	struct import_sources s = { .fw_cfg = &fw, .n_fw_cfg = 1, .initrd = &ini, .n_initrd = 1 };
	struct import_env env = env_for(257);
	struct prediction p;

	predict(&s, &env, &p);
	assert_int_equal(cand(&p, CRED_SOURCE_INITRD, "I")->fate, FATE_DROPPED_BUDGET);
	prediction_free(&p);

	env.credentials_dir_preset = env.credentials_dir_is_system = env.pid1_switched_root = true;
	predict(&s, &env, &p);
	assert_int_equal(cand(&p, CRED_SOURCE_FW_CFG, "BIG")->fate, FATE_IMPORTED);
	assert_int_equal(cand(&p, CRED_SOURCE_INITRD, "I")->fate, FATE_IMPORTED);
	assert_int_equal(p.budget_used, 10);
	prediction_free(&p);
	free(big);
}

static void test_import_credentials_no_skips_every_source(void **state)
{
	struct skip_fixture f;
	struct import_env env = env_for(257);
	struct prediction p;

	skip_fixture_init(&f);
	env.import_disabled = true;
	predict(&f.s, &env, &p);
	expect_fates(&p, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED);
	assert_string_equal(p.skip_reason, "systemd.import_credentials=no is set, so systemd 257 imported nothing");
	assert_string_equal(cand(&p, CRED_SOURCE_SMBIOS, "S")->detail, p.skip_reason);
	prediction_free(&p);
	free(f.e.data);
}

static void test_container_skips_fw_cfg_and_smbios_only(void **state)
{
	struct skip_fixture f;
	struct import_env env = env_for(252);
	struct prediction p;

	skip_fixture_init(&f);
	env.in_container = true;
	predict(&f.s, &env, &p);
	expect_fates(&p, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_IMPORTED, FATE_DROPPED_UNSUPPORTED);
	assert_null(p.skip_reason);
	assert_string_equal(p.source_skip_reason[CRED_SOURCE_SMBIOS], "systemd skips SMBIOS in a container (from "
			    "252.5 on; the 252 tag itself did not: credscope models 252.5+)");
	prediction_free(&p);
	free(f.e.data);
}

static void test_confidential_vm_skips_firmware_sources_from_254(void **state)
{
	struct skip_fixture f;
	struct import_env env = env_for(252);
	struct prediction p;

	skip_fixture_init(&f);
	env.confidential_vm = true;
	predict(&f.s, &env, &p);
	expect_fates(&p, FATE_IMPORTED, FATE_IMPORTED, FATE_IMPORTED, FATE_DROPPED_UNSUPPORTED);
	assert_string_equal(cand(&p, CRED_SOURCE_INITRD, "I")->detail,
			    "systemd 252 does not import /run/credentials/@initrd (from 254 on)");
	prediction_free(&p);

	env.systemd_version = 254;
	predict(&f.s, &env, &p);
	expect_fates(&p, FATE_SOURCE_SKIPPED, FATE_SOURCE_SKIPPED, FATE_IMPORTED, FATE_IMPORTED);
	assert_string_equal(cand(&p, CRED_SOURCE_FW_CFG, "F")->detail,
			    "systemd 254 does not trust fw_cfg in a confidential VM (confidential)");
	prediction_free(&p);
	free(f.e.data);
}

static void test_missing_dmi_sysfs_is_the_smbios_skip_reason(void **state)
{
	struct import_sources s = { .cmdline = "quiet" };
	struct import_env env = env_for(257);
	struct prediction p;

	env.dmi_sysfs_present = false;
	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 0);
	assert_null(p.skip_reason);
	assert_string_equal(p.source_skip_reason[CRED_SOURCE_SMBIOS],
			    "/sys/firmware/dmi/entries does not exist: the kernel lacks dmi-sysfs");
	assert_null(p.source_skip_reason[CRED_SOURCE_CMDLINE]);
	prediction_free(&p);
}

/* ---- malformed entries ------------------------------------------------------------------ */

static void test_bad_header_aborts_smbios_on_252_and_stops_the_scan_on_257(void **state)
{
	struct entry good, bad;
	struct raw_blob b[2];
	struct import_sources s = { .smbios = b, .n_smbios = 2 };
	struct import_env env = env_for(252);
	struct prediction p;

	entry_init(&bad);
	bad.data[1] = 4;   /* header length 4, not 5 */
	entry_adds(&bad, "io.systemd.credential:A=a");
	entry_finish(&bad);
	entry_init(&good);
	entry_adds(&good, "io.systemd.credential:B=b");
	entry_finish(&good);
	b[0] = blob_from(&bad, "11-0");
	b[1] = blob_from(&good, "11-1");
	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 2);
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "A")->fate, FATE_DROPPED_SOURCE_ERROR);
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "B")->fate, FATE_DROPPED_SOURCE_ERROR);
	assert_string_equal(cand(&p, CRED_SOURCE_SMBIOS, "B")->detail, "11-0 has header length 4, not 5, so systemd 252 "
			    "aborted the SMBIOS source (Invalid DMI field header)");
	prediction_free(&p);

	env.systemd_version = 257;
	b[0].len = 3;   /* shorter than the header */
	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 2);
	assert_string_equal(p.cands[0].origin, "SMBIOS 11-0");
	assert_string_equal(p.cands[0].detail, "11-0 is 3 bytes, shorter than the 5-byte header, so systemd 257 warned "
			    "and stopped the SMBIOS scan");
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "B")->fate, FATE_DROPPED_SOURCE_ERROR);
	prediction_free(&p);
	free(good.data);
	free(bad.data);
}

static void test_count_byte_is_ignored_and_unterminated_last_string_is_parsed(void **state)
{
	static const uint8_t raw[] = "\x0b\x05\x00\x0e\x00" "io.systemd.credential:X=1\0io.systemd.credential:Y=22";
	struct raw_blob b = { .name = "11-0", .data = (uint8_t *) raw, .len = sizeof(raw) - 1 };
	struct import_sources s = { .smbios = &b, .n_smbios = 1 };
	struct import_env env = env_for(252);
	struct prediction p;

	predict(&s, &env, &p);
	assert_int_equal(p.n_cands, 2);
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "X")->fate, FATE_IMPORTED);
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "Y")->imported_len, 2);
	prediction_free(&p);
}

static void test_names_of_sources_and_fates_are_stable_tokens(void **state)
{
	assert_string_equal(cred_source_name(CRED_SOURCE_FW_CFG), "fw_cfg");
	assert_string_equal(cred_source_name(CRED_SOURCE_SMBIOS), "smbios");
	assert_string_equal(cred_source_name(CRED_SOURCE_CMDLINE), "cmdline");
	assert_string_equal(cred_source_name(CRED_SOURCE_INITRD), "initrd");
	assert_string_equal(cred_fate_name(FATE_IMPORTED), "imported");
	assert_string_equal(cred_fate_name(FATE_IMPORTED_TRUNCATED), "imported-truncated");
	assert_string_equal(cred_fate_name(FATE_NOT_A_CREDENTIAL), "not-a-credential");
	assert_string_equal(cred_fate_name(FATE_DROPPED_NO_SEPARATOR), "no-separator");
	assert_string_equal(cred_fate_name(FATE_DROPPED_INVALID_NAME), "invalid-name");
	assert_string_equal(cred_fate_name(FATE_DROPPED_BAD_BASE64), "bad-base64");
	assert_string_equal(cred_fate_name(FATE_DROPPED_TOO_LARGE), "too-large");
	assert_string_equal(cred_fate_name(FATE_DROPPED_BUDGET), "budget");
	assert_string_equal(cred_fate_name(FATE_DROPPED_DUPLICATE), "duplicate");
	assert_string_equal(cred_fate_name(FATE_DROPPED_PAST_PAGE), "past-page");
	assert_string_equal(cred_fate_name(FATE_DROPPED_UNSUPPORTED), "unsupported");
	assert_string_equal(cred_fate_name(FATE_DROPPED_SOURCE_ERROR), "source-error");
	assert_string_equal(cred_fate_name(FATE_SOURCE_SKIPPED), "skipped");
}

/* The table's rows are ascending, and a version between rows gets the older row's rules. */
static void test_each_version_is_judged_by_the_newest_row_not_after_it(void **state)
{
	size_t n;
	const struct systemd_release *rows = systemd_releases(&n);

	assert_int_equal(n, 9);
	for (size_t i = 1; i < n; i++)
		assert_true(rows[i - 1].version < rows[i].version);
	assert_int_equal(systemd_release(0)->version, 262);
	assert_int_equal(systemd_release_effective(0), 262);
	assert_int_equal(systemd_release_effective(254), 254);
	assert_int_equal(systemd_release(230)->version, 200);
	assert_int_equal(systemd_release(251)->version, 251);
	assert_int_equal(systemd_release(252)->version, 252);
	assert_int_equal(systemd_release(253)->version, 253);
	assert_int_equal(systemd_release(256)->version, 255);
	assert_int_equal(systemd_release(260)->version, 258);
	assert_int_equal(systemd_release(9999)->version, 262);
	assert_false(systemd_release(250)->has_import);
	assert_false(systemd_release(251)->has_smbios);
	assert_true(systemd_release(251)->cmdline_first_line_only);
	assert_false(systemd_release(252)->cmdline_first_line_only);
	assert_true(systemd_release(257)->efi_systemd_options);
	assert_false(systemd_release(258)->efi_systemd_options);
	assert_false(systemd_release(253)->store_tmpfs_limits);
	assert_true(systemd_release(254)->store_tmpfs_limits);
	assert_false(systemd_release(261)->cvm_tdx_trusts_smbios);
	assert_true(systemd_release(262)->cvm_tdx_trusts_smbios);
	assert_true(systemd_release(262)->initrd_extra_system_credentials);
	assert_true(systemd_release(262)->cvm_msr_fail_closed);
	assert_int_equal(systemd_release(262)->smbios_read_max, 5 + 1024 * 1024);
	assert_int_equal(systemd_release(257)->smbios_read_max, 8 + 1024 * 1024);
	assert_true(systemd_release(256)->smbios_first_page_only);
	assert_false(systemd_release(257)->smbios_first_page_only);
	assert_false(systemd_release(254)->base64_url_safe);
	assert_true(systemd_release(255)->base64_url_safe);
	assert_false(systemd_release(252)->cmdline_binary);
	assert_true(systemd_release(254)->imports_initrd);
	assert_false(systemd_release(256)->tmpfs_noswap_secure);
	assert_true(systemd_release(257)->tmpfs_noswap_secure);
}

/* "model for 262 applied to 263: unverified": a version above the newest row, or under a
 * row resting on NEWS only, is judged by that row and flagged. */
static void test_versions_past_the_checked_rows_are_judged_but_flagged_unverified(void **state)
{
	struct systemd_model m = systemd_model(263);
	struct prediction p = { .env = env_for(263) };
	char buf[200];

	assert_int_equal(m.row, 262);
	assert_int_equal(m.applied_to, 263);
	assert_false(m.verified);
	assert_true(systemd_model(262).verified);
	assert_true(systemd_model(256).verified);   /* row 255, checked in the v256 source */
	assert_true(systemd_model(252).verified);
	assert_false(systemd_model(259).verified);  /* row 258: NEWS only */
	assert_string_equal(explain_model_note(&p, buf, sizeof buf),
			    "model for 262 applied to 263: unverified (credscope's rules for 262 were not checked "
			    "against systemd 263's source)");
	p.env.systemd_version = 257;
	assert_null(explain_model_note(&p, buf, sizeof buf));
}

static void test_251_imports_fw_cfg_and_cmdline_but_no_smbios_and_200_imports_nothing(void **state)
{
	struct raw_blob fw = { .name = "FW", .data = (uint8_t *) "f", .len = 1 };
	struct raw_blob e = { .name = "11-0", .data = (uint8_t *) "\x0b\x05\x00\x0e\x01io.systemd.credential:S=s\0\0", .len = 32 };
	struct import_sources s = { .fw_cfg = &fw, .n_fw_cfg = 1, .smbios = &e, .n_smbios = 1,
				    .cmdline = "systemd.set_credential=C:c\nsystemd.set_credential=L:l" };
	struct import_env env = env_for(251);
	struct prediction p;

	predict(&s, &env, &p);
	assert_non_null(prediction_winner(&p, "FW"));
	assert_non_null(prediction_winner(&p, "C"));
	assert_null(prediction_winner(&p, "L"));   /* 251 reads one line of /proc/cmdline */
	assert_null(prediction_winner(&p, "S"));
	assert_string_equal(p.source_skip_reason[CRED_SOURCE_SMBIOS], "systemd 251 does not import SMBIOS "
			    "credentials: import_credentials_smbios() is new in 252");
	assert_int_equal(cand(&p, CRED_SOURCE_SMBIOS, "S")->fate, FATE_SOURCE_SKIPPED);
	prediction_free(&p);

	env = env_for(250);
	predict(&s, &env, &p);
	assert_null(prediction_winner(&p, "FW"));
	assert_null(prediction_winner(&p, "C"));
	assert_string_equal(p.skip_reason, "systemd 250 has no credential import: PID 1 imports credentials "
			    "from 251 on (src/core/import-creds.c is new in v251)");
	prediction_free(&p);
}

static void test_systemd_options_is_ignored_from_258_and_tdx_keeps_smbios_from_262(void **state)
{
	struct raw_blob e = { .name = "11-0", .data = (uint8_t *) "\x0b\x05\x00\x0e\x01io.systemd.credential:S=s\0\0", .len = 32 };
	struct import_sources s = { .smbios = &e, .n_smbios = 1, .efi_options = "systemd.set_credential=E:e" };
	struct import_env env = env_for(258);
	struct prediction p;

	predict(&s, &env, &p);
	assert_null(prediction_winner(&p, "E"));
	assert_int_equal(cand(&p, CRED_SOURCE_CMDLINE, "E")->fate, FATE_SOURCE_SKIPPED);
	prediction_free(&p);
	env = env_for(257);
	predict(&s, &env, &p);
	assert_non_null(prediction_winner(&p, "E"));
	prediction_free(&p);

	env = env_for(257);
	env.confidential_vm = env.cvm_tdx = true;
	predict(&s, &env, &p);
	assert_null(prediction_winner(&p, "S"));
	prediction_free(&p);
	env.systemd_version = 262;
	predict(&s, &env, &p);
	assert_non_null(prediction_winner(&p, "S"));
	assert_null(p.source_skip_reason[CRED_SOURCE_SMBIOS]);
	assert_non_null(p.source_skip_reason[CRED_SOURCE_FW_CFG]);
	prediction_free(&p);
}

/* detect_confidential_virtualization(): CPUID decides, gated on the hypervisor bit. */
static void test_cvm_is_decided_by_cpuid_and_the_sev_msr_per_version(void **state)
{
	struct cpuid_view v = { .available = true, .vendor = "AuthenticAMD", .max_extended = 0x80000021u,
				.sev_eax = 0x2, .msr = 0x7 };
	struct cvm_result r;

	/* a SEV-capable bare-metal host: no hypervisor bit, no CVM */
	cvm_decide(&v, systemd_release(257), &r);
	assert_string_equal(r.kind, "none");
	v.hypervisor = true;
	cvm_decide(&v, systemd_release(257), &r);
	assert_string_equal(r.kind, "sev-snp");
	v.msr = 0x3;
	cvm_decide(&v, systemd_release(257), &r);
	assert_string_equal(r.kind, "sev-es");
	v.msr = 0x1;
	cvm_decide(&v, systemd_release(257), &r);
	assert_string_equal(r.kind, "sev");
	/* the MSR unreadable: 254-257 fail open, 262 fails closed, and the note says so */
	v.msr_error = -ENOENT;
	cvm_decide(&v, systemd_release(257), &r);
	assert_string_equal(r.kind, "none");
	assert_string_equal(r.note, "the CPU reports SEV but /dev/cpu/0/msr cannot be read now, so systemd finds no "
			    "confidential VM (fail open): a real SEV guest then imports fw_cfg and SMBIOS");
	cvm_decide(&v, systemd_release(262), &r);
	assert_string_equal(r.kind, "sev");
	/* no SEV bit: Hyper-V isolation SNP */
	v.sev_eax = 0;
	v.hyperv_snp = true;
	cvm_decide(&v, systemd_release(257), &r);
	assert_string_equal(r.kind, "sev-snp");

	struct cpuid_view t = { .available = true, .hypervisor = true, .vendor = "GenuineIntel", .tdx_sig = "IntelTDX    " };
	cvm_decide(&t, systemd_release(262), &r);
	assert_string_equal(r.kind, "tdx");
	memcpy(t.tdx_sig, "GenuineIntel", 13);
	cvm_decide(&t, systemd_release(262), &r);
	assert_string_equal(r.kind, "none");
	struct cpuid_view none = { 0 };
	cvm_decide(&none, systemd_release(262), &r);
	assert_string_equal(r.kind, "none");
	assert_true(strstr(r.note, "cannot be read here") != NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_version_is_judged_by_the_newest_row_not_after_it),
		cmocka_unit_test(test_cvm_is_decided_by_cpuid_and_the_sev_msr_per_version),
		cmocka_unit_test(test_versions_past_the_checked_rows_are_judged_but_flagged_unverified),
		cmocka_unit_test(test_251_imports_fw_cfg_and_cmdline_but_no_smbios_and_200_imports_nothing),
		cmocka_unit_test(test_systemd_options_is_ignored_from_258_and_tdx_keeps_smbios_from_262),
		cmocka_unit_test(test_v252_cuts_the_entry_after_one_page),
		cmocka_unit_test(test_v257_reads_the_whole_entry),
		cmocka_unit_test(test_imported_bytes_share_the_value_buffer_only_when_equal),
		cmocka_unit_test(test_v257_reads_at_most_8_bytes_plus_1_mib_of_an_entry),
		cmocka_unit_test(test_v252_base64_cut_mid_quad_is_broken_pipe),
		cmocka_unit_test(test_v252_base64_cut_on_a_quad_boundary_is_silently_truncated),
		cmocka_unit_test(test_v254_cut_before_the_equals_sign_drops_the_string),
		cmocka_unit_test(test_first_source_wins_fw_cfg_then_smbios_then_cmdline),
		cmocka_unit_test(test_efi_options_come_before_the_kernel_command_line),
		cmocka_unit_test(test_each_class_of_invalid_name_is_rejected),
		cmocka_unit_test(test_invalid_smbios_name_is_dropped_and_named),
		cmocka_unit_test(test_fw_cfg_and_initrd_names_are_checked_and_cmdline_splits_at_the_first_colon),
		cmocka_unit_test(test_text_value_is_byte_exact_and_may_contain_equals),
		cmocka_unit_test(test_base64_rules_match_unbase64mem),
		cmocka_unit_test(test_base64_nul_byte_counts_as_whitespace),
		cmocka_unit_test(test_bad_base64_detail_names_the_rule),
		cmocka_unit_test(test_twenty_thousand_strings_with_repeated_names_keep_the_first_of_each),
		cmocka_unit_test(test_exactly_one_mib_is_imported_and_one_byte_more_is_not),
		cmocka_unit_test(test_decoded_size_counts_for_binary_credentials),
		cmocka_unit_test(test_budget_exhausted_by_an_earlier_source_drops_later_ones),
		cmocka_unit_test(test_size_check_runs_before_the_duplicate_check),
		cmocka_unit_test(test_set_credential_binary_is_unknown_to_252_and_known_to_254),
		cmocka_unit_test(test_cmdline_quoting_dashes_and_rd_prefix_follow_proc_cmdline),
		cmocka_unit_test(test_import_credentials_switch_is_read_like_proc_cmdline_get_key),
		cmocka_unit_test(test_proc_cmdline_words_and_keys),
		cmocka_unit_test(test_preset_credentials_directory_skips_the_import),
		cmocka_unit_test(test_initrd_pid1_import_is_replayed_and_initrd_merged_after_switch_root),
		cmocka_unit_test(test_initrd_merge_after_switch_root_has_its_own_budget),
		cmocka_unit_test(test_import_credentials_no_skips_every_source),
		cmocka_unit_test(test_container_skips_fw_cfg_and_smbios_only),
		cmocka_unit_test(test_confidential_vm_skips_firmware_sources_from_254),
		cmocka_unit_test(test_missing_dmi_sysfs_is_the_smbios_skip_reason),
		cmocka_unit_test(test_bad_header_aborts_smbios_on_252_and_stops_the_scan_on_257),
		cmocka_unit_test(test_count_byte_is_ignored_and_unterminated_last_string_is_parsed),
		cmocka_unit_test(test_names_of_sources_and_fates_are_stable_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
