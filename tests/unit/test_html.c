/* Unit tests for host-harness/output/html.c and the timeline in output/result.c: the page
 * carries every verdict and credential, draws the timeline from the run's own timestamps,
 * and no case- or guest-controlled string can add markup or make the page fetch anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "output/html.h"
#include "output/result.h"

static char *capture_html(const struct case_result *r, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(html_write(f, "credscope-harness", r, n, 12.5), 0);
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static struct run_timeline full_timeline(void)
{
	return (struct run_timeline){ .qemu_start_ms = 40, .kernel_ms = 1000, .pid1_ms = 3800, .import_ms = 4800,
				      .agent_ms = 5000, .verdict_ms = -1, .report_ms = 7400, .end_ms = 7500,
				      .guest_import_ms = -1, .guest_agent_ms = -1 };
}

static void test_hostile_name_and_console_are_text_not_markup(void **state)
{
	struct cred_outcome c = { .name = "<script>alert(1)</script>", .expect = "exact", .fate = "missing",
				  .source = "\"onmouseover=alert(2) x=\"", .explanation = "it's <b>gone</b> & \x1b[31m", .ok = false };
	struct case_result r = { .case_name = "\"onmouseover=alert(3)", .image = "<img src=x onerror=alert(4)>",
				 .got = OUTCOME_FAIL, .diagnosis = "FOO: </td></tr></table><script>x()</script>",
				 .console_tail = "</pre><iframe src=\"http://evil\">\n'quoted'", .agent_verdict = "pass",
				 .creds = &c, .n_creds = 1, .timeline = full_timeline() };
	char *h = capture_html(&r, 1);
	assert_non_null(strstr(h, "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
	assert_non_null(strstr(h, "data-case=\"&quot;onmouseover=alert(3)\""));
	assert_non_null(strstr(h, "<td class=\"image\">&lt;img src=x onerror=alert(4)&gt;</td>"));
	assert_non_null(strstr(h, "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;x()&lt;/script&gt;"));
	assert_non_null(strstr(h, "&lt;/pre&gt;&lt;iframe src=&quot;http://evil&quot;&gt;\n&apos;quoted&apos;"));
	assert_non_null(strstr(h, "it&apos;s &lt;b&gt;gone&lt;/b&gt; &amp; \\x1b[31m"));
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "<iframe"));
	assert_null(strstr(h, "<img"));
	assert_null(strstr(h, "\"onmouseover"));
	assert_null(strchr(h, '\x1b'));
	free(h);
}

static void test_page_fetches_nothing_and_has_no_script(void **state)
{
	struct case_result r = { .case_name = "text", .image = "bookworm", .ok = true, .timeline = full_timeline() };
	char *h = capture_html(&r, 1);
	assert_null(strstr(h, "http:"));
	assert_null(strstr(h, "https:"));
	assert_null(strstr(h, "src="));
	assert_null(strstr(h, "<link"));
	assert_null(strstr(h, "url("));
	assert_null(strstr(h, "@import"));
	assert_null(strstr(h, "<script"));
	assert_non_null(strstr(h, "content=\"default-src 'none'; style-src 'unsafe-inline'\""));
	free(h);
}

static void test_one_row_per_run_with_verdicts_diagnosis_and_skip_reason(void **state)
{
	struct case_result r[3] = {
		{ .case_name = "text", .image = "bookworm", .ok = true, .got = OUTCOME_PASS, .agent_verdict = "pass",
		  .seconds = 7.46, .timeline = full_timeline() },
		{ .case_name = "missing", .image = "trixie", .expected = OUTCOME_PASS, .got = OUTCOME_FAIL,
		  .diagnosis = "FOO: missing from /run/credentials/@system", .phase = "report", .agent_verdict = "fail",
		  .timeline = full_timeline() },
		{ .case_name = "later", .image = "forky", .skipped = true, .skip_reason = "image forky is not built" },
	};
	char *h = capture_html(r, 3);
	assert_int_equal(count(h, "<tr class=\"run "), 3);
	assert_non_null(strstr(h, "data-runs=\"3\" data-pass=\"1\" data-fail=\"1\" data-skip=\"1\""));
	assert_non_null(strstr(h, "<tr class=\"run result-pass\" data-result=\"pass\" data-case=\"text\" data-image=\"bookworm\">"));
	assert_non_null(strstr(h, "<td class=\"result\">FAIL</td><td class=\"expected\">pass</td><td class=\"got\">fail</td>"));
	assert_non_null(strstr(h, "<p class=\"diagnosis\">FOO: missing from /run/credentials/@system</p>"));
	assert_non_null(strstr(h, "<p class=\"skip-reason\">skipped: image forky is not built</p>"));
	assert_non_null(strstr(h, "<td class=\"seconds\">7.5</td>"));
	assert_int_equal(count(h, "<div class=\"timeline\""), 2);   /* a skipped run booted nothing */
	free(h);
}

