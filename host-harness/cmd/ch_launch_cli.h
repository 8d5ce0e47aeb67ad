/* ch_launch_cli: the cloud-hypervisor side of credscope-launch
 * (`credscope-launch --hypervisor cloud-hypervisor ...`). launch_main.c hands the whole
 * command line over when ch_launch_wanted() says so; the options are credscope-launch's
 * (--kernel, --initrd, --image, --flavor, --append, --memory, --cpus, --console-log,
 * --set-credential, --load-credential, --dry-run) plus --cloud-hypervisor PATH. */
#pragma once
#include <stdbool.h>

/* True when ARGV asks for --hypervisor cloud-hypervisor. */
bool ch_launch_wanted(int argc, char **argv);
/* Runs credscope-launch for cloud-hypervisor; returns the process exit status. */
int ch_launch_main(int argc, char **argv);
