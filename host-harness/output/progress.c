/* progress: live status lines on a terminal. */
#include "output/progress.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "output/textsafe.h"

void progress_init(struct progress *p, FILE *out)
{
	p->out = out;
	p->tty = isatty(fileno(out)) && !getenv("NO_PROGRESS");
	p->drawn = 0;
}

void progress_clear(struct progress *p)
{
	if (!p->tty)
		return;
	for (size_t i = 0; i < p->drawn; i++)
		fputs("\033[1A\033[2K", p->out);
	p->drawn = 0;
	fflush(p->out);
}

void progress_draw(struct progress *p, struct run_live *slots, size_t n)
{
	if (!p->tty)
		return;
	progress_clear(p);
	long long now = mono_ms();
	for (size_t i = 0; i < n; i++) {
		if (!atomic_load(&slots[i].active))
			continue;
		int ph = atomic_load(&slots[i].phase);
		fprintf(p->out, "  running %-28s %-9s %-9s %4llds\n", slots[i].case_name, slots[i].image,
			ph < 0 ? "preparing" : boot_phase_name((enum boot_phase)ph), (now - slots[i].start_ms) / 1000);
		p->drawn++;
	}
	fflush(p->out);
}

void progress_finished(struct progress *p, const struct case_result *r)
{
	const char *word = r->skipped ? "SKIP" : r->ok ? "PASS" : "FAIL";
	progress_clear(p);
	fprintf(p->out, "%s %s on %s (%.1f s, expected %s, got %s)\n", word, r->case_name, r->image, r->seconds,
		case_outcome_name(r->expected), r->skipped ? "skip" : case_outcome_name(r->got));
	if (r->skipped && r->skip_reason)
		fprintf(p->out, "  %s\n", r->skip_reason);
	if (r->ok && r->diagnosis) {   /* an expected failure: show that it was the right one */
		char *d = text_sanitize(r->diagnosis, strlen(r->diagnosis), false);
		fprintf(p->out, "  diagnosis (as expected): %s\n", d ? d : "?");
		free(d);
	}
	if (!r->ok && !r->skipped) {
		char *d = text_sanitize(r->diagnosis ? r->diagnosis : "(no diagnosis)", strlen(r->diagnosis ? r->diagnosis : "(no diagnosis)"), false);
		fprintf(p->out, "  diagnosis: %s\n  phase reached: %s\n", d ? d : "?", r->phase ? r->phase : "?");
		free(d);
		if (r->console_tail) {
			char *t = text_sanitize(r->console_tail, strlen(r->console_tail), true);
			fprintf(p->out, "  last console lines:\n");
			for (char *line = t, *nl; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				fprintf(p->out, "    | %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
				if (!nl)
					break;
			}
			free(t);
		}
		fprintf(p->out, "  full log: %s\n", r->log_path ? r->log_path : "(none)");
	}
	fflush(p->out);
}
