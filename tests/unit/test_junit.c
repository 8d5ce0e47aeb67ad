/* Unit tests for host-harness/junit.c, tap.c and textsafe.c: guest-controlled text is
 * escaped so it can neither break the XML/TAP structure nor smuggle control bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/junit.h"
#include "output/outfile.h"
#include "output/tap.h"
#include "output/textsafe.h"
#include "output/xml.h"

static char *capture_junit(const struct case_result *r, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(junit_write(f, "suite<&>", r, n, 1.5), 0);
	fclose(f);
	return buf;
}

static char *capture_tap(const struct case_result *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	tap_result(f, 7, r);
	fclose(f);
	return buf;
}

static struct case_result failing(void)
{
	return (struct case_result){ .case_name = "a<b>&\"c'", .image = "bookworm", .ok = false, .expected = OUTCOME_PASS,
				     .got = OUTCOME_FAIL, .diagnosis = "FOO: missing # not a directive\nsecond line",
				     .phase = "systemd", .console_tail = "line1\n\x1b[31mred\x07\xff\xfe\nend]]>",
				     .log_path = "/tmp/x.log", .accel = "tcg", .transport = "serial", .seconds = 2.25 };
}

static void test_sanitize_keeps_utf8_and_escapes_control_and_invalid_bytes(void **state)
{
	const char in[] = "ok \xc3\xa4 \x1b[0m\x7f\xff\xc0\xaf\n";
	char *s = text_sanitize(in, sizeof in - 1, false);
	assert_string_equal(s, "ok \xc3\xa4 \\x1b[0m\\x7f\\xff\\xc0\\xaf\\x0a");
	free(s);
	s = text_sanitize("a\nb", 3, true);
	assert_string_equal(s, "a\nb");
	free(s);
	s = text_sanitize("\xed\xa0\x80", 3, false);   /* a UTF-16 surrogate is not UTF-8 */
	assert_string_equal(s, "\\xed\\xa0\\x80");
	free(s);
}

