/* html: the self-contained HTML report. */
#include "output/html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/outfile.h"
#include "output/textsafe.h"
#include "output/xml.h"

/* The page's whole style: no fonts, images or URLs. */
static const char page_style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
	"table{border-collapse:collapse;width:100%}"
	"th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}"
	"tr.run td.result{font-weight:bold}"
	"tr.result-pass td.result{color:#176a2c}tr.result-fail td.result{color:#b00020}"
	"tr.result-skip td.result{color:#8a6d00}"
	"tr.detail>td{border-bottom:2px solid #bbb;background:#fafafa}"
	"pre{white-space:pre-wrap;word-break:break-all;background:#f2f2f2;padding:.5em;margin:.3em 0}"
	".timeline{position:relative;height:14px;min-width:240px;background:#eee;border-radius:2px}"
	".seg{position:absolute;top:0;bottom:0}"
	".seg-prepare{background:#c9c9c9}.seg-firmware{background:#9aa7b8}.seg-kernel{background:#6b8fc9}"
	".seg-pid1{background:#8e6bc9}.seg-import{background:#c96bb2}.seg-agent{background:#e0a030}"
	".seg-stop{background:#d8d8d8}"
	".marks{font-size:11px;color:#555;margin:.2em 0 0;padding:0;list-style:none}"
	".marks li{display:inline;margin-right:.8em}"
	".legend span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 .8em;vertical-align:middle}"
	"table.creds td,table.creds th{border:0;padding:.1em .6em .1em 0}"
	".bad{color:#b00020}.good{color:#176a2c}";

void html_put_text(FILE *f, const char *s, bool keep_newlines)
{
	char *t = text_sanitize(s, strlen(s), keep_newlines);
	xml_put_escaped(f, t ? t : "?", false);   /* & < > " ' : HTML's dangerous five */
	free(t);
}

static void put_opt(FILE *f, const char *s, const char *fallback)
{
	html_put_text(f, s ? s : fallback, false);
}

static const char *verdict_word(const struct case_result *r)
{
	return r->skipped ? "skip" : r->ok ? "pass" : "fail";
}

/* ---- the boot timeline ------------------------------------------------------------- */

struct step {
	const char *segment;   /* the segment that starts here */
	long long at;
};

static void put_segment(FILE *f, const char *name, long long from, long long to, double scale_ms)
{
	fprintf(f, "<span class=\"seg seg-%s\" data-segment=\"%s\" data-start-ms=\"%lld\" data-end-ms=\"%lld\" "
		   "style=\"left:%.2f%%;width:%.2f%%\" title=\"%s: %.2f s to %.2f s\"></span>",
		name, name, from, to, 100.0 * (double)from / scale_ms, 100.0 * (double)(to - from) / scale_ms, name,
		(double)from / 1000.0, (double)to / 1000.0);
}

static void put_timeline_attrs(FILE *f, const struct run_timeline *t)
{
	fprintf(f, " data-qemu-start-ms=\"%lld\" data-kernel-ms=\"%lld\" data-pid1-ms=\"%lld\" data-import-ms=\"%lld\""
		   " data-agent-ms=\"%lld\" data-console-verdict-ms=\"%lld\" data-report-ms=\"%lld\" data-end-ms=\"%lld\""
		   " data-guest-import-ms=\"%lld\" data-guest-agent-ms=\"%lld\"",
		t->qemu_start_ms, t->kernel_ms, t->pid1_ms, t->import_ms, t->agent_ms, t->verdict_ms, t->report_ms,
		t->end_ms, t->guest_import_ms, t->guest_agent_ms);
}

/* The text under the bar, so the times read without CSS too. */
static void put_marks(FILE *f, const struct run_timeline *t)
{
	const struct { const char *label; long long at; } m[] = {
		{ "QEMU start", t->qemu_start_ms }, { "kernel", t->kernel_ms },        { "PID 1", t->pid1_ms },
		{ "import", t->import_ms },         { "agent", t->agent_ms },          { "console verdict", t->verdict_ms },
		{ "report", t->report_ms },         { "end", t->end_ms },
	};
	fputs("<ul class=\"marks\">", f);
	for (size_t i = 0; i < sizeof m / sizeof *m; i++)
		if (m[i].at >= 0)
			fprintf(f, "<li>%s %.2f s</li>", m[i].label, (double)m[i].at / 1000.0);
	fputs("</ul>", f);
}

