/* junit: JUnit XML writer. */
#include "output/junit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/outfile.h"
#include "output/textsafe.h"
#include "output/xml.h"

static void put_xml(FILE *f, const char *s, bool keep_newlines)
{
	char *t = text_sanitize(s, strlen(s), keep_newlines);
	xml_put_escaped(f, t ? t : "?", false);   /* a kept newline stays one in element text */
	free(t);
}

/* The run's boot timeline (result.h), milliseconds since it began; steps the host did not
 * see are left out. Then the SMBIOS entry point the guest reported, when it did. */
static void put_timeline_properties(FILE *f, const struct run_timeline *t, const char *smbios_entry)
{
	const struct { const char *name; long long ms; } p[] = {
		{ "qemu_start_ms", t->qemu_start_ms }, { "kernel_ms", t->kernel_ms },   { "pid1_ms", t->pid1_ms },
		{ "import_ms", t->import_ms },         { "agent_ms", t->agent_ms },     { "console_verdict_ms", t->verdict_ms },
		{ "report_ms", t->report_ms },         { "end_ms", t->end_ms },
		{ "guest_import_ms", t->guest_import_ms }, { "guest_agent_ms", t->guest_agent_ms },
	};
	fputs("    <properties>\n", f);
	for (size_t i = 0; i < sizeof p / sizeof *p; i++)
		if (p[i].ms >= 0)
			fprintf(f, "      <property name=\"credscope.timeline.%s\" value=\"%lld\"/>\n", p[i].name, p[i].ms);
	if (smbios_entry) {   /* the guest's SMBIOS entry point, as the agent reported it */
		fputs("      <property name=\"credscope.smbios_entry_point\" value=\"", f);
		put_xml(f, smbios_entry, false);
		fputs("\"/>\n", f);
	}
	fputs("    </properties>\n", f);
}

static void put_case(FILE *f, const struct case_result *r)
{
	fputs("  <testcase classname=\"credscope.", f);
	put_xml(f, r->image, false);
	fputs("\" name=\"", f);
	put_xml(f, r->case_name, false);
	fputs(" on ", f);
	put_xml(f, r->image, false);
	fprintf(f, "\" time=\"%.3f\">\n", r->seconds);
	if (!r->skipped)
		put_timeline_properties(f, &r->timeline, r->smbios_entry);
	if (r->skipped) {
		fputs("    <skipped message=\"", f);
		put_xml(f, r->skip_reason ? r->skip_reason : "skipped", false);
		fputs("\"/>\n", f);
	} else if (!r->ok) {
		fprintf(f, "    <failure type=\"%s\" message=\"", case_outcome_name(r->got));
		put_xml(f, r->diagnosis ? r->diagnosis : "", false);
		fprintf(f, "\">expected %s, got %s\nphase: ", case_outcome_name(r->expected), case_outcome_name(r->got));
		put_xml(f, r->phase ? r->phase : "?", false);
		fputs("\nlog: ", f);
		put_xml(f, r->log_path ? r->log_path : "(none)", false);
		fputs("\nlast console lines:\n", f);
		put_xml(f, r->console_tail ? r->console_tail : "", true);
		fputs("</failure>\n", f);
	}
	fputs("  </testcase>\n", f);
}

int junit_write(FILE *f, const char *suite, const struct case_result *results, size_t n, double seconds)
{
	size_t failures = 0, skipped = 0;
	for (size_t i = 0; i < n; i++) {
		skipped += results[i].skipped;
		failures += !results[i].skipped && !results[i].ok;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n <testsuite name=\"", f);
	put_xml(f, suite, false);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n", n, failures,
		skipped, seconds);
	for (size_t i = 0; i < n; i++)
		put_case(f, &results[i]);
	fputs(" </testsuite>\n</testsuites>\n", f);
	return ferror(f) ? -EIO : 0;
}

struct junit_job {
	const char *suite;
	const struct case_result *results;
	size_t n;
	double seconds;
};

static int junit_write_job(FILE *f, const void *ctx)
{
	const struct junit_job *j = ctx;
	return junit_write(f, j->suite, j->results, j->n, j->seconds);
}

int junit_write_file(const char *path, const char *suite, const struct case_result *results, size_t n, double seconds)
{
	const struct junit_job j = { suite, results, n, seconds };
	return outfile_write(path, junit_write_job, &j);
}