static void test_junit_escapes_markup_and_counts(void **state)
{
	struct case_result r[3] = { failing(),
				    { .case_name = "fine", .image = "trixie", .ok = true, .seconds = 1 },
				    { .case_name = "skipped", .image = "trixie", .skipped = true, .skip_reason = "no <image>" } };
	char *x = capture_junit(r, 3);
	assert_non_null(strstr(x, "<testsuite name=\"suite&lt;&amp;&gt;\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""));
	assert_non_null(strstr(x, "name=\"a&lt;b&gt;&amp;&quot;c&apos; on bookworm\" time=\"2.250\""));
	assert_non_null(strstr(x, "message=\"FOO: missing # not a directive\\x0asecond line\""));
	assert_non_null(strstr(x, "\\x1b[31mred\\x07\\xff\\xfe\nend]]&gt;</failure>"));
	assert_non_null(strstr(x, "<skipped message=\"no &lt;image&gt;\"/>"));
	assert_null(strchr(x, '\x1b'));
	assert_null(strchr(x, '\x07'));
	free(x);
}

static void test_junit_testcase_carries_the_timeline_as_properties(void **state)
{
	struct case_result r[2] = { { .case_name = "t", .image = "trixie", .ok = true, .seconds = 7.5,
				      .smbios_entry = "_SM3_ 3.0.0" },
				    { .case_name = "s", .image = "trixie", .skipped = true, .skip_reason = "no image" } };
	run_timeline_init(&r[0].timeline);
	r[0].timeline.qemu_start_ms = 40, r[0].timeline.kernel_ms = 1000, r[0].timeline.report_ms = 7400;
	char *x = capture_junit(r, 2);
	assert_non_null(strstr(x, "name=\"t on trixie\" time=\"7.500\">\n    <properties>\n"
				  "      <property name=\"credscope.timeline.qemu_start_ms\" value=\"40\"/>\n"
				  "      <property name=\"credscope.timeline.kernel_ms\" value=\"1000\"/>\n"
				  "      <property name=\"credscope.timeline.report_ms\" value=\"7400\"/>\n"
				  "      <property name=\"credscope.smbios_entry_point\" value=\"_SM3_ 3.0.0\"/>\n"
				  "    </properties>\n  </testcase>\n"));
	assert_null(strstr(x, "pid1_ms"));                          /* not seen: left out */
	assert_non_null(strstr(x, "name=\"s on trixie\" time=\"0.000\">\n    <skipped"));   /* nothing booted */
	free(x);
}

static void test_tap_line_escapes_hash_and_yaml_block_quotes(void **state)
{
	struct case_result r = failing();
	r.case_name = "x # TODO y";
	char *t = capture_tap(&r);
	assert_non_null(strstr(t, "not ok 7 - x \\# TODO y on bookworm # 2.2 s, tcg, serial\n"));
	assert_non_null(strstr(t, "  diagnosis: \"FOO: missing # not a directive\\nsecond line\"\n"));
	assert_non_null(strstr(t, "  console: \"line1\\n\\\\x1b[31mred\\\\x07\\\\xff\\\\xfe\\nend]]>\"\n"));
	assert_non_null(strstr(t, "  ...\n"));
	free(t);
}

static void test_tap_passing_and_skipped_lines(void **state)
{
	struct case_result ok = { .case_name = "text", .image = "trixie", .ok = true, .seconds = 3, .accel = "tcg",
				  .transport = "serial" };
	char *t = capture_tap(&ok);
	assert_string_equal(t, "ok 7 - text on trixie # 3.0 s, tcg, serial\n");
	free(t);
	struct case_result sk = { .case_name = "text", .image = "trixie", .skipped = true, .skip_reason = "image trixie is not built" };
	t = capture_tap(&sk);
	assert_string_equal(t, "ok 7 - text on trixie # SKIP image trixie is not built\n");
	free(t);
}

static char *escaped(const char *s, bool escape_whitespace)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	xml_put_escaped(f, s, escape_whitespace);
	fclose(f);
	return buf;
}

/* Attribute values need whitespace as references or a parser turns it into spaces;
 * element text (the JUnit failure body) keeps its newlines as they are. */
static void test_xml_escapes_markup_always_and_whitespace_only_when_asked(void **state)
{
	char *a = escaped("a&b<c>\"d'\te\nf\r", true), *b = escaped("x<\ny\t", false);
	assert_string_equal(a, "a&amp;b&lt;c&gt;&quot;d&apos;&#9;e&#10;f&#13;");
	assert_string_equal(b, "x&lt;\ny\t");
	free(a);
	free(b);
}

/* --junit and --html are checked before the first VM boots, by the same operation their writers do. */
static void test_report_file_is_checked_writable_before_the_run_and_left_untouched(void **state)
{
	char dir[] = "/tmp/credscope-junit-XXXXXX", path[300];
	assert_non_null(mkdtemp(dir));
	assert_int_equal(outfile_check_writable("/nonexistent/dir/x.xml"), -ENOENT);
	assert_int_equal(outfile_check_writable(dir), -EISDIR);
	snprintf(path, sizeof path, "%s/x.xml", dir);
	assert_int_equal(outfile_check_writable(path), 0);
	assert_int_equal(access(path, F_OK), -1);   /* nothing written yet */
	snprintf(path, sizeof path, "%s/x.xml.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);   /* the probe is gone */
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_keeps_utf8_and_escapes_control_and_invalid_bytes),
		cmocka_unit_test(test_junit_escapes_markup_and_counts),
		cmocka_unit_test(test_report_file_is_checked_writable_before_the_run_and_left_untouched),
		cmocka_unit_test(test_xml_escapes_markup_always_and_whitespace_only_when_asked),
		cmocka_unit_test(test_junit_testcase_carries_the_timeline_as_properties),
		cmocka_unit_test(test_tap_line_escapes_hash_and_yaml_block_quotes),
		cmocka_unit_test(test_tap_passing_and_skipped_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
