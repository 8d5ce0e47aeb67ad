/* tap: TAP 13 writer. */
#include "output/tap.h"

#include <stdlib.h>
#include <string.h>

#include "output/textsafe.h"

void tap_plan(FILE *f, size_t n)
{
	fprintf(f, "TAP version 13\n1..%zu\n", n);
	fflush(f);
}

/* A TAP description: sanitized, and '#' escaped so it does not start a directive. */
static void put_desc(FILE *f, const char *s)
{
	char *t = text_sanitize(s, strlen(s), false);
	for (const char *p = t ? t : "?"; *p; p++) {
		if (*p == '#' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	free(t);
}

/* A YAML double-quoted scalar. */
static void put_yaml(FILE *f, const char *key, const char *s)
{
	char *t = text_sanitize(s, strlen(s), true);
	fprintf(f, "  %s: \"", key);
	for (const char *p = t ? t : "?"; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputs("\"\n", f);
	free(t);
}

void tap_result(FILE *f, size_t number, const struct case_result *r)
{
	fprintf(f, "%s %zu - ", r->ok || r->skipped ? "ok" : "not ok", number);
	put_desc(f, r->case_name);
	fputs(" on ", f);
	put_desc(f, r->image);
	if (r->skipped) {
		fputs(" # SKIP ", f);
		put_desc(f, r->skip_reason ? r->skip_reason : "skipped");
		fputc('\n', f);
		fflush(f);
		return;
	}
	fprintf(f, " # %.1f s, %s, %s\n", r->seconds, r->accel ? r->accel : "?", r->transport ? r->transport : "?");
	if (r->smbios_entry) {   /* which tables the firmware gave: 2.x (SeaBIOS) or 3.0 (OVMF) */
		fputs("# smbios entry point: ", f);
		put_desc(f, r->smbios_entry);
		fputc('\n', f);
	}
	if (r->diff.on)
		fprintf(f, "# differential: %zu of %zu credentials agree; PID 1's log lines: %zu of %zu agree\n",
			r->diff.agree, r->diff.total, r->diff.pid1_agree, r->diff.pid1_compared);
	if (!r->ok) {
		fputs("  ---\n", f);
		fprintf(f, "  expected: %s\n  got: %s\n", case_outcome_name(r->expected), case_outcome_name(r->got));
		put_yaml(f, "diagnosis", r->diagnosis ? r->diagnosis : "");
		put_yaml(f, "phase", r->phase ? r->phase : "");
		if (r->log_path)
			put_yaml(f, "log", r->log_path);
		if (r->console_tail)
			put_yaml(f, "console", r->console_tail);
		fputs("  ...\n", f);
	}
	fflush(f);
}

void tap_differential_summary(FILE *f, const struct case_result *res, size_t n)
{
	struct diff_count all = { 0 };
	for (size_t i = 0; i < n; i++) {
		const char *img = res[i].image ? res[i].image : "?";
		bool first = true;
		struct diff_count one = { 0 };
		size_t runs = 0;
		if (!res[i].diff.on)
			continue;
		for (size_t k = 0; k < i && first; k++)   /* one line per flavor, at its first run */
			first = !(res[k].diff.on && res[k].image && strcmp(res[k].image, img) == 0);
		for (size_t k = i; first && k < n; k++) {
			if (!res[k].diff.on || !res[k].image || strcmp(res[k].image, img) != 0)
				continue;
			runs++;
			one.total += res[k].diff.total, one.agree += res[k].diff.agree;
			one.pid1_compared += res[k].diff.pid1_compared, one.pid1_agree += res[k].diff.pid1_agree;
		}
		if (first) {
			fprintf(f, "# differential on %s: %zu of %zu credentials agree, PID 1's log lines %zu of %zu (%zu boots)\n",
				img, one.agree, one.total, one.pid1_agree, one.pid1_compared, runs);
			all.total += one.total, all.agree += one.agree;
			all.pid1_compared += one.pid1_compared, all.pid1_agree += one.pid1_agree;
			all.on = true;
		}
	}
	if (all.on)
		fprintf(f, "# differential: %zu of %zu credentials agree; PID 1's log lines: %zu of %zu agree\n", all.agree,
			all.total, all.pid1_agree, all.pid1_compared);
}
