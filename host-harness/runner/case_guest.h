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
 * DIR. *guest stays NULL when the case names no guest. On -EINVAL *msg (malloc'd) is one
 * sentence starting with the field; -ENOMEM otherwise. */
int case_guest_parse(json_t *root, const char *dir, struct case_guest **guest, enum case_firmware *firmware,
		     bool *firmware_given, char **msg);
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
