/* report + transport: the report never carries a value, its HMACs are right, and it travels
 * framed to a fake host that acks, over a socketpair. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "digest.h"
#include "frame.h"
#include "report.h"
#include "runner/report_check.h"
#include "transport.h"

#define CANARY "CANARY-7f3e91-do-not-leak"

static uint8_t key[16] = "0123456789abcdef";

struct fixture {
	struct prediction p;
	struct cred_candidate cand;
	struct credstore s;
	struct store_file file;
	struct manifest m;
	struct manifest_entry entry;
	struct verify_result r;
};

static void setup_fixture(struct fixture *f)
{
	memset(f, 0, sizeof *f);
	f->p.env.systemd_version = 257;
	f->p.env.version_detected = true;
	f->p.env.page_size = 4096;
	f->p.cands = &f->cand;
	f->p.n_cands = 1;
	f->cand.source = CRED_SOURCE_SMBIOS;
	f->cand.name = (char *)"TOKEN";
	f->cand.origin = (char *)"SMBIOS 11-0 string 1 at byte 5";
	f->cand.raw_len = 22 + 6 + strlen(CANARY);
	f->cand.value = (uint8_t *)CANARY;
	f->cand.value_len = strlen(CANARY);
	f->cand.imported = f->cand.value;
	f->cand.imported_len = f->cand.value_len;
	f->cand.fate = FATE_IMPORTED;
	f->cand.detail = (char *)"written as 25 bytes";
	f->s.exists = true;
	f->s.fs_known = true;
	f->s.fs_type = (char *)"ramfs";
	f->s.read_only = true;
	f->s.security = STORE_SECURITY_SECURE;
	f->s.files = &f->file;
	f->s.n_files = 1;
	f->file.name = (char *)"TOKEN";
	f->file.data = (uint8_t *)CANARY;
	f->file.size = strlen(CANARY);
	f->file.mode = 0100400;
	f->m.key = key;
	f->m.key_len = sizeof key;
	f->m.entries = &f->entry;
	f->m.n_entries = 1;
	f->entry.name = (char *)"TOKEN";
	f->entry.digest = DIGEST_HMAC_SHA256;
	assert_int_equal(digest_hmac_sha256_hex(key, sizeof key, CANARY, strlen(CANARY), f->entry.hex), 0);
	assert_int_equal(verify_run(&f->m, &f->s, &f->p, &f->r), 0);
}

static char *dump(struct fixture *f)
{
	struct report_input in = {
		.pred = &f->p, .store = &f->s, .manifest = &f->m, .manifest_source = "label:credscope",
		.manifest_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", .result = &f->r, .verdict = f->r.verdict, .kernel = "6.1.0-test",
	};
	char *s = report_dump(&in);
	assert_non_null(s);
	return s;
}

static void test_report_carries_no_value_bytes_but_the_right_hmac(void **state)
{
	struct fixture f;
	char hmac[DIGEST_HEX_LEN + 1];
	setup_fixture(&f);
	char *s = dump(&f);
	assert_null(strstr(s, CANARY));
	assert_null(strstr(s, "CANARY"));
	json_error_t err;
	json_t *o = json_loads(s, 0, &err);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "credscope-report")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "verdict")), "pass");
	json_t *c = json_array_get(json_object_get(o, "credentials"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "TOKEN");
	assert_int_equal(json_integer_value(json_object_get(c, "size")), strlen(CANARY));
	assert_string_equal(json_string_value(json_object_get(c, "mode")), "0400");
	assert_string_equal(json_string_value(json_object_get(c, "source")), "smbios");
	assert_int_equal(digest_hmac_sha256_hex(key, sizeof key, CANARY, strlen(CANARY), hmac), 0);
	assert_string_equal(json_string_value(json_object_get(c, "hmac-sha256")), hmac);
	json_t *src = json_array_get(json_object_get(o, "sources"), 0);
	assert_string_equal(json_string_value(json_object_get(src, "fate")), "imported");
	assert_int_equal(json_integer_value(json_object_get(src, "length")), 22 + 6 + strlen(CANARY));
	assert_true(json_is_true(json_object_get(json_object_get(o, "store"), "secure")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "manifest"), "source")),
			    "label:credscope");
	json_decref(o);
	free(s);
	verify_result_free(&f.r);
}

static void test_report_without_key_has_no_hmac(void **state)
{
	struct fixture f;
	setup_fixture(&f);
	f.m.key = NULL;
	char *s = dump(&f);
	assert_null(strstr(s, "hmac-sha256"));
	assert_null(strstr(s, CANARY));
	free(s);
	verify_result_free(&f.r);
}

static void test_failed_report_findings_carry_no_value_bytes(void **state)
{
	struct fixture f;
	setup_fixture(&f);
	verify_result_free(&f.r);
	f.file.data = (uint8_t *)"CANARY-7f3e91-do-not-leaK";   /* one byte differs */
	assert_int_equal(verify_run(&f.m, &f.s, &f.p, &f.r), 0);
	assert_int_equal(f.r.verdict, VERDICT_FAIL);
	char *s = dump(&f);
	assert_null(strstr(s, "CANARY"));
	assert_non_null(strstr(s, "\"verdict\":\"fail\""));
	assert_non_null(strstr(s, "\"rule\":\"store-modified\""));
	free(s);
	verify_result_free(&f.r);
}

