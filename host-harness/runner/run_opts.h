/* run_opts: what the harness chose for every run (command line, probed accelerator);
 * read by every part of the runner, written only by cmd_run before the runs start. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>

struct run_opts {
	const char *qemu_binary;
	const char *accel;            /* kvm or tcg (already probed) */
	const char *image_dir;
	const char *transport;        /* serial or vsock */
	const char *log_dir;          /* where failing runs' console logs are copied */
	const char *self_exe;         /* this binary, for `vsock-backend` */
	bool keep;
	unsigned memory_mb;
	atomic_int *stop;             /* set by the signal handler thread; may be NULL */
};
