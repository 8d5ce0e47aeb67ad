/* html-report-sample FILE: writes the HTML report (output/html.h) for four made-up runs,
 * without booting anything, for tests/integration/html-report.test to load in a browser:
 * a pass, a fail with a diagnosis, a skip, and a run whose case name, credential name,
 * diagnosis and console hold markup (<script>, "onmouseover=, </pre>, <img onerror>). */
#include <stdio.h>
#include <string.h>

#include "output/html.h"

static struct run_timeline timeline(long long scale)
{
	return (struct run_timeline){ .qemu_start_ms = 40 * scale, .kernel_ms = 1000 * scale, .pid1_ms = 3800 * scale,
				      .import_ms = 4800 * scale, .agent_ms = 5000 * scale, .verdict_ms = -1,
				      .report_ms = 7400 * scale, .end_ms = 7500 * scale, .guest_import_ms = -1,
				      .guest_agent_ms = -1 };
}

int main(int argc, char **argv)
{
	struct cred_outcome pass_creds[] = {
		{ "FOO", "exact", "byte-exact", "smbios", "SMBIOS 11-0 string 1 at byte 5: imported (written as 3 bytes)", true },
	};
	struct cred_outcome fail_creds[] = {
		{ "BIG", "exact", "different", "smbios", "SMBIOS 11-0 string 1: imported-truncated (cut at the page)", false },
	};
	struct cred_outcome hostile_creds[] = {
		{ "<script>alert(1)</script>", "exact", "missing", "\"onmouseover=alert(2) x=\"",
		  "no source string in the guest carries this name; <img src=x onerror=alert(3)>", false },
	};
	struct run_timeline hung = timeline(1);
	hung.pid1_ms = hung.import_ms = hung.agent_ms = hung.report_ms = -1;
	struct case_result r[] = {
		{ .case_name = "text", .image = "bookworm", .ok = true, .expected = OUTCOME_PASS, .got = OUTCOME_PASS,
		  .phase = "report", .agent_verdict = "pass", .accel = "tcg", .transport = "vsock", .seconds = 7.5,
		  .timeline = timeline(1), .creds = pass_creds, .n_creds = 1 },
		{ .case_name = "oem-over-4k", .image = "trixie", .expected = OUTCOME_PASS, .got = OUTCOME_FAIL,
		  .diagnosis = "BIG: arrived different: 4000 bytes in the guest, 5000 sent, HMAC differs", .phase = "report",
		  .agent_verdict = "fail", .accel = "tcg", .transport = "vsock", .seconds = 15.0, .timeline = timeline(2),
		  .creds = fail_creds, .n_creds = 1, .console_tail = "CREDSCOPE-VERDICT: fail 1 findings" },
		{ .case_name = "later", .image = "forky", .skipped = true, .skip_reason = "image forky is not built" },
		{ .case_name = "\"onmouseover=alert(4) <script>alert(5)</script>", .image = "bookworm",
		  .expected = OUTCOME_PASS, .got = OUTCOME_ERROR, .diagnosis = "hung in phase kernel: </td></tr><script>x()</script>",
		  .phase = "kernel", .accel = "tcg", .transport = "vsock", .seconds = 7.5, .timeline = hung,
		  .creds = hostile_creds, .n_creds = 1,
		  .console_tail = "</pre><script>alert(6)</script>\n<iframe src=\"javascript:alert(7)\"></iframe>" },
	};
	if (argc != 2) {
		fputs("usage: html-report-sample FILE.html\n", stderr);
		return 2;
	}
	int x = html_write_file(argv[1], "credscope-harness sample", r, sizeof r / sizeof *r, 37.5);
	if (x < 0) {
		fprintf(stderr, "html-report-sample: %s: %s\n", argv[1], strerror(-x));
		return 1;
	}
	return 0;
}
