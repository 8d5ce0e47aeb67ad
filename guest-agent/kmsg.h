/* kmsg: the kernel's log (/dev/kmsg), read once, record by record, never waited for.
 *
 * Promise: kmsg_load() reads the records the kernel still holds, oldest first: under root "/"
 * from the character device /dev/kmsg (O_RDONLY|O_NONBLOCK, one record per read(), EAGAIN is
 * the end, EPIPE means records were overwritten while reading: counted, reading goes on);
 * under --root DIR only from DIR/dev/kmsg when that is a regular file holding the same records
 * one per line (file_read_bounded()), never from the real device. It stops at KMSG_RECORDS_MAX
 * records or KMSG_TOTAL_MAX bytes. It keeps what the PID 1 cross-check needs (pid1_check.h):
 * PID 1's own records ("systemd[1]: ..."), the kernel's note that it suppressed lines of a
 * process named systemd, and what says whether the log is whole (the first sequence number,
 * gaps, overwritten or malformed records, a cap, kernel.printk_devkmsg). Texts stay as the
 * kernel escaped them: every byte outside 0x20..0x7e, and '\', as \xNN (msg_add_ext_text(),
 * kernel/printk/printk.c:581-589@6.1.176, :694@6.12.107), which is text_escape()'s form
 * (strutil.h). A log that cannot be read is "not read" with the reason, never an error.
 * /dev/kmsg is the one device the agent reads: common/fileio refuses devices, so this module
 * opens it itself, checks it is a character device and bounds it the same way.
 * kmsg_parse_record() is the pure parser of one record (fuzzed: tests/fuzz/fuzz_kmsg.c).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest record a read() of /dev/kmsg returns: CONSOLE_EXT_LOG_MAX
 * (include/linux/printk.h:47@6.1.176). */
#define KMSG_RECORD_MAX 8192u
#define KMSG_TOTAL_MAX (4u * 1024u * 1024u)
#define KMSG_RECORDS_MAX 100000u

struct kmsg_record {
	unsigned prio;             /* facility * 8 + level */
	uint64_t seq, usec;
	const char *text;          /* points into the parsed input; not NUL-terminated */
	size_t text_len;
};

/* One record "PRIO,SEQ,USEC,FLAGS[,MORE...];TEXT" (Documentation/ABI/testing/dev-kmsg),
 * without its continuation lines: 0, or -EBADMSG naming nothing (the caller counts it). */
int kmsg_parse_record(const char *s, size_t len, struct kmsg_record *out);

struct kmsg_line {             /* one record of PID 1 */
	unsigned level;
	uint64_t seq, usec;
	char *text;                /* after "systemd[1]: ", kernel-escaped, NUL-terminated */
};

struct kmsg_log {
	bool read;                 /* records were read: the source is "/dev/kmsg" */
	char why_not[160];         /* when !read: why not, one clause */
	size_t n_records;
	uint64_t first_seq, last_seq;
	size_t missing;            /* records lost between two read ones (sequence gaps, EPIPE) */
	size_t malformed;          /* records that did not parse */
	bool capped;               /* stopped at KMSG_RECORDS_MAX or KMSG_TOTAL_MAX */
	bool read_error;           /* a read() failed otherwise: the rest is unseen */
	/* "printk: systemd: N output lines suppressed due to ratelimiting": the kernel dropped
	 * lines of a process named systemd (ratelimit_state_exit(), include/linux/ratelimit.h:25-35
	 * @6.1.176, pr_fmt "printk: " at kernel/printk/printk.c:20); the sum of N */
	size_t systemd_suppressed;
	char devkmsg[16];          /* /proc/sys/kernel/printk_devkmsg ("on", "ratelimit", "off"), "" unread */
	struct kmsg_line *pid1;    /* in log order */
	size_t n_pid1;
};

/* Reads ROOT's kernel log as above. 0, or -ENOMEM (then *out holds nothing). */
int kmsg_load(const char *root, struct kmsg_log *out);
void kmsg_log_free(struct kmsg_log *log);

/* Adds one record (the parser's view of S) to LOG: what kmsg_load() does per record, exposed
 * for the fuzzer and the tests. 0 or -ENOMEM. */
int kmsg_log_add(struct kmsg_log *log, const char *s, size_t len);

/* The kernel's escaping undone: "\xNN" (lowercase hex, as the kernel writes it) becomes the
 * byte NN, except NUL, which stays "\x00"; anything else is copied. malloc'd, NULL on ENOMEM. */
char *kmsg_unescape(const char *s);
