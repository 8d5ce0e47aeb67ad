/* case_guest: a case's own guest instead of a built flavor ("guest"), the firmware that
 * boots it ("firmware") and its architecture ("arch"); docs/harness.md, docs/your-own-guest.md.
 *
 * Promise: case_guest_parse() reads those three fields strictly: unknown keys, wrong types,
 * a file that is missing, not a regular file (a FIFO, a device, a directory: the
 * file_open_regular() rules) or a disk whose first bytes contradict "format" are errors
 * naming the field ("guest.disk: ..."). Relative paths resolve against the case file's
 * folder. case_guest_fit() checks what the other case fields ask of the guest: a disk boot
 * has no kernel command line the harness can set, microvm has no UEFI and boots no disk.
 * The guest's files are only opened to check them: the runner boots them through a
 * throw-away overlay, never writing them.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>

#include "runner/image.h"   /* enum guest_arch */

/* The TAP/JUnit "image" column of a run on a case's own guest: "NAME on guest". */
#define CASE_GUEST_LABEL "guest"

enum case_firmware { FIRMWARE_BIOS, FIRMWARE_UEFI };

struct case_guest {
	char *kernel;    /* direct kernel boot, or NULL: the firmware boots DISK */
	char *initrd;    /* with kernel only, or NULL */
	char *disk;      /* root disk (direct boot) or the bootable disk; NULL: none */
	char *format;    /* DISK's format: "raw" (default) or "qcow2" */
	char *append;    /* with kernel only: the guest's kernel command line, or NULL */
};

/* The guest's fields of a case ("guest", "firmware", "arch" in ROOT), paths relative to
 * DIR. *guest stays NULL when the case names no guest; *arch is x86_64 when the case names
 * none (*arch_given false: a flavor's image.json decides). On -EINVAL *msg (malloc'd) is one
 * sentence starting with the field; -ENOMEM otherwise. */
int case_guest_parse(json_t *root, const char *dir, struct case_guest **guest, enum case_firmware *firmware,
		     bool *firmware_given, enum guest_arch *arch, bool *arch_given, char **msg);
/* What a case asks that its architecture cannot give, when both are in the case: aarch64
 * boots only the "virt" machine and only UEFI (AAVMF: virt's SMBIOS reaches the guest only
 * through the firmware), and "virt" is no x86_64 machine. The same rules hold for a run
 * whose architecture comes from the flavor (case_arch_misfit()). *msg as above. */
int case_arch_fit(enum guest_arch arch, bool arch_given, enum case_firmware fw, bool firmware_given,
		  const char *machine, bool machine_given, char **msg);
/* Why a case cannot run on a guest of architecture ARCH (a flavor's), as a sentence
 * (malloc'd; NULL when it can, or out of memory: *oom is set). Used for explained skips. */
char *case_arch_misfit(enum guest_arch arch, bool arch_given, enum guest_arch case_arch, enum case_firmware fw,
		       bool firmware_given, const char *machine, bool machine_given, bool *oom);
/* Checks one guest given outside a case file (credscope-harness run --guest-*): the same
 * file and format rules; FIELD_PREFIX names the options in *msg ("--guest-"). */
int case_guest_check(const struct case_guest *g, const char *field_prefix, char **msg);
/* Whether the rest of a case can run on this guest and firmware: MACHINE, whether it sends
 * credentials on the kernel command line (CMDLINE_CRED: that credential's name) or adds
 * kernel words (CMDLINE_EXTRA). *msg as for case_guest_parse(). */
int case_guest_fit(const struct case_guest *g, enum case_firmware fw, const char *machine, const char *cmdline_cred,
		   bool cmdline_extra, char **msg);
/* A deep copy (NULL for NULL); -ENOMEM. */
int case_guest_copy(const struct case_guest *g, struct case_guest **out);
void case_guest_free(struct case_guest *g);
const char *case_firmware_name(enum case_firmware fw);
/* The direct kernel boot words when the guest gives no "append": the console the harness
 * reads the boot phases from. */
#define CASE_GUEST_DEFAULT_APPEND "console=ttyS0"
/* ... on aarch64 (virt's PL011 UART). */
#define CASE_GUEST_DEFAULT_APPEND_AARCH64 "console=ttyAMA0"