/* Fake host: reads one frame, checks it is a report, answers with ack. */
static void fake_host(int fd, const char *ack)
{
	uint8_t *buf;
	size_t len;
	int ok = frame_read(fd, FRAME_MAX, 5000, &buf, &len) == 0 && strstr((char *)buf, "\"credscope-report\"");
	if (ok)
		free(buf);
	_exit(frame_write(fd, ack, strlen(ack)) == 0 && ok ? 0 : 1);
}

static int exchange_with(const char *ack_text, struct ack *ack, const char *report)
{
	int sv[2], status;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		fake_host(sv[1], ack_text);
	}
	close(sv[1]);
	int r = transport_exchange(sv[0], report, strlen(report), 5000, ack);
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return r;
}

static void test_report_is_framed_and_ok_ack_is_read(void **state)
{
	struct ack ack;
	struct fixture f;
	setup_fixture(&f);
	char *s = dump(&f);
	assert_int_equal(exchange_with("{\"credscope-ack\": 1, \"status\": \"ok\"}", &ack, s), 0);
	assert_true(ack.ok);
	assert_string_equal(ack.status, "ok");
	assert_null(ack.message);
	ack_free(&ack);
	free(s);
	verify_result_free(&f.r);
}

static void test_rejected_ack_keeps_its_message(void **state)
{
	struct ack ack;
	assert_int_equal(exchange_with("{\"credscope-ack\": 1, \"status\": \"rejected\", \"message\": \"bad hmac\"}",
				       &ack, "{\"credscope-report\": 1}"), 0);
	assert_false(ack.ok);
	assert_string_equal(ack.status, "rejected");
	assert_string_equal(ack.message, "bad hmac");
	ack_free(&ack);
}

static void test_malformed_ack_is_ebadmsg(void **state)
{
	struct ack ack;
	assert_int_equal(exchange_with("{\"credscope-ack\": 2, \"status\": \"ok\"}", &ack, "{\"credscope-report\": 1}"),
			 -EBADMSG);
	assert_int_equal(ack_parse("{\"credscope-ack\": 1, \"status\": \"ok\", \"x\": 1}", 38, &ack), -EBADMSG);
	assert_int_equal(ack_parse("not json", 8, &ack), -EBADMSG);
	assert_int_equal(ack_parse("{\"credscope-ack\": 1}", 20, &ack), -EBADMSG);
}

static void test_destinations_parse_strictly(void **state)
{
	struct report_dest d;
	char *error = NULL;
	assert_int_equal(report_dest_parse("vsock:2:5123", &d, &error), 0);
	assert_int_equal(d.kind, DEST_VSOCK);
	assert_int_equal(d.cid, 2);
	assert_int_equal(d.port, 5123);
	assert_int_equal(report_dest_parse("serial:org.credscope.report", &d, &error), 0);
	assert_int_equal(d.kind, DEST_SERIAL);
	assert_string_equal(d.name, "org.credscope.report");
	assert_int_equal(report_dest_parse("vsock:2", &d, &error), -EINVAL);
	assert_string_equal(error, "--to vsock:2: CID must be a decimal number (use vsock:CID:PORT or serial:NAME)");
	free(error);
	assert_int_equal(report_dest_parse("vsock:2:99999999999", &d, &error), -EINVAL);
	free(error);
	assert_int_equal(report_dest_parse("serial:../x", &d, &error), -EINVAL);
	free(error);
	assert_int_equal(report_dest_parse("tcp:1.2.3.4:5", &d, &error), -EINVAL);
	free(error);
}

static void test_serial_connect_waits_for_the_port_until_the_deadline(void **state)
{
	struct report_dest d;
	char *error = NULL;
	assert_int_equal(report_dest_parse("serial:nope", &d, &error), 0);
	assert_int_equal(transport_connect("/nonexistent-credscope-root", &d, 300), -ENOENT);
}

