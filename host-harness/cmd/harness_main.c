/* credscope-harness: boots one VM per test case and image flavor, passes credentials the
 * way users do, and proves delivery with the host's own verdict (docs/harness.md).
 * This file only dispatches: each subcommand is its own cmd_*.c. */
#include <stdio.h>
#include <string.h>

/* Direct calls, not weak references: they pull each cmd_*.o out of the static library. */
#include "cmd/cmd_libvirt_xml.h"
#include "cmd/cmd_run.h"
#include "cmd/cmd_vsock_backend.h"

static void usage(FILE *f)
{
	fputs("Usage: credscope-harness run [OPTIONS] CASE.json...\n"
	      "       credscope-harness libvirt-xml [OPTIONS] CASE.json   (test only; see its --help)\n"
	      "       credscope-harness vsock-backend [OPTIONS]           (see its --help)\n"
	      "       credscope-harness --version\n\n", f);
	cmd_run_help(f);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("credscope-harness " CREDSCOPE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "libvirt-xml"))
		return cmd_libvirt_xml(argc - 1, argv + 1);
	if (!strcmp(argv[1], "vsock-backend"))
		return cmd_vsock_backend(argc - 1, argv + 1);
	fprintf(stderr, "credscope-harness: unknown command \"%s\" (known: run, libvirt-xml, vsock-backend)\n", argv[1]);
	usage(stderr);
	return 2;
}
