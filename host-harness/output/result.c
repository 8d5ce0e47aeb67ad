/* result: see result.h. */
#include "output/result.h"

#include <stdlib.h>
#include <string.h>

void case_result_free(struct case_result *r)
{
	free(r->case_name), free(r->image), free(r->skip_reason), free(r->diagnosis), free(r->phase);
	free(r->console_tail), free(r->log_path), free(r->agent_verdict);
	memset(r, 0, sizeof *r);
}

const char *case_outcome_name(enum case_outcome o)
{
	static const char *const n[] = { "pass", "fail", "error" };
	return o <= OUTCOME_ERROR ? n[o] : "?";
}

const char *boot_phase_name(enum boot_phase p)
{
	static const char *const n[] = { "firmware", "kernel", "systemd", "report" };
	return p <= PHASE_REPORT ? n[p] : "?";
}
