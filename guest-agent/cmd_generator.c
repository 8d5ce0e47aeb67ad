/* cmd_generator: credscope as a systemd generator (credscope-generator(8)): the verdict while
 * PID 1 starts, right after its credential import and before it loads a single unit.
 *
 * PID 1 imports credentials in its start-up (import_credentials() from initialize_runtime())
 * and only then runs the generators (manager_startup() -> manager_run_generators()), with
 * /run writable (src/core/main.c and src/core/manager.c, 252 to 262; docs/systemd-versions.md
 * §8). Everything `verify` reads is there by then: the store, /proc/cmdline, SMBIOS in sysfs,
 * PID 1's log lines in the kernel log, and the fw_cfg manifest (qemu_fw_cfg is in the images'
 * initrd). A generator must not wait: only a manifest that needs no waiting is used (the
 * fw_cfg entry); with the expectations disk, credscope-verify.service checks as before.
 *
 * What it does: the verdict, kept in /run/credscope (boot_verdict.h) for the units, which
 * print or send it with --generator-verdict instead of checking again; at most ten lines in
 * the kernel log (the console): the verdict's, ending with the CREDSCOPE-VERDICT line, and one
 * about the report, which it sends itself when the host answers at once (the images' initrd
 * loads the vsock driver), so that a host waiting for it can stop the VM before PID 1 has
 * loaded a unit. It exits 0 after any verdict: a generator's status only tells PID 1 whether
 * the generator itself worked. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot_verdict.h"
#include "check.h"
#include "cli.h"
#include "manifest.h"
#include "strutil.h"
#include "transport.h"

/* /dev/kmsg takes at most ten writes in five seconds from one open file unless booted with
 * printk.devkmsg=on (the kernel's devkmsg_write() ratelimit): ten lines, then the rest only
 * in the files. */
#define KMSG_LINES 10
/* The report's early delivery: the kernel's wait for the host's answer to the connection,
 * and then for its ack. PID 1 waits for its generators, so both are short; when either runs
 * out, credscope-report.service sends the report with its own retries. */
#define DELIVERY_CONNECT_MS 1000
#define DELIVERY_ACK_MS 3000

static void generator_help(void)
{
	printf("Usage: credscope [--root DIR] generator [NORMAL_DIR EARLY_DIR LATE_DIR]\n"
	       "       /usr/lib/systemd/system-generators/credscope-generator NORMAL_DIR EARLY_DIR LATE_DIR\n\n"
	       "Run by systemd as a generator, right after PID 1 imported the credentials: verifies\n"
	       "them against the manifest in the QEMU fw_cfg entry opt/io.credscope/manifest and keeps\n"
	       "the verdict in /run/credscope/ (verdict.txt, report.json) for credscope-verify.service\n"
	       "and credscope-report.service (--generator-verdict). With credscope.report= on the\n"
	       "kernel command line, one attempt to send the report now (delivered.txt); otherwise\n"
	       "credscope-report.service sends it. Up to ten lines go to the kernel log: the verdict's,\n"
	       "then the report's (with --root: to stdout). Writes no units.\n\n"
	       "Does nothing when: not PID 1's system generator run (SYSTEMD_SCOPE), in the initrd,\n"
	       "credscope.generator=no or credscope.manifest-label= is on the kernel command line,\n"
	       "there is no fw_cfg manifest, or this boot already has a verdict (daemon-reload runs\n"
	       "generators again).\n\n"
	       "Exit status: 0, also after a fail or error verdict; 1 if the verdict could not be kept.\n");
}

/* One kernel log record "<PRIO>credscope[PID]: LINE" per line (stdout under --root). */
struct kmsg_out {
	FILE *f;
	int fd;
	unsigned written;
};

static void kmsg_open(const char *root, struct kmsg_out *k)
{
	struct stat st;
	k->f = NULL, k->fd = -1, k->written = 0;
	if (strcmp(root, "/")) {
		k->f = stdout;
		return;
	}
	k->fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (k->fd >= 0 && (fstat(k->fd, &st) < 0 || !S_ISCHR(st.st_mode))) {
		close(k->fd);
		k->fd = -1;
	}
}

