/* run_common: the steps of one case run that do not depend on the hypervisor, shared by
 * runner.c (QEMU) and ch_runner.c (cloud-hypervisor) over the state both keep in a
 * struct run_core.
 *
 * Promises:
 * - The first diagnosis of a run wins (run_diag()); nothing here logs.
 * - A credential value is loaded, hashed into the manifest, handed to the launcher and
 *   cleared (secret_clear()) in run_take_credential(); it never reaches a diagnosis.
 * - run_cleanup() removes the private directory unless --keep, clears the HMAC key and
 *   frees what the core holds; the result keeps the diagnosis. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/case.h"
#include "runner/console.h"
#include "digest.h"
#include "runner/image.h"
#include "runner/report_channel.h"
#include "runner/report_check.h"
#include "output/result.h"
#include "runner/runner.h"

#define RUN_KEY_BYTES 32

struct run_core {
	const struct run_opts *o;
	const struct test_case *tc;
	struct case_result *res;
	struct run_live *live;
	long long t0;               /* mono_ms() when the run began */
	struct case_view view;
	struct guest_image img;
	char *dir;                  /* the private 0700 run directory */
	uint8_t key[RUN_KEY_BYTES]; /* this run's manifest HMAC key */
	struct sent_cred *sent;
	size_t n_sent;
	char manifest_sha[DIGEST_HEX_LEN + 1];
	struct report_channel ch;
	struct console_watch con;
	char *diag;                 /* the first problem that ended the run early */
	enum case_outcome got;
};

void run_diag(struct run_core *rc, enum case_outcome got, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "<dir>/NAME", malloc'd, or NULL. */
char *run_path(const struct run_core *rc, const char *name);

/* Resets RES and fills in what it ran (case, image, ACCEL, TRANSPORT), then marks LIVE
 * active. Returns < 0, LIVE untouched, when the case has no view for IMAGE. */
int run_begin(struct run_core *rc, const struct run_opts *o, const struct test_case *tc, const char *image,
	      struct run_live *live, struct case_result *res, const char *accel, const char *transport);

/* The run's duration into the result; LIVE is no longer active. */
void run_end(struct run_core *rc);

/* Loads the image (when it is missing the case is skipped: -ENOENT) and creates the
 * private directory $TMPDIR/credscope-TAG-XXXXXX (-EIO, diagnosed). */
int run_prepare(struct run_core *rc, const char *tag);

/* Takes ownership of *V (and sets it NULL) or leaves it to the caller, who clears it. */
typedef int (*run_hand_over_fn)(void *ctx, const struct case_cred *c, uint8_t **v, size_t len);

/* Loads C's value, records it for the manifest, hands it to LAUNCHER (its name, for the
 * diagnosis) through HAND_OVER(CTX, ...) and clears what is left of it. Returns 0 or
 * -errno, diagnosed. */
int run_take_credential(struct run_core *rc, const struct case_cred *c, const char *launcher,
			run_hand_over_fn hand_over, void *ctx);

/* The manifest disk in the run directory (*IMAGE, malloc'd); errors diagnosed. */
int run_write_manifest(struct run_core *rc, char **image);

/* Parses the guest's report, acknowledges it and records the host's verdict. */
void run_judge_report(struct run_core *rc, const uint8_t *buf, size_t len);

/* Reads the rest of the console and keeps its last lines in the result. */
void run_console_final(struct run_core *rc);

/* The outcome, the phase reached and whether that was expected, into the result. */
void run_settle(struct run_core *rc);

/* Hands the diagnosis to the result, closes the report channel and the console, removes
 * the run directory (unless --keep), clears the key and frees the core. */
void run_cleanup(struct run_core *rc);
