/* cmd_report: `credscope report --to vsock:CID:PORT | serial:NAME`: verify, then send. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "cli.h"
#include "transport.h"

static void report_help(void)
{
	printf("Usage: credscope [GLOBAL OPTIONS] report [--to vsock:CID:PORT | --to serial:NAME]\n"
	       "                 [--timeout SECONDS] [--manifest FILE | --manifest-label LABEL]\n"
	       "                 [--wait-label SECONDS] [--generator-verdict]\n\n"
	       "Runs verify and sends the report (JSON, docs/report.md) to the host, then prints the\n"
	       "host's acknowledgement. Without --to, the destination is credscope.report= on the\n"
	       "kernel command line. The connection is retried with backoff until --timeout\n"
	       "(default 30 s), which also bounds the wait for the acknowledgement. With\n"
	       "--generator-verdict, sends the report credscope-generator kept at this boot\n"
	       "(/run/credscope/report.json) when there is one, instead of checking again (not with\n"
	       "--manifest or --manifest-label); when the generator delivered it to the same\n"
	       "destination already, prints the host's answer then and sends nothing.\n\n"
	       "Exit status: the verdict's (0 pass, 1 fail, 2 error), or 2 if the report could not\n"
	       "be delivered.\n");
}

/* Connects, sends, reads the ack; prints the outcome. Returns 0 when acknowledged "ok". */
static int deliver(const struct cli_ctx *ctx, const char *to, const struct report_dest *d, const char *json,
		   int timeout_s)
{
	long long deadline = mono_ms() + (long long)timeout_s * 1000;
	struct ack ack;
	int fd = transport_connect(ctx->root, d, timeout_s * 1000);
	if (fd < 0) {
		fprintf(stderr, "credscope: cannot reach %s within %d s: %s\n", to, timeout_s, strerror(-fd));
		return fd;
	}
	long long left = deadline - mono_ms();
	int r = transport_exchange(fd, json, strlen(json), left > 0 ? (int)left : 1, &ack);
	close(fd);
	if (r < 0) {
		fprintf(stderr, "credscope: report to %s not acknowledged: %s\n", to,
			r == -EBADMSG ? "the host's answer is not a credscope ack" : strerror(-r));
		return r;
	}
	printf("credscope: report delivered to %s, host says %s%s%s\n", to, ack.status,
	       ack.message ? ": " : "", ack.message ? ack.message : "");
	r = ack.ok ? 0 : -EPROTO;
	ack_free(&ack);
	return r;
}

int cmd_report(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct manifest_opts o = { 0 };
	struct report_dest d;
	struct check c;
	const char *to = NULL;
	char *from_cmdline = NULL, *error = NULL;
	int timeout_s = TRANSPORT_DEFAULT_TIMEOUT_MS / 1000;
	int r = parse_manifest_opts(argc, argv, &o, &to, &timeout_s, report_help);
	if (r)
		return r == 1 ? 0 : 2;
	if (!to)
		to = from_cmdline = report_dest_from_cmdline(ctx->root);
	if (!to) {
		fprintf(stderr, "credscope report: no destination: pass --to vsock:CID:PORT or serial:NAME, "
			"or boot with credscope.report=\n");
		return 2;
	}
	if (report_dest_parse(to, &d, &error) < 0) {
		fprintf(stderr, "credscope report: %s\n", error ? error : "bad destination");
		free(error);
		free(from_cmdline);
		return 2;
	}
	struct boot_verdict bv;
	if (check_generator_verdict(ctx, &o, &bv) == 1) {
		int status = bv.status;
		if (bv.delivered_to && strcmp(bv.delivered_to, to) == 0) {
			/* the generator sent it already: a second report would be a second answer */
			printf("credscope: report delivered to %s by credscope-generator while PID 1 started, host said "
			       "%s%s%s\n", bv.delivered_to, bv.ack_status, bv.ack_message ? ": " : "",
			       bv.ack_message ? bv.ack_message : "");
			if (strcmp(bv.ack_status, "ok"))
				status = 2;
		} else if (deliver(ctx, to, &d, bv.report, timeout_s) < 0)
			status = 2;
		boot_verdict_free(&bv);
		free(from_cmdline);
		return status;
	}
	int status = check_run(ctx, &o, &c);
	check_print(&c, ctx->color);
	char *json = check_report_dump(ctx, &c);
	if (!json || deliver(ctx, to, &d, json, timeout_s) < 0)
		status = 2;
	free(json);
	check_free(&c);
	free(from_cmdline);
	return status;
}