static void kmsg_line(struct kmsg_out *k, int prio, const char *line, size_t len)
{
	char buf[1024];
	if (k->written >= KMSG_LINES || (k->fd < 0 && !k->f))
		return;
	int n = snprintf(buf, sizeof buf, "<%d>credscope[%d]: %.*s\n", prio, (int)getpid(), (int)len, line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1, buf[n - 1] = '\n';
	k->written++;
	if (k->f)
		fwrite(buf, 1, (size_t)n, k->f);
	else
		(void)!write(k->fd, buf, (size_t)n);
}

static void kmsg_printf(struct kmsg_out *k, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void kmsg_printf(struct kmsg_out *k, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n >= 0)
		kmsg_line(k, prio, line, strlen(line));
}

static void kmsg_close(struct kmsg_out *k)
{
	if (k->fd >= 0)
		close(k->fd);
	if (k->f)
		fflush(k->f);
}

/* The text's lines to the kernel log: all of them when they fit, else the first ones, a line
 * that says where the rest is, and the verdict line (always last). Failures at LOG_ERR (3,
 * shown on the console even with "quiet"), a pass at LOG_NOTICE, the rest at LOG_INFO. */
static void log_verdict(struct kmsg_out *k, const char *text, int status)
{
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	const char *verdict = strstr(text, "CREDSCOPE-VERDICT: ");
	size_t room = KMSG_LINES - 1;   /* the last one is for the delivery's line */
	size_t shown = 0, limit = lines <= room ? lines : room - 2;
	for (const char *p = text; *p && shown < limit;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (p != verdict) {
			kmsg_line(k, strncmp(p, "FAIL ", 5) == 0 ? 3 : 6, p, len);
			shown++;
		}
		p += len + (nl != NULL);
	}
	if (lines > room)
		kmsg_printf(k, 6, "(%zu more lines: credscope-verify.service prints them all; they are in "
			    BOOT_VERDICT_DIR "/verdict.txt)", lines - 1 - shown);
	if (verdict)
		kmsg_line(k, status == 0 ? 5 : 3, verdict, strcspn(verdict, "\n"));
}

/* With credscope.report= on the kernel command line, one attempt to send the report now (the
 * images' initrd loads the vsock driver before PID 1); the outcome is kept for the report unit.
 * Anything short of an ack leaves the sending to credscope-report.service. */
static void deliver_early(struct kmsg_out *k, const char *root, const char *report)
{
	char *to = report_dest_from_cmdline(root), *error = NULL;
	struct report_dest d;
	struct ack ack;
	if (!to)
		return;
	if (report_dest_parse(to, &d, &error) < 0)
		goto out;   /* credscope-report.service names the error */
	int fd = transport_connect_once(root, &d, DELIVERY_CONNECT_MS);
	if (fd < 0) {
		kmsg_printf(k, 7, "report: %s not reachable yet (%s); credscope-report.service sends it", to,
			    strerror(-fd));
		goto out;
	}
	int r = transport_exchange(fd, report, strlen(report), DELIVERY_ACK_MS, &ack);
	close(fd);
	if (r < 0) {
		kmsg_printf(k, 6, "report to %s not acknowledged (%s); credscope-report.service sends it again", to,
			    r == -EBADMSG ? "the host's answer is not a credscope ack" : strerror(-r));
		goto out;
	}
	if (boot_verdict_save_delivery(root, to, ack.status, ack.message, &error) < 0)
		kmsg_printf(k, ack.ok ? 6 : 3, "report delivered to %s, but %s", to, error);
	else {
		char *es = text_escape(ack.status), *em = ack.message ? text_escape(ack.message) : NULL;
		kmsg_printf(k, ack.ok ? 6 : 3, "report delivered to %s, host says %s%s%s", to, es ? es : "?",
			    em ? ": " : "", em ? em : "");
		free(es);
		free(em);
	}
	ack_free(&ack);
out:
	free(error);
	free(to);
}

/* Why the generator steps aside, or NULL when it verifies. */
static const char *skip_reason(const char *root)
{
	const char *scope = getenv("SYSTEMD_SCOPE");
	if (scope && strcmp(scope, "system"))
		return "not the system manager";
	char *off = cmdline_value(root, "credscope.generator");
	bool disabled = off && (strcmp(off, "0") == 0 || strcmp(off, "no") == 0 || strcmp(off, "false") == 0 ||
				strcmp(off, "off") == 0);
	free(off);
	if (disabled)
		return "credscope.generator= on the kernel command line turns it off";
	const char *initrd = getenv("SYSTEMD_IN_INITRD");
	char *release = root_join(root, "/etc/initrd-release");
	bool in_initrd = (initrd && strcmp(initrd, "1") == 0) || (release && access(release, F_OK) == 0);
	free(release);
	if (in_initrd)
		return "in the initrd: the verdict comes after the switch to the real root";
	char *label = cmdline_value(root, "credscope.manifest-label");
	bool labelled = label != NULL;
	free(label);
	if (labelled)
		return "credscope.manifest-label= asks for the expectations disk, which credscope-verify.service "
		       "waits for";
	if (boot_verdict_exists(root))
		return "this boot has its verdict already";
	char *fw_cfg = root_join(root, MANIFEST_FW_CFG_RAW);
	bool have = fw_cfg && access(fw_cfg, F_OK) == 0;
	free(fw_cfg);
	if (!have)
		return "no manifest in fw_cfg (" MANIFEST_FW_CFG_ENTRY "): credscope-verify.service checks later";
	return NULL;
}

int cmd_generator(const struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		generator_help();
		return 0;
	}
	if (argc != 1 && argc != 4) {
		fprintf(stderr, "credscope generator: takes no arguments or systemd's three generator directories; "
			"see credscope generator --help\n");
		return 2;
	}
	struct kmsg_out k;
	kmsg_open(ctx->root, &k);
	const char *why = skip_reason(ctx->root);
	if (why) {
		kmsg_line(&k, 7, why, strlen(why));   /* LOG_DEBUG: in the journal, not on the console */
		kmsg_close(&k);
		return 0;
	}

	struct manifest_opts o = { 0 };
	struct check c;
	int status = check_run(ctx, &o, &c);
	char *text = NULL, *error = NULL;
	size_t text_len = 0;
	FILE *mem = open_memstream(&text, &text_len);
	if (mem) {
		check_fprint(mem, mem, &c, false);
		if (fclose(mem) != 0) {
			free(text);
			text = NULL;
		}
	}
	char *report = check_report_dump(ctx, &c);
	check_free(&c);
	int r = text && report ? boot_verdict_save(ctx->root, text, report, &error) : -ENOMEM;
	if (r < 0)
		kmsg_printf(&k, 3, "the verdict (%s) could not be kept, the units check again: %s",
			    status == 0 ? "pass" : status == 1 ? "fail" : "error", error ? error : "out of memory");
	if (text)
		log_verdict(&k, text, status);
	if (r == 0)
		deliver_early(&k, ctx->root, report);
	kmsg_close(&k);
	free(error);
	free(report);
	free(text);
	return r < 0 ? 1 : 0;
}