static void test_host_parser_accepts_the_agents_report(void **state)
{
	struct fixture f;
	struct report host;
	char *error = NULL;
	setup_fixture(&f);
	char *s = dump(&f);
	assert_int_equal(report_parse(s, strlen(s), &host, &error), 0);
	assert_null(error);
	assert_string_equal(host.verdict, "pass");
	assert_int_equal(host.n_creds, 1);
	assert_true(host.creds[0].has_hmac);
	assert_int_equal(host.systemd_version, 257);
	report_free(&host);
	free(s);
	verify_result_free(&f.r);
}

/* A version past the newest modelled row travels as "model": {262, 263, false}, and the
 * host's strict parser accepts it. */
static void test_report_says_which_model_judged_a_newer_version(void **state)
{
	struct fixture f;
	struct report host;
	char *error = NULL;
	setup_fixture(&f);
	f.p.env.systemd_version = 263;
	char *s = dump(&f);
	assert_non_null(strstr(s, "\"model\":{\"version\":262,\"applied_to\":263,\"verified\":false}"));
	assert_int_equal(report_parse(s, strlen(s), &host, &error), 0);
	assert_null(error);
	report_free(&host);
	free(s);
	verify_result_free(&f.r);

	struct report_input in = { .pred = &f.p, .store = &f.s };
	json_t *list = report_build_list(&in);
	json_t *m = json_object_get(list, "model");
	assert_int_equal(json_integer_value(json_object_get(m, "version")), 262);
	assert_int_equal(json_integer_value(json_object_get(m, "applied_to")), 263);
	assert_true(json_is_false(json_object_get(m, "verified")));
	json_decref(list);
}

/* The entry point the guest kernel found travels as "smbios" when the command read it, and
 * the host's strict parser takes it; without it (NULL) the report has no "smbios". */
static void test_report_names_the_smbios_entry_point_it_read(void **state)
{
	struct fixture f;
	struct report host;
	char *error = NULL;
	setup_fixture(&f);
	char *s = dump(&f);
	assert_null(strstr(s, "\"smbios\":{"));
	free(s);
	struct report_input in = {
		.pred = &f.p, .store = &f.s, .manifest = &f.m, .manifest_source = "label:credscope", .result = &f.r,
		.verdict = f.r.verdict, .kernel = "6.1.0-test", .smbios_anchor = "_SM3_", .smbios_version = "3.0.0",
	};
	s = report_dump(&in);
	assert_non_null(strstr(s, "\"smbios\":{\"entry_point\":\"_SM3_\",\"version\":\"3.0.0\"}"));
	assert_int_equal(report_parse(s, strlen(s), &host, &error), 0);
	assert_null(error);
	assert_string_equal(host.smbios_entry_point, "_SM3_");
	assert_string_equal(host.smbios_version, "3.0.0");
	report_free(&host);
	free(s);
	verify_result_free(&f.r);
}

static void test_host_parser_accepts_an_error_report_without_manifest(void **state)
{
	struct fixture f;
	struct report host;
	char *error = NULL;
	setup_fixture(&f);
	struct report_input in = {
		.pred = NULL, .store = &f.s, .manifest = NULL, .manifest_source = "label:credscope",
		.result = NULL, .verdict = VERDICT_ERROR, .kernel = "6.1.0-test",
		.error = "no block device has a filesystem labelled \"credscope\"",
	};
	f.s.files[0].data = NULL;  /* not needed without a key */
	char *s = report_dump(&in);
	assert_non_null(s);
	assert_int_equal(report_parse(s, strlen(s), &host, &error), 0);
	assert_string_equal(host.verdict, "error");
	assert_int_equal(host.n_findings, 1);
	assert_string_equal(host.findings[0].kind, "environment");
	assert_string_equal(host.findings[0].rule, "error");
	assert_string_equal(host.manifest_sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	report_free(&host);
	free(s);
	verify_result_free(&f.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_carries_no_value_bytes_but_the_right_hmac),
		cmocka_unit_test(test_report_without_key_has_no_hmac),
		cmocka_unit_test(test_failed_report_findings_carry_no_value_bytes),
		cmocka_unit_test(test_host_parser_accepts_the_agents_report),
		cmocka_unit_test(test_report_says_which_model_judged_a_newer_version),
		cmocka_unit_test(test_report_names_the_smbios_entry_point_it_read),
		cmocka_unit_test(test_host_parser_accepts_an_error_report_without_manifest),
		cmocka_unit_test(test_report_is_framed_and_ok_ack_is_read),
		cmocka_unit_test(test_rejected_ack_keeps_its_message),
		cmocka_unit_test(test_malformed_ack_is_ebadmsg),
		cmocka_unit_test(test_destinations_parse_strictly),
		cmocka_unit_test(test_serial_connect_waits_for_the_port_until_the_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
