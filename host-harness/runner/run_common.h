/* run_common: the state of one case run and its steps that do not depend on the
 * hypervisor, shared by runner.c (the run from start to finish) and run_wait.c (waiting
 * for the verdict).
 *
 * Promises:
 * - The first diagnosis of a run wins (run_diag()); nothing here logs.
 * - A credential value is loaded and hashed into the manifest in run_load_credential(),
 *   held (cleared on every path) until the VM has taken it, and never reaches a diagnosis.
 * - The private directory is a rundir (rundir.h): its owner file lets the next harness
 *   remove it should this one crash.
 * - run_cleanup() removes the private directory unless --keep (the files holding the
 *   HMAC key are removed either way), clears the key and frees what the run holds; the
 *   result keeps the diagnosis. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"
#include "hypervisor/hypervisor.h"
#include "output/progress.h"
#include "output/result.h"
#include "runner/case.h"
#include "runner/console.h"
#include "runner/image.h"
#include "runner/report_channel.h"
#include "runner/report_check.h"
#include "runner/run_opts.h"

#define RUN_KEY_BYTES 32

struct run;

/* What differs between hypervisors above the ops table: deadlines and how a run that
 * ended without a report is worded. A deadline of 0 is not watched. */
struct run_profile {
	const struct hypervisor_ops *ops;
	unsigned first_contact_s, verdict_s, idle_s;
	bool scale_by_accel;          /* TCG multiplies the deadlines (accel_time_scale) */
	bool watch_panic;             /* a kernel panic on the console ends the run at once */
	const char *channel_name;     /* "the NAME failed: ..." when the report channel breaks */
	void (*diagnose_exit)(struct run *r, int status);
	void (*diagnose_no_report)(struct run *r, unsigned secs, long long now);
};

/* One credential loaded for the run, until the VM has it. */
struct run_cred {
	const struct case_cred *c;
	uint8_t *value;               /* secret: cleared before it is freed */
	size_t len;
};

struct run {
	const struct run_opts *o;
	const struct test_case *tc;
	const struct run_profile *prof;
	struct case_result *res;
	struct run_live *live;
	long long t0;                 /* mono_ms() when the run began */
	const char *transport;        /* "serial" or "vsock" */
	struct case_view view;
	struct guest_image img;
	bool aarch64;                 /* the guest's architecture (the flavor's image.json, or the
	                                 case's "arch" for its own guest): qemu-system-aarch64 */
	const char *machine;          /* what the run boots: the case's, or virt on aarch64 */
	char *dir;                    /* the private 0700 run directory */
	char *console_path;
	char *kernel, *vm_log;        /* borrowed by the VM's configuration (hv_config) */
	uint8_t key[RUN_KEY_BYTES];   /* this run's manifest HMAC key */
	struct sent_cred *sent;
	size_t n_sent;
	struct run_cred *creds;
	size_t n_creds;
	char manifest_sha[DIGEST_HEX_LEN + 1];
	char *expect_img;
	char *manifest_json;          /* the manifest for fw_cfg (holds the key) until attached */
	struct case_cred zi[2];       /* zero_install: the unit and drop-in credentials (runner/zero_install.h) */
	char *zi_agent;               /* zero_install: the static agent the disk carries */
	struct report_channel ch;
	struct console_watch con;
	struct hv_vm hv;
	bool started;
	pid_t backend_pid;            /* credscope-harness vsock-backend, or 0 */
	char *diag;                   /* the first problem that ended the run early */
	enum case_outcome got;
};

void run_diag(struct run *r, enum case_outcome got, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "<dir>/NAME", malloc'd, or NULL. */
char *run_path(const struct run *r, const char *name);

/* Resets RES and fills in what it ran (case, image, accelerator, transport), then marks
 * LIVE active. Returns < 0, LIVE untouched, when the case has no view for IMAGE. */
int run_begin(struct run *r, const struct run_opts *o, const struct test_case *tc, const char *image,
	      struct run_live *live, struct case_result *res);

/* The run's duration into the result; LIVE is no longer active. */
void run_end(struct run *r);

/* Loads the image (when it is missing the case is skipped: -ENOENT), creates the
 * private directory $TMPDIR/credscope-NAME-XXXXXX with its owner file, opens the
 * console log and draws the key (-EIO, diagnosed). */
int run_prepare(struct run *r);

/* Loads C's value, records it for the manifest and keeps it for the VM. 0 or -errno,
 * diagnosed. */
int run_load_credential(struct run *r, const struct case_cred *c);

/* Clears and frees the loaded credential values. */
void run_drop_credentials(struct run *r);

/* The manifest for the guest: kept as bytes for fw_cfg (r->manifest_json) where the
 * hypervisor has fw_cfg and the case does not ask for the disk, else the disk in the run
 * directory (r->expect_img); with r->zi_agent the disk is made either way and carries the
 * agent too (manifest.json only when it is the manifest's route); errors diagnosed. */
int run_write_manifest(struct run *r);

/* Removes the files that hold the run's HMAC key (the manifest and its disk image) from
 * the run directory. Called once the hypervisor has the disk open, and again at cleanup:
 * the key is never on disk longer than the VM that needs it, --keep or not. */
void run_forget_key(struct run *r);

/* Parses the guest's report, acknowledges it and records the host's verdict. */
void run_judge_report(struct run *r, const uint8_t *buf, size_t len);

/* Reads the rest of the console and keeps its last lines in the result. */
void run_console_final(struct run *r);

/* The outcome, the phase reached and whether that was expected, into the result. */
void run_settle(struct run *r);

/* The console log into the result: kept in place with --keep, else copied to log_dir. */
void run_keep_log(struct run *r);

/* Hands the diagnosis to the result, closes the report channel and the console, removes
 * the run directory (unless --keep), clears the key and frees the run. */
void run_cleanup(struct run *r);
