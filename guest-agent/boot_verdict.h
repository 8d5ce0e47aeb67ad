/* boot_verdict: the verdict credscope-generator reached while PID 1 started (cmd_generator.c),
 * kept for the units of the same boot in ROOT/run/credscope/ (a tmpfs: gone at the next boot).
 *
 * Two files, both root-only (0600 in a 0700 directory): report.json, the report exactly as
 * `credscope report` sends it (docs/report.md), and verdict.txt, the verdict as `credscope
 * verify` prints it, ending with its CREDSCOPE-VERDICT line. Each is written to a temporary
 * name and renamed; verdict.txt goes last, so its presence means both are complete.
 * A third, delivered.txt, says that the generator also sent the report and what the host
 * answered: three lines, the destination, the ack's status and its message (may be empty).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define BOOT_VERDICT_DIR "/run/credscope"

struct boot_verdict {
	char *text;          /* verdict.txt, NUL-terminated */
	char *report;        /* report.json, NUL-terminated */
	size_t report_len;
	int status;          /* from the text's CREDSCOPE-VERDICT line: 0 pass, 1 fail, 2 error */
	char *path;          /* ROOT/run/credscope/verdict.txt, for messages */
	/* delivered.txt, when the generator sent the report itself: the destination, the
	 * host's ack status and message (escaped, text_escape()); NULL when it did not */
	char *delivered_to, *ack_status, *ack_message;
};

/* Saves both files. Returns 0 or -errno with *error set (one sentence naming the file). */
int boot_verdict_save(const char *root, const char *text, const char *report, char **error);
/* Records that the report went to TO and the host answered STATUS [MESSAGE] (host text:
 * escaped here). Returns 0 or -errno with *error set. */
int boot_verdict_save_delivery(const char *root, const char *to, const char *status, const char *message,
			       char **error);
/* true when this boot already has one (the generator runs again at every daemon-reload). */
bool boot_verdict_exists(const char *root);
/* Loads it: 0, -ENOENT when there is none, other -errno with *error set. */
int boot_verdict_load(const char *root, struct boot_verdict *bv, char **error);
void boot_verdict_free(struct boot_verdict *bv);
/* The exit status a text's last "CREDSCOPE-VERDICT: WORD" line stands for, -1 if none. */
int boot_verdict_status(const char *text);
