/* credscope: the guest agent's entry point. Parses the global options and hands the rest
 * of the command line to one subcommand (cli.h). Exit status: 0 verified, 1 a
 * verification failed, 2 usage or environment error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonutil.h"
#include "output.h"
#include "parse.h"

static const struct {
	const char *name;
	int (*run)(const struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "smbios", cmd_smbios, "every SMBIOS type 11 string, judged by systemd's rules" },
	{ "list", cmd_list, "every credential from every source, the prediction, and @system" },
	{ "verify", cmd_verify, "compare with the expectations (manifest); exit 0/1/2" },
	{ "explain", cmd_explain, "the whole path of one credential, and one sentence why" },
	{ "report", cmd_report, "verify, and send the report to the host over vsock or serial" },
	{ "generator", cmd_generator, "verify while PID 1 starts (as a systemd generator); keep the verdict" },
};

static void help(FILE *f)
{
	fprintf(f, "Usage: credscope [--root DIR] [--json] [--systemd-version N] COMMAND [ARGS]\n\n"
		"Proves that the systemd credentials a hypervisor passed arrived in this guest.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions:\n"
		"  --root DIR             read sys/, proc/ and run/ under DIR instead of /\n"
		"  --json                 machine-readable output (docs/json-agent.md)\n"
		"  --systemd-version N    judge by systemd N's rules instead of the detected version\n"
		"  -h, --help             this help; COMMAND --help for a command's own\n"
		"  --version              print the version\n\n"
		"Exit status: 0 all verified, 1 a verification failed, 2 usage or environment error.\n"
		"See credscope(1).\n");
}

static int usage_error(const char *what)
{
	fprintf(stderr, "credscope: %s; see credscope --help\n", what);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "systemd-version", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct cli_ctx ctx = { .root = "/", .color = color_wanted() };
	int c;
	json_seed_nonblocking();   /* before any JSON: never wait for the kernel's random pool */
	/* installed as /usr/lib/systemd/system-generators/credscope-generator (a symbolic link):
	 * PID 1 passes its three generator directories and nothing else */
	const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;
	if (argv[0] && strcmp(base ? base + 1 : argv[0], "credscope-generator") == 0) {
		ctx.color = false;
		return cmd_generator(&ctx, argc, argv);
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': ctx.root = optarg; break;
		case 'j': ctx.json = true; break;
		case 's':
			if (parse_uint(optarg, 200, 9999, &ctx.systemd_version) < 0)
				return usage_error("--systemd-version needs a systemd version number such as 252");
			break;
		case 'h': help(stdout); return 0;
		case 'V':
			if (optind < argc)   /* "--version extra" is a typo, not a version query */
				return usage_error("--version takes no arguments");
			printf("credscope %s\n", CREDSCOPE_VERSION);
			return 0;
		case ':': return usage_error("an option needs an argument");
		default: {
			char msg[300];
			snprintf(msg, sizeof msg, "unknown option %.200s", argv[optind - 1]);
			return usage_error(msg);
		}
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	if (ctx.json)
		ctx.color = false;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int first = optind;
			optind = 0;   /* glibc: re-initialise getopt for the subcommand */
			return commands[i].run(&ctx, argc - first, argv + first);
		}
	char msg[300];
	snprintf(msg, sizeof msg, "unknown command \"%.200s\"", argv[optind]);
	return usage_error(msg);
}
