/* case: one harness test case (shared/DESIGN.md "Harness case", extended in docs/harness.md).
 *
 * Promise: case_parse() reads a case document strictly (unknown fields, duplicate keys,
 * wrong types are errors whose message names the file and the field, e.g.
 * "cases/x.json: credentials[2].via: ..."). Values given inline are test data, not secrets;
 * credentials from "file" or "random" are secrets and are only read when a run starts
 * (case_cred_load()). case_view() merges the per-image overrides ("by_image") for one
 * image flavor, so the runner never has to know about them.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor/hypervisor.h"   /* enum cred_via, FW_CFG_NAME_MAX: the delivery paths */
#include "runner/case_guest.h"   /* struct case_guest, enum case_firmware */
#include "output/result.h"   /* enum case_outcome, case_outcome_name() */

#define CASE_MAX_SIZE (1024u * 1024u)
#define CASE_RANDOM_MAX (2u * 1024u * 1024u)
#define CASE_MEMORY_MIN_MB 128u     /* what QEMU and --memory accept at least */
#define CASE_MEMORY_MAX_MB 16384u
/* Which hypervisor boots the case ("hypervisor" field; QEMU by default). */
enum case_hypervisor { HV_QEMU, HV_CLOUD_HYPERVISOR };
/* How the guest gets the manifest: fw_cfg opt/io.credscope/manifest where the hypervisor has
 * fw_cfg (QEMU), else the expectations disk; "expectations": "disk" asks for the disk. */
enum case_expectations { EXPECT_VIA_DEFAULT, EXPECT_VIA_FW_CFG, EXPECT_VIA_DISK };
enum case_expect { CEXPECT_EXACT, CEXPECT_ABSENT, CEXPECT_PRESENT, CEXPECT_DIFFERENT };

struct case_cred {
	char *name;
	enum cred_via via;
	char *value;          /* inline test value (not secret), or NULL */
	size_t value_len;
	char *file;           /* absolute path, or NULL: a secret read at start */
	size_t random_len;    /* > 0: a fresh random secret of this size per run */
};

struct case_expectation {
	char *name;
	enum case_expect kind;
};

/* "fw_cfg_raw" (test only): a fw_cfg file by its whole name, for names no credential path
 * gives, such as opt/io.systemd.credentials/sub/X (the guest kernel makes `sub` a
 * directory). The value is inline test data, never a secret. */
struct case_fw_cfg_raw {
	char *name;           /* opt/..., at most FW_CFG_NAME_MAX characters */
	char *value;
	size_t value_len;
};

/* "expect_fate": some report source must have this fate (count: exactly that many). */
struct case_fate {
	char *name;           /* NULL: any name */
	char *source;         /* NULL: any source */
	char *fate;
	int count;            /* -1: at least one */
};

struct case_override {
	char *image;
	struct case_expectation *expect;
	size_t n_expect;
	struct case_fate *fates;
	size_t n_fates;
	bool has_outcome;
	enum case_outcome outcome;
	char *diagnosis;
};

