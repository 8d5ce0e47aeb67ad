/* runner: one case on one image flavor, start to finish. Private 0700 directory, fresh
 * HMAC key, manifest disk, QEMU with the credentials (memfds), the report over the chosen
 * transport, the host's verdict, stop, cleanup. Nothing survives it unless --keep: no
 * QEMU process, no directory, no socket. Thread-safe: the harness runs several at once;
 * each only touches its own struct run_live slot (atomics) and its result. */
#pragma once
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "clock.h"   /* mono_ms(): run_live.start_ms and the runners' deadlines */
#include "runner/case.h"
#include "output/progress.h"   /* struct run_live: what the live line shows */
#include "output/result.h"

struct run_opts {
	const char *qemu_binary;
	const char *accel;            /* kvm or tcg (already probed) */
	const char *image_dir;
	const char *transport;        /* serial or vsock */
	const char *log_dir;          /* where failing runs' console logs are copied */
	const char *self_exe;         /* this binary, for `vsock-backend` */
	bool keep;
	unsigned memory_mb;
	atomic_int *stop;             /* set by the signal handler thread */
};

void run_case(const struct run_opts *o, const struct test_case *tc, const char *image, struct run_live *live,
	      struct case_result *res);
