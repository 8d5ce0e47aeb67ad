/* pid1_lines: what PID 1 itself logs about its credential import, per version, as data.
 *
 * Promise: pid1_line_parse() recognizes one line of PID 1's log (the text after
 * "systemd[1]: ", as the kernel escaped it: kmsg.h) as one of the import's lines, by the
 * format strings of src/core/import-creds.c (docs/systemd-versions.md §3.4, §3.5).
 * pid1_expect_lines() lists, in PID 1's order, the lines a prediction says PID 1 logged at
 * info level or above (its default; debug lines are never expected), the version's row
 * (versions.h) deciding which lines exist. Names are printed raw by systemd and escaped by the
 * kernel, so both sides are compared in that form (text_escape(), the same escaping). An
 * expected line is `required` (its absence from a whole log disagrees) only while PID 1 still
 * wrote to /dev/kmsg: a line longer than the kernel accepts fails with EINVAL, and PID 1 then
 * closes /dev/kmsg and logs to the console (log_dispatch_internal(), src/basic/log.c:839-843
 * @257.13, :717-721@252.39). A name with a newline is split into two lines by PID 1
 * (src/basic/log.c:810@257.13): no line is expected for it. Pure.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "systemd/import_types.h"
#include "systemd/versions.h"

/* The longest message PID 1 gets into /dev/kmsg: devkmsg_write() refuses writes longer than
 * LOG_LINE_MAX = 1024 - 32 (kernel/printk/printk.c:388-398,665@6.1.176; PRINTKRB_RECORD_MAX =
 * 1024 in 6.12, kernel/printk/internal.h:52@6.12.107, the smaller taken), and PID 1 writes
 * "<30>systemd[1]: " (16 bytes), the message and "\n" (write_to_kmsg(), src/basic/log.c:594-644
 * @257.13). */
#define PID1_KMSG_WRITE_MAX 992u
#define PID1_KMSG_MESSAGE_MAX (PID1_KMSG_WRITE_MAX - 17u)

enum pid1_line_kind {
	PID1_LINE_ACQUIRED,          /* Acquired %i regular credentials, %i untrusted credentials. */
	PID1_LINE_RECEIVED,          /* Received regular credentials: %s */
	PID1_LINE_IMPORT_DISABLED,   /* systemd.import_credentials=no is set, skipping importing of credentials. */
	PID1_LINE_SMBIOS_NO_EQ,      /* SMBIOS OEM string lacks '=' character, ignoring. */
	PID1_LINE_SMBIOS_BAD_NAME,   /* SMBIOS credential name '%s' is not valid, ignoring. (or ": %m") */
	PID1_LINE_SMBIOS_BAD_BASE64, /* Failed to base64 decode credential '%s', ignoring: %m */
	PID1_LINE_CMDLINE_NO_COLON,  /* Credential assignment through kernel command line lacks ':' ... */
	PID1_LINE_CMDLINE_BAD_NAME,  /* Credential name '%s' is invalid, ignoring. */
	PID1_LINE_CMDLINE_BAD_BINARY,/* Failed to decode binary credential '%s' data, ignoring: %m */
	PID1_LINE_FILE_BAD_NAME,     /* Credential '%s' has invalid name, ignoring. (fw_cfg, @initrd) */
	PID1_LINE_TOO_LARGE,         /* Credential '%s' is larger than allowed limit (%s > %s), skipping. */
	PID1_LINE_BUDGET,            /* Accumulated credential size would be above allowed limit ..., skipping '%s'. */
	PID1_LINE_WRITE_FAILED,      /* Failed to write credential: %m (SMBIOS, command line) */
	PID1_LINE_COPY_FAILED,       /* Failed to create credential '%s': %m (fw_cfg, @initrd) */
	PID1_LINE_CREATE_FAILED,     /* Failed to create /run/credentials/@system/%s: %m */
	PID1_LINE_CMDLINE_FAILED,    /* Failed to parse /proc/cmdline: %m */
	_PID1_LINE_MAX,
};

/* The %m text of an ENOSPC, as a full credential store makes PID 1 print it. */
#define PID1_ENOSPC_TEXT "No space left on device"

/* One recognized line. Strings are kernel-escaped, malloc'd. */
struct pid1_line {
	enum pid1_line_kind kind;
	char *name;                /* the credential name, NULL for unnamed kinds */
	char *value;               /* RECEIVED: the list; *_FAILED: the %m text; NULL otherwise */
	long regular;              /* ACQUIRED */
};

/* 1 when TEXT is one of the import's lines (*out filled), 0 when not, -ENOMEM. */
int pid1_line_parse(const char *text, struct pid1_line *out);
void pid1_line_free(struct pid1_line *l);

/* Whether the version of REL logs lines of kind K at all (the Received/Acquired pair from 254,
 * the binary command line warning where systemd.set_credential_binary= exists). */
bool pid1_line_logged_by(enum pid1_line_kind k, const struct systemd_release *rel);

/* The line as PID 1 prints it, for sentences: NAME and VALUE raw (NULL when not known),
 * numbers it does not know as "...", never a credential value. malloc'd, NULL on ENOMEM. */
char *pid1_line_text(enum pid1_line_kind k, const char *name, const char *value, long regular);

struct pid1_expect {
	enum pid1_line_kind kind;
	char *name;                /* kernel-escaped; NULL for unnamed kinds */
	char *value;               /* RECEIVED: the escaped list; *_FAILED: PID1_ENOSPC_TEXT */
	long regular;              /* ACQUIRED */
	const struct cred_candidate *cand;   /* the candidate it is about, or NULL */
	size_t length;             /* bytes of the message PID 1 writes (about: sizes are not known) */
	bool required;             /* PID 1 wrote it to /dev/kmsg (see above) */
};

/* The lines P implies, in PID 1's order. None when this PID 1 did not import (a preset
 * $CREDENTIALS_DIRECTORY, no import before 251). 0 or -ENOMEM. */
int pid1_expect_lines(const struct prediction *p, struct pid1_expect **out, size_t *n);
void pid1_expect_free(struct pid1_expect *e, size_t n);