/* Each segment runs from its step to the next step the host saw. */
static void put_timeline(FILE *f, const struct run_timeline *t, double scale_ms)
{
	const struct step steps[] = {
		{ "prepare", 0 },         { "firmware", t->qemu_start_ms }, { "kernel", t->kernel_ms },
		{ "pid1", t->pid1_ms },   { "import", t->import_ms },       { "agent", t->agent_ms },
		{ "stop", t->report_ms }, { NULL, t->end_ms },
	};
	const size_t n = sizeof steps / sizeof *steps;
	fputs("<div class=\"timeline\"", f);
	put_timeline_attrs(f, t);
	fputs(">", f);
	for (size_t i = 0; i + 1 < n; i++) {
		if (steps[i].at < 0)
			continue;
		size_t k = i + 1;
		while (k < n && steps[k].at < 0)
			k++;
		if (k < n && steps[k].at >= steps[i].at)
			put_segment(f, steps[i].segment, steps[i].at, steps[k].at, scale_ms);
	}
	fputs("</div>", f);
	put_marks(f, t);
}

/* ---- rows ---------------------------------------------------------------------------- */

static void put_creds(FILE *f, const struct case_result *r)
{
	if (!r->n_creds)
		return;
	fputs("<table class=\"creds\"><thead><tr><th>credential</th><th>expected</th><th>arrived</th><th>source</th>"
	      "<th></th><th>the agent's explanation</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < r->n_creds; i++) {
		const struct cred_outcome *c = &r->creds[i];
		fprintf(f, "<tr class=\"cred %s\"><td class=\"cred-name\"><code>", c->ok ? "cred-ok" : "cred-bad");
		put_opt(f, c->name, "?");
		fputs("</code></td><td>", f);
		put_opt(f, c->expect, "?");
		fputs("</td><td class=\"cred-fate\">", f);
		put_opt(f, c->fate, "?");
		fputs("</td><td>", f);
		put_opt(f, c->source, "-");
		fprintf(f, "</td><td class=\"%s\">%s</td><td class=\"cred-explanation\">", c->ok ? "good" : "bad",
			c->ok ? "as expected" : "NOT as expected");
		put_opt(f, c->explanation, "");
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

static void put_details(FILE *f, const struct case_result *r)
{
	fprintf(f, "<tr class=\"detail detail-%s\"><td colspan=\"8\">", verdict_word(r));
	if (r->skipped) {
		fputs("<p class=\"skip-reason\">skipped: ", f);
		put_opt(f, r->skip_reason, "skipped");
		fputs("</p></td></tr>\n", f);
		return;
	}
	if (r->diagnosis) {
		fputs("<p class=\"diagnosis\">", f);
		html_put_text(f, r->diagnosis, false);
		fputs("</p>", f);
	}
	fputs("<p class=\"facts\">phase reached: ", f);
	put_opt(f, r->phase, "?");
	fputs(" &middot; agent's verdict: ", f);
	put_opt(f, r->agent_verdict, "(no report)");
	fputs(" &middot; ", f);
	put_opt(f, r->accel, "?");
	fputs(", ", f);
	put_opt(f, r->transport, "?");
	if (r->log_path) {
		fputs(" &middot; console log: <code>", f);
		html_put_text(f, r->log_path, false);
		fputs("</code>", f);
	}
	fputs("</p>\n", f);
	put_creds(f, r);
	if (r->console_tail && *r->console_tail) {
		fprintf(f, "<details%s><summary>last console lines</summary><pre class=\"console\">", r->ok ? "" : " open");
		html_put_text(f, r->console_tail, true);
		fputs("</pre></details>", f);
	}
	fputs("</td></tr>\n", f);
}

static void put_row(FILE *f, const struct case_result *r, double scale_ms)
{
	const char *v = verdict_word(r);
	fprintf(f, "<tr class=\"run result-%s\" data-result=\"%s\" data-case=\"", v, v);
	put_opt(f, r->case_name, "?");
	fputs("\" data-image=\"", f);
	put_opt(f, r->image, "?");
	fputs("\"><td class=\"case\">", f);
	put_opt(f, r->case_name, "?");
	fputs("</td><td class=\"image\">", f);
	put_opt(f, r->image, "?");
	fprintf(f, "</td><td class=\"result\">%s</td><td class=\"expected\">%s</td><td class=\"got\">%s</td>"
		   "<td class=\"agent\">", r->skipped ? "SKIP" : r->ok ? "PASS" : "FAIL", case_outcome_name(r->expected),
		r->skipped ? "-" : case_outcome_name(r->got));
	put_opt(f, r->skipped ? "-" : r->agent_verdict, "(no report)");
	fprintf(f, "</td><td class=\"seconds\">%.1f</td><td class=\"boot\">", r->seconds);
	if (!r->skipped)
		put_timeline(f, &r->timeline, scale_ms);
	fputs("</td></tr>\n", f);
	put_details(f, r);
}

/* ---- the page ------------------------------------------------------------------------ */

static void put_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>", f);
	html_put_text(f, title, false);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<h1>", page_style);
	html_put_text(f, title, false);
	fputs("</h1>\n", f);
}

static void put_legend(FILE *f)
{
	static const char *const seg[][2] = {
		{ "prepare", "host prepares" }, { "firmware", "QEMU start to first console byte" },
		{ "kernel", "kernel to PID 1" }, { "pid1", "PID 1 to its first unit (credentials imported)" },
		{ "import", "to the agent's unit" }, { "agent", "agent to the report's arrival" }, { "stop", "VM stopped" },
	};
	fputs("<p class=\"legend\">boot timeline:", f);
	for (size_t i = 0; i < sizeof seg / sizeof *seg; i++)
		fprintf(f, "<span class=\"seg-%s\"></span>%s", seg[i][0], seg[i][1]);
	fputs("</p>\n", f);
}

int html_write(FILE *f, const char *title, const struct case_result *results, size_t n, double seconds)
{
	size_t pass = 0, fail = 0, skip = 0;
	double scale_ms = 1.0;
	for (size_t i = 0; i < n; i++) {
		skip += results[i].skipped;
		pass += !results[i].skipped && results[i].ok;
		fail += !results[i].skipped && !results[i].ok;
		if (!results[i].skipped && (double)results[i].timeline.end_ms > scale_ms)
			scale_ms = (double)results[i].timeline.end_ms;   /* one scale: bars compare */
	}
	put_head(f, title);
	fprintf(f, "<p class=\"summary\" data-runs=\"%zu\" data-pass=\"%zu\" data-fail=\"%zu\" data-skip=\"%zu\">"
		   "%zu runs: %zu pass, %zu fail, %zu skipped; wall time %.1f s</p>\n",
		n, pass, fail, skip, n, pass, fail, skip, seconds);
	put_legend(f);
	fputs("<table id=\"results\"><thead><tr><th>case</th><th>flavor</th><th>result</th><th>expected</th><th>got</th>"
	      "<th>agent</th><th>seconds</th><th>boot timeline</th></tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < n; i++)
		put_row(f, &results[i], scale_ms);
	fputs("</tbody></table>\n</body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}

struct html_job {
	const char *title;
	const struct case_result *results;
	size_t n;
	double seconds;
};

static int html_write_job(FILE *f, const void *ctx)
{
	const struct html_job *j = ctx;
	return html_write(f, j->title, j->results, j->n, j->seconds);
}

int html_write_file(const char *path, const char *title, const struct case_result *results, size_t n, double seconds)
{
	const struct html_job j = { title, results, n, seconds };
	return outfile_write(path, html_write_job, &j);
}
