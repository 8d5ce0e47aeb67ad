/* cli: what every subcommand receives from main(). */
#pragma once
#include <stdbool.h>

struct cli_ctx {
	const char *root;             /* "/" unless --root */
	bool json;                    /* --json */
	bool color;                   /* stdout is a TTY and NO_COLOR unset */
	unsigned systemd_version;     /* --systemd-version, 0 = detect */
};

/* Each returns the process exit status: 0 ok/verified, 1 verification failed, 2 usage or
 * environment error. argv[0] is the subcommand name. */
int cmd_smbios(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_list(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_verify(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_explain(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_report(const struct cli_ctx *ctx, int argc, char **argv);
int cmd_generator(const struct cli_ctx *ctx, int argc, char **argv);
