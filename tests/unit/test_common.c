/* Unit tests for common/: manifest parsing and writing, report framing, digests, escaping,
 * strict JSON loading. */
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
#include "jsonutil.h"
#include "manifest.h"
#include "runner/report_check.h"
#include "strutil.h"

#define SHA_FOO "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9" /* sha256("bar") */

static char *parse_error(const char *json)
{
	struct manifest m;
	char *err = NULL;
	int r = manifest_parse(json, strlen(json), &m, &err);
	assert_int_equal(r, -EINVAL);
	assert_non_null(err);
	return err;
}

static void test_manifest_with_all_expectation_kinds_parses(void **state)
{
	const char *json = "{\"credscope\":1,\"key\":\"00112233445566778899aabbccddeeff\",\"strict\":true,"
			   "\"credentials\":{\"FOO\":{\"sha256\":\"" SHA_FOO "\"},"
			   "\"TOKEN\":{\"hmac-sha256\":\"" SHA_FOO "\"},"
			   "\"bad/name\":{\"absent\":true},\"ANY\":{\"present\":true},"
			   "\"CUT\":{\"sha256\":\"" SHA_FOO "\",\"different\":true}}}";
	struct manifest m;
	char *err = NULL;
	assert_int_equal(manifest_parse(json, strlen(json), &m, &err), 0);
	assert_null(err);
	assert_true(m.strict);
	assert_int_equal(m.key_len, 16);
	assert_int_equal(m.n_entries, 5);
	assert_string_equal(m.entries[0].name, "ANY"); /* sorted */
	const struct manifest_entry *e = manifest_find(&m, "FOO");
	assert_non_null(e);
	assert_int_equal(e->expect, EXPECT_MATCH);
	assert_int_equal(e->digest, DIGEST_SHA256);
	assert_string_equal(e->hex, SHA_FOO);
	assert_int_equal(manifest_find(&m, "TOKEN")->digest, DIGEST_HMAC_SHA256);
	assert_int_equal(manifest_find(&m, "bad/name")->expect, EXPECT_ABSENT);
	assert_int_equal(manifest_find(&m, "ANY")->expect, EXPECT_PRESENT);
	assert_int_equal(manifest_find(&m, "CUT")->expect, EXPECT_DIFFERENT);
	assert_null(manifest_find(&m, "NOPE"));
	manifest_free(&m);
}

static void test_manifest_errors_name_the_field(void **state)
{
	struct { const char *json, *needle; } cases[] = {
		{ "[]", "top level must be a JSON object" },
		{ "{\"credentials\":{}}", "credscope: missing" },
		{ "{\"credscope\":2,\"credentials\":{}}", "credscope: unsupported" },
		{ "{\"credscope\":1}", "credentials: missing" },
		{ "{\"credscope\":1,\"credentials\":{},\"extra\":1}", "extra: unknown field" },
		{ "{\"credscope\":1,\"credentials\":{\"FOO\":{\"sha256\":\"abc\"}}}", "credentials.FOO.sha256: expected 64 hex" },
		{ "{\"credscope\":1,\"credentials\":{\"FOO\":{\"hmac-sha256\":\"" SHA_FOO "\"}}}", "credentials.FOO.hmac-sha256: the manifest has no \"key\"" },
		{ "{\"credscope\":1,\"credentials\":{\"FOO\":{\"sha512\":\"x\"}}}", "credentials.FOO.sha512: unknown field" },
		{ "{\"credscope\":1,\"credentials\":{\"FOO\":{}}}", "credentials.FOO: needs sha256" },
		{ "{\"credscope\":1,\"credentials\":{\"FOO\":{\"absent\":\"yes\"}}}", "credentials.FOO.absent: expected true or false" },
		{ "{\"credscope\":1,\"key\":\"zz\",\"credentials\":{}}", "key: expected an even number" },
		{ "{\"credscope\":1,\"strict\":1,\"credentials\":{}}", "strict: expected true or false" },
		{ "{\"credscope\":1,\"credentials\":{\"A\":{\"present\":true},\"A\":{\"present\":true}}}", "invalid JSON" },
		{ "{\"credscope\":1,", "invalid JSON at line 1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *err = parse_error(cases[i].json);
		if (!strstr(err, cases[i].needle))
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, cases[i].needle);
		free(err);
	}
}

