/* result: see result.h. */
#include "output/result.h"

#include <stdlib.h>
#include <string.h>

void case_result_free(struct case_result *r)
{
	free(r->case_name), free(r->image), free(r->skip_reason), free(r->diagnosis), free(r->phase);
	free(r->console_tail), free(r->log_path), free(r->agent_verdict), free(r->smbios_entry);
	for (size_t i = 0; i < r->n_creds; i++)
		free(r->creds[i].name), free(r->creds[i].fate), free(r->creds[i].source), free(r->creds[i].explanation);
	free(r->creds);
	memset(r, 0, sizeof *r);
}

void run_timeline_init(struct run_timeline *t)
{
	*t = (struct run_timeline){ -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 };
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

void run_timeline_order(struct run_timeline *t)
{
	long long *chain[] = { &t->qemu_start_ms, &t->kernel_ms, &t->pid1_ms, &t->import_ms, &t->agent_ms, &t->report_ms };
	long long next = -1;
	if (t->verdict_ms >= 0 && t->agent_ms > t->verdict_ms)
		t->agent_ms = t->verdict_ms;
	for (size_t i = sizeof chain / sizeof *chain; i-- > 0;) {
		if (*chain[i] < 0)
			continue;
		if (next >= 0 && *chain[i] > next)
			*chain[i] = next;
		next = *chain[i];
	}
}