struct test_case {
	char *path;           /* as given */
	char *name;
	char **images;        /* NULL: every flavor the runner knows */
	size_t n_images;
	char *machine;        /* q35 (also when absent), pc, microvm, virt */
	bool machine_given;   /* "machine" was in the case: an aarch64 run boots virt only when not */
	enum guest_arch arch;             /* "arch": x86_64 (default) or aarch64 */
	bool arch_given;                  /* "arch" (or "machine": "virt") was in the case; else the flavor's decides */
	struct case_guest *guest;         /* the case's own guest, or NULL: the flavors (images) */
	enum case_firmware firmware;      /* bios (SeaBIOS, default) or uefi (OVMF) */
	bool firmware_given;              /* "firmware" was in the case (--firmware does not override it) */
	char *smbios_entry_point;         /* the entry point the report must name ("_SM3_"), or NULL */
	enum case_hypervisor hypervisor;  /* HV_CLOUD_HYPERVISOR: ch_runner.c runs it */
	enum case_expectations expectations;
	struct case_cred *creds;
	size_t n_creds;
	char **oem_strings;
	size_t n_oem_strings;
	struct case_fw_cfg_raw *fw_cfg_raw;
	size_t n_fw_cfg_raw;
	struct case_expectation *expect;
	size_t n_expect;
	struct case_fate *fates;
	size_t n_fates;
	struct case_override *overrides;
	size_t n_overrides;
	bool strict;
	bool differential;           /* judge the model against PID 1 (runner/differential.h), no expectations */
	bool zero_install;           /* the agent's unit by credential, the agent on the disk (runner/zero_install.h) */
	enum case_outcome outcome;   /* expected host verdict, default pass */
	char *diagnosis;             /* substring the host diagnosis must contain, or NULL */
	char *cmdline_extra;         /* test-only kernel command line additions */
	unsigned first_contact_s;    /* 0: runner default */
	unsigned verdict_s;
	unsigned idle_s;             /* no console output and no report this long: hung */
	unsigned memory_mb;          /* 0: runner default */
};

/* One case as seen for one image flavor (pointers into the test_case; free with free()). */
struct case_view {
	const struct test_case *tc;
	const char *image;
	struct case_expectation *expect;   /* malloc'd array, override wins per name */
	size_t n_expect;
	const struct case_fate **fates;    /* malloc'd array of pointers */
	size_t n_fates;
	enum case_outcome outcome;
	const char *diagnosis;
};

int case_parse(const char *buf, size_t len, const char *path, struct test_case *out, char **error);
int case_load(const char *path, struct test_case *out, char **error);
/* Loads the N case files of one run into *out (calloc'd, N entries; free with
 * case_free_all()). Fails on the first bad file, or when two files give the same "name"
 * (their console logs and JUnit names would collide): the error names both files. */
int case_load_all(const char *const *paths, size_t n, struct test_case **out, char **error);
void case_free_all(struct test_case *cases, size_t n);
/* Every flavor the case names ("image", "by_image") must be one of KNOWN (the run's
 * --images and the flavors built in IMAGE_DIR): a typo would otherwise run nowhere and
 * pass. The error names the case file, the field, the value and the flavors in IMAGE_DIR. */
int case_check_flavors(const struct test_case *tc, const char *const *known, size_t n_known, const char *image_dir,
		       const char *const *built, size_t n_built, char **error);
void case_free(struct test_case *tc);
/* Boots TC on GUEST (a copy) instead of its flavors (credscope-harness run --guest-*), and on
 * FIRMWARE unless the case names its own; a case with its own "guest" keeps it. The error
 * names the case file and what of it cannot run on that guest. */
int case_use_guest(struct test_case *tc, const struct case_guest *guest, const enum case_firmware *firmware,
		   char **error);
/* `run --zero-install`: TC as if it said "zero_install": true; the error names the case file
 * and why it cannot (cloud-hypervisor, microvm, a credential by the names it sends). */
int case_use_zero_install(struct test_case *tc, char **error);
bool case_runs_on(const struct test_case *tc, const char *image);
int case_view(const struct test_case *tc, const char *image, struct case_view *out);
void case_view_free(struct case_view *v);
/* The expectation for NAME in the view; CEXPECT_EXACT when the case says nothing. */
enum case_expect case_view_expect(const struct case_view *v, const char *name, bool *listed);

/* Reads/generates the bytes of one credential. Secret ones land in a buffer the caller
 * must secret_clear() and free(). Errors name the credential and the file, never bytes. */
int case_cred_load(const struct case_cred *c, uint8_t **out, size_t *out_len, char **error);
bool case_cred_is_secret(const struct case_cred *c);

const char *cred_via_name(enum cred_via v);
const char *case_expect_name(enum case_expect k);