static void test_timeline_segments_come_from_the_runs_timestamps(void **state)
{
	struct case_result r = { .case_name = "text", .image = "bookworm", .ok = true, .timeline = full_timeline() };
	char *h = capture_html(&r, 1);
	assert_non_null(strstr(h, "data-qemu-start-ms=\"40\" data-kernel-ms=\"1000\" data-pid1-ms=\"3800\" "
				  "data-import-ms=\"4800\" data-agent-ms=\"5000\" data-console-verdict-ms=\"-1\" "
				  "data-report-ms=\"7400\" data-end-ms=\"7500\""));
	assert_non_null(strstr(h, "data-segment=\"firmware\" data-start-ms=\"40\" data-end-ms=\"1000\""));
	assert_non_null(strstr(h, "data-segment=\"kernel\" data-start-ms=\"1000\" data-end-ms=\"3800\""));
	assert_non_null(strstr(h, "data-segment=\"pid1\" data-start-ms=\"3800\" data-end-ms=\"4800\""));
	assert_non_null(strstr(h, "data-segment=\"import\" data-start-ms=\"4800\" data-end-ms=\"5000\""));
	assert_non_null(strstr(h, "data-segment=\"agent\" data-start-ms=\"5000\" data-end-ms=\"7400\""));
	assert_non_null(strstr(h, "data-segment=\"stop\" data-start-ms=\"7400\" data-end-ms=\"7500\""));
	assert_int_equal(count(h, "data-segment="), 7);
	free(h);
}

/* A step the host never saw is skipped: the segment before it runs on to the next seen one. */
static void test_timeline_bridges_unseen_steps(void **state)
{
	struct run_timeline t = full_timeline();
	t.pid1_ms = t.import_ms = t.agent_ms = t.report_ms = -1;
	struct case_result r = { .case_name = "hang", .image = "trixie", .got = OUTCOME_ERROR, .timeline = t };
	char *h = capture_html(&r, 1);
	assert_non_null(strstr(h, "data-segment=\"kernel\" data-start-ms=\"1000\" data-end-ms=\"7500\""));
	assert_null(strstr(h, "data-segment=\"pid1\""));
	assert_null(strstr(h, "data-segment=\"stop\""));
	free(h);
}

static void test_timeline_order_lowers_late_stamps_to_the_next_step(void **state)
{
	struct run_timeline t;
	run_timeline_init(&t);
	assert_int_equal(t.qemu_start_ms, -1);
	assert_int_equal(t.guest_agent_ms, -1);
	t.qemu_start_ms = 50, t.kernel_ms = 900, t.pid1_ms = 3000, t.agent_ms = 7600, t.report_ms = 7400, t.end_ms = 7700;
	run_timeline_order(&t);   /* the agent's unit line was read only after the report arrived */
	assert_int_equal(t.agent_ms, 7400);
	assert_int_equal(t.import_ms, -1);
	assert_int_equal(t.pid1_ms, 3000);
	assert_int_equal(t.end_ms, 7700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_name_and_console_are_text_not_markup),
		cmocka_unit_test(test_page_fetches_nothing_and_has_no_script),
		cmocka_unit_test(test_one_row_per_run_with_verdicts_diagnosis_and_skip_reason),
		cmocka_unit_test(test_timeline_segments_come_from_the_runs_timestamps),
		cmocka_unit_test(test_timeline_bridges_unseen_steps),
		cmocka_unit_test(test_timeline_order_lowers_late_stamps_to_the_next_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
