/* proc_cmdline: the one kernel command line parser in credscope, systemd's.
 *
 * Promise: words are split as upstream proc_cmdline_parse() / proc_cmdline_get_key()
 * (src/basic/proc-cmdline.c) split them with extract_first_word(EXTRACT_UNQUOTE |
 * EXTRACT_RELAX | EXTRACT_RETAIN_ESCAPE) (src/basic/extract-word.c): blanks are WHITESPACE
 * " \t\n\r" (src/basic/string-util.h:13@v252), so a newline is one more separator;
 * '...' and "..." group and are removed (also mid-word), backslashes stay literal, an
 * unterminated quote runs to the end of the input (its newline included).
 * /proc/cmdline is read whole: read_virtual_file() in 252.19+/253.13+ (969268ea,
 * src/basic/proc-cmdline.c:39@252.39), read_full_file() from 254
 * (src/basic/proc-cmdline.c:163@v254, :155@257.13, :182@262); the 252 and 253 tags read
 * one line (read_one_line_file(), :39@v252), which credscope does not model. The EFI
 * SystemdOptions variable is still read as one line (read_one_line_file() of the cache,
 * src/basic/efivars.c:428@252.39).
 * Keys compare with '-' and '_' equal (proc_cmdline_key_streq()). Pure: the callers read
 * the file. Words may carry credential values: every word buffer is cleared before it is
 * freed.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Length of the first line of S: up to the first '\n', '\r' or NUL. */
size_t proc_cmdline_line_len(const char *s);

/* The next word of [*p, end), unquoted, malloc'd into *ret; *p moves past it. Returns 1, 0 at
 * the end, or -ENOMEM. */
int proc_cmdline_next_word(const char **p, const char *end, char **ret);

/* proc_cmdline_key_streq(): A and B are equal when '-' and '_' are taken as the same. */
bool proc_cmdline_key_eq(const char *a, const char *b);

/* The value of the last KEY=VALUE word of [text, end), malloc'd into *value (freed and
 * replaced on each match). Returns 1 if found, 0 if not, -ENOMEM. */
int proc_cmdline_get_key_in(const char *text, const char *end, const char *key, char **value);
/* The same over the whole NUL-terminated TEXT: how /proc/cmdline is read. */
int proc_cmdline_get_key_whole(const char *text, const char *key, char **value);
/* The same over the first line of LINE only: how the SystemdOptions EFI variable is read
 * (read_one_line_file()). */
int proc_cmdline_get_key(const char *line, const char *key, char **value);

/* parse_boolean() (src/basic/parse-util.c): 1 for "1", "yes", "y", "true", "t", "on", 0 for
 * their opposites (case-insensitive), -EINVAL otherwise. */
int proc_cmdline_parse_boolean(const char *v);