static void test_manifest_round_trips_through_json(void **state)
{
	struct manifest m = { .strict = true };
	struct manifest_entry e[2] = {
		{ .name = (char *)"A", .expect = EXPECT_MATCH, .digest = DIGEST_SHA256, .hex = SHA_FOO },
		{ .name = (char *)"B", .expect = EXPECT_ABSENT },
	};
	m.entries = e;
	m.n_entries = 2;
	char *json = manifest_to_json(&m);
	assert_non_null(json);
	struct manifest back;
	char *err = NULL;
	assert_int_equal(manifest_parse(json, strlen(json), &back, &err), 0);
	assert_int_equal(back.n_entries, 2);
	assert_string_equal(back.entries[0].hex, SHA_FOO);
	assert_int_equal(back.entries[1].expect, EXPECT_ABSENT);
	assert_true(back.strict);
	manifest_free(&back);
	free(json);
}

static void test_digests_match_known_vectors(void **state)
{
	char hex[DIGEST_HEX_LEN + 1];
	assert_int_equal(digest_sha256_hex("bar", 3, hex), 0);
	assert_string_equal(hex, SHA_FOO);
	assert_int_equal(digest_sha256_hex(NULL, 0, hex), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* RFC 4231 test case 2 */
	assert_int_equal(digest_hmac_sha256_hex((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, hex), 0);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_true(digest_equal(SHA_FOO, SHA_FOO));
	assert_false(digest_equal(SHA_FOO, hex));
}

static void test_hex_decode_rejects_odd_length_and_non_hex(void **state)
{
	uint8_t *out;
	size_t n;
	assert_int_equal(hex_decode("abc", &out, &n), -EINVAL);
	assert_int_equal(hex_decode("zz", &out, &n), -EINVAL);
	assert_int_equal(hex_decode("00Ff", &out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0x00);
	assert_int_equal(out[1], 0xff);
	free(out);
}

static void test_frame_round_trips_over_a_socketpair(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(frame_write(sv[0], "{\"a\":1}", 7), 0);
	uint8_t *buf;
	size_t len;
	assert_int_equal(frame_read(sv[1], FRAME_MAX, 1000, &buf, &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "{\"a\":1}", 8); /* NUL-terminated */
	free(buf);
	close(sv[0]);
	close(sv[1]);
}

static void test_frame_rejects_oversized_length_before_reading_it(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	uint8_t hdr[4] = { 0x00, 0x40, 0x00, 0x01 }; /* 4 MiB + 1 */
	assert_int_equal(write(sv[0], hdr, 4), 4);
	uint8_t *buf;
	size_t len;
	assert_int_equal(frame_read(sv[1], FRAME_MAX, 1000, &buf, &len), -EMSGSIZE);
	assert_int_equal(frame_write(sv[0], "", FRAME_MAX + 1), -EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
}

static void test_frame_read_reports_eof_mid_frame_and_timeout(void **state)
{
	int sv[2];
	uint8_t *buf;
	size_t len;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(frame_read(sv[1], FRAME_MAX, 50, &buf, &len), -ETIMEDOUT);
	uint8_t partial[6] = { 0, 0, 0, 10, 'a', 'b' };
	assert_int_equal(write(sv[0], partial, 6), 6);
	close(sv[0]);
	assert_int_equal(frame_read(sv[1], FRAME_MAX, 1000, &buf, &len), -EPIPE);
	close(sv[1]);
}

/* A frame of FRAME_MAX bytes arrives whole through the growing buffer (64 KiB, then doubled
 * up to the length), from a writer that the socket's buffer makes wait for the reader. */
static void test_frame_read_grows_its_buffer_up_to_frame_max(void **state)
{
	int sv[2], status;
	uint8_t *big = malloc(FRAME_MAX), *buf = NULL;
	size_t len = 0;
	assert_non_null(big);
	for (size_t i = 0; i < FRAME_MAX; i++)
		big[i] = (uint8_t)(i * 7 + i / 65536);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		_exit(frame_write(sv[0], big, FRAME_MAX) == 0 ? 0 : 1);
	}
	close(sv[0]);
	assert_int_equal(frame_read(sv[1], FRAME_MAX, 10000, &buf, &len), 0);
	assert_int_equal(len, FRAME_MAX);
	assert_memory_equal(buf, big, FRAME_MAX);
	assert_int_equal(buf[len], 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(frame_body_room(0, 0), 0);
	assert_int_equal(frame_body_room(0, 10), 10);
	assert_int_equal(frame_body_room(0, FRAME_MAX), FRAME_FIRST_ROOM);
	assert_int_equal(frame_body_room(FRAME_FIRST_ROOM, FRAME_FIRST_ROOM + 1), FRAME_FIRST_ROOM + 1);
	assert_int_equal(frame_body_room(FRAME_MAX / 2, FRAME_MAX), FRAME_MAX);
	free(buf);
	free(big);
	close(sv[1]);
}

/* Escapes the bytes of a string literal, NULs inside it included, and checks the exact result. */
#define assert_escapes_to(lit, want) check_escape(lit, sizeof(lit) - 1, want)
static void check_escape(const char *in, size_t n, const char *want)
{
	char *e = text_escape_bytes(in, n);
	assert_non_null(e);
	assert_string_equal(e, want);
	free(e);
}

static void test_escape_keeps_printable_ascii_as_is(void **state)
{
	assert_escapes_to(" azAZ09~!\"#$%&'()*+,-./:;<=>?@[]^_`{|}", " azAZ09~!\"#$%&'()*+,-./:;<=>?@[]^_`{|}");
	char all[95] = "";
	size_t n = 0;
	for (int c = 0x20; c <= 0x7e; c++)
		if (c != '\\')
			all[n++] = (char) c;
	check_escape(all, n, all);   /* all 94 of them */
}

static void test_escape_writes_backslash_as_hex_so_it_cannot_pose_as_an_escape(void **state)
{
	assert_escapes_to("\\", "\\x5c");
	assert_escapes_to("a\\x01", "a\\x5cx01");
}

static void test_escape_keeps_quotes_which_json_encoding_handles(void **state)
{
	assert_escapes_to("\"'", "\"'");
}

static void test_escape_writes_control_bytes_and_del_as_lowercase_hex(void **state)
{
	assert_escapes_to("\x01\t\n\r\x1b[31m\x1f\x7f", "\\x01\\x09\\x0a\\x0d\\x1b[31m\\x1f\\x7f");
}

static void test_escape_writes_every_byte_from_0x80_as_hex_even_valid_utf8(void **state)
{
	assert_escapes_to("\x80\xc3\xa9\xff", "\\x80\\xc3\\xa9\\xff");
}

static void test_escape_writes_nul_inside_the_buffer_and_goes_on(void **state)
{
	assert_escapes_to("a\0b", "a\\x00b");
	assert_escapes_to("\0", "\\x00");
}

static void test_escape_of_empty_input_is_an_empty_string(void **state)
{
	assert_escapes_to("", "");
	char *e = text_escape("");
	assert_string_equal(e, "");
	free(e);
}

static void test_escape_of_a_c_string_stops_at_its_nul(void **state)
{
	char *e = text_escape("x\x7f" "y");
	assert_string_equal(e, "x\\x7fy");
	free(e);
}

/* Every byte the agent escapes is read back by the host's matcher (report_check.h), and a
 * different byte is not: the two sides agree on the one form. */
static void test_host_matches_every_escaped_byte_and_only_that_byte(void **state)
{
	for (int b = 1; b < 256; b++) {
		char name[4] = { 'N', (char) b, 'Z', 0 }, other[4] = { 'N', (char) (b % 255 + 1), 'Z', 0 };
		char *e = text_escape(name);
		assert_non_null(e);
		assert_true(report_name_is(e, name));
		assert_false(report_name_is(e, other));
		free(e);
	}
}

/* Asserts that json_doc_load() refuses BUF as DOC with exactly the error WANT. */
static void assert_doc_error(const struct json_doc *doc, const char *buf, const char *want)
{
	json_t *root = (json_t *) 1;
	char *err = NULL;
	assert_int_equal(json_doc_load(doc, buf, strlen(buf), &root, &err), -EINVAL);
	assert_null(root);
	assert_non_null(err);
	assert_string_equal(err, want);
	free(err);
}

static void test_json_doc_errors_name_line_and_column_in_a_file_and_the_byte_in_a_frame(void **state)
{
	const struct json_doc file = { "manifest", 64, JSON_DOC_FILE }, frame = { "report", 64, JSON_DOC_FRAME };
	assert_doc_error(&file, "[1,\n 2,\n x]", "manifest: invalid JSON at line 3 column 2: invalid token near 'x'");
	assert_doc_error(&frame, "[1,\n 2,\n x]", "report: invalid JSON at byte 10: invalid token near 'x'");
}

static void test_json_doc_over_its_limit_is_refused_in_each_wording(void **state)
{
	const struct json_doc file = { "manifest", 4, JSON_DOC_FILE }, frame = { "report", 4, JSON_DOC_FRAME };
	assert_doc_error(&file, "[1,2]", "manifest: 5 bytes, larger than the 4 byte limit");
	assert_doc_error(&frame, "[1,2]", "report: 5 bytes, more than 4");
}

static void test_json_doc_with_a_duplicate_key_is_refused(void **state)
{
	const struct json_doc frame = { "report", 64, JSON_DOC_FRAME };
	assert_doc_error(&frame, "{\"a\":1,\"a\":2}", "report: invalid JSON at byte 10: duplicate object key near '\"a\"'");
}

static void test_json_doc_at_its_limit_loads_and_clears_the_error(void **state)
{
	const struct json_doc file = { "manifest", 7, JSON_DOC_FILE };
	json_t *root = NULL;
	char *err = (char *) "stale";
	assert_int_equal(json_doc_load(&file, "{\"a\":1}", 7, &root, &err), 0);
	assert_null(err);
	assert_int_equal(json_integer_value(json_object_get(root, "a")), 1);
	json_decref(root);
	assert_int_equal(json_doc_load(&file, "[", 1, &root, NULL), -EINVAL);   /* no error wanted */
}

static void test_json_doc_fail_formats_the_message_and_returns_einval(void **state)
{
	char *err = NULL;
	assert_int_equal(json_doc_fail(&err, "%s.%s: expected %d hex characters", "credentials", "FOO", 64), -EINVAL);
	assert_string_equal(err, "credentials.FOO: expected 64 hex characters");
	free(err);
	assert_int_equal(json_doc_fail(NULL, "ignored"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_with_all_expectation_kinds_parses),
		cmocka_unit_test(test_manifest_errors_name_the_field),
		cmocka_unit_test(test_manifest_round_trips_through_json),
		cmocka_unit_test(test_digests_match_known_vectors),
		cmocka_unit_test(test_hex_decode_rejects_odd_length_and_non_hex),
		cmocka_unit_test(test_frame_round_trips_over_a_socketpair),
		cmocka_unit_test(test_frame_rejects_oversized_length_before_reading_it),
		cmocka_unit_test(test_frame_read_reports_eof_mid_frame_and_timeout),
		cmocka_unit_test(test_frame_read_grows_its_buffer_up_to_frame_max),
		cmocka_unit_test(test_escape_keeps_printable_ascii_as_is),
		cmocka_unit_test(test_escape_writes_backslash_as_hex_so_it_cannot_pose_as_an_escape),
		cmocka_unit_test(test_escape_keeps_quotes_which_json_encoding_handles),
		cmocka_unit_test(test_escape_writes_control_bytes_and_del_as_lowercase_hex),
		cmocka_unit_test(test_escape_writes_every_byte_from_0x80_as_hex_even_valid_utf8),
		cmocka_unit_test(test_escape_writes_nul_inside_the_buffer_and_goes_on),
		cmocka_unit_test(test_escape_of_empty_input_is_an_empty_string),
		cmocka_unit_test(test_escape_of_a_c_string_stops_at_its_nul),
		cmocka_unit_test(test_host_matches_every_escaped_byte_and_only_that_byte),
		cmocka_unit_test(test_json_doc_errors_name_line_and_column_in_a_file_and_the_byte_in_a_frame),
		cmocka_unit_test(test_json_doc_over_its_limit_is_refused_in_each_wording),
		cmocka_unit_test(test_json_doc_with_a_duplicate_key_is_refused),
		cmocka_unit_test(test_json_doc_at_its_limit_loads_and_clears_the_error),
		cmocka_unit_test(test_json_doc_fail_formats_the_message_and_returns_einval),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
