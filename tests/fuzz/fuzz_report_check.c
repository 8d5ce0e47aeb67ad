/* libFuzzer target: the host's report parser and verdict must never crash or leak on any
 * bytes a guest sends; a parsed report is judged against a fixed one-credential case. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/case.h"
#include "runner/report_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char cj[] = "{\"name\":\"f\",\"credentials\":[{\"name\":\"FOO\",\"value\":\"bar\"}],"
				 "\"expect\":{\"GONE\":\"absent\"},\"expect_fate\":[{\"name\":\"FOO\",\"fate\":\"imported\"}],"
				 "\"strict\":true}";
	struct test_case tc;
	struct case_view v;
	struct report r;
	struct judgement j;
	char *err = NULL;
	if (report_parse((const char *)data, size, &r, &err) < 0) {
		free(err);
		return 0;
	}
	if (case_parse(cj, sizeof cj - 1, "f.json", &tc, NULL) < 0)
		abort();
	if (case_view(&tc, "bookworm", &v) < 0)
		abort();
	struct sent_cred sent = { .name = "FOO", .via = VIA_SMBIOS, .len = 3,
				  .hmac = "1111111111111111111111111111111111111111111111111111111111111111" };
	struct judge_input in = { .view = &v, .sent = &sent, .n_sent = 1, .machine = "q35",
				  .manifest_sha256 = "2222222222222222222222222222222222222222222222222222222222222222" };
	if (report_judge(&r, &in, &j) == 0) {
		char *t = judgement_text(&j);
		if (j.verdict == OUTCOME_PASS && t)
			abort();   /* a pass has no problems */
		free(t);
		judgement_free(&j);
	}
	case_view_free(&v);
	case_free(&tc);
	report_free(&r);
	return 0;
}
