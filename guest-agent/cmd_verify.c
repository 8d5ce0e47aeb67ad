/* cmd_verify: `credscope verify [--manifest FILE | --manifest-label LABEL]`. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "report.h"

static void verify_help(void)
{
	printf("Usage: credscope [GLOBAL OPTIONS] verify [--manifest FILE | --manifest-label LABEL]\n"
	       "                 [--wait-label SECONDS] [--generator-verdict]\n\n"
	       "Compares /run/credentials/@system and systemd's predicted import with the manifest.\n"
	       "Without --manifest, reads the QEMU fw_cfg entry opt/io.credscope/manifest when the\n"
	       "host passed one, else manifest.json from the filesystem labelled by\n"
	       "credscope.manifest-label= on the kernel command line (which skips fw_cfg), or\n"
	       "\"credscope\".\n\n"
	       "  --manifest FILE          the manifest (JSON, see credscope(1))\n"
	       "  --manifest-label LABEL   mount the filesystem with this label read-only, privately\n"
	       "  --wait-label SECONDS     wait up to SECONDS for that filesystem to appear (default 0)\n"
	       "  --generator-verdict      print the verdict credscope-generator reached at this boot\n"
	       "                           (/run/credscope/verdict.txt) when there is one, instead of\n"
	       "                           checking again (ignored with --json, --manifest or\n"
	       "                           --manifest-label: the generator used the fw_cfg one)\n\n"
	       "Prints each finding and the line CREDSCOPE-VERDICT: pass|fail|error N findings.\n"
	       "Exit status: 0 all verified, 1 a verification failed, 2 usage error, unreadable input\n"
	       "or malformed manifest.\n");
}

int cmd_verify(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct manifest_opts o = { 0 };
	struct check c;
	int r = parse_manifest_opts(argc, argv, &o, NULL, NULL, verify_help);
	if (r)
		return r == 1 ? 0 : 2;
	struct boot_verdict bv;
	if (!ctx->json && check_generator_verdict(ctx, &o, &bv) == 1) {
		int status = bv.status;
		boot_verdict_free(&bv);
		return status;
	}
	int status = check_run(ctx, &o, &c);
	if (ctx->json) {
		struct report_input in;
		check_report_input(&c, &in);
		json_t *j = report_build_verify(&in);
		if (j)
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(j);
		if (c.error)
			fprintf(stderr, "credscope: %s\n", c.error);
	} else
		check_print(&c, ctx->color);
	check_free(&c);
	return status;
}
