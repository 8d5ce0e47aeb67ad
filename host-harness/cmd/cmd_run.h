/* cmd_run: `credscope-harness run`, the test runner. Exit status 0 every case got its
 * expected verdict, 1 some did not, 2 usage or environment error or interrupted, 77
 * every case skipped. */
#pragma once
#include <stdio.h>

int cmd_run(int argc, char **argv);
/* What run does and its options, without the "Usage:" line (credscope-harness --help
 * prints it too). */
void cmd_run_help(FILE *f);
