/* output: aligned text tables and colour, for the agent's human-readable output.
 *
 * Promise: a table collects rows of strings, then prints them with every column padded to
 * its widest cell (by display columns of UTF-8 text), like `systemd-creds list`. Colour is
 * emitted only when the caller says so (stdout is a TTY and NO_COLOR is unset); widths never
 * count escape sequences. Cells are copied; callers keep ownership of their strings.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "strutil.h"   /* text_escape(): what every cell and report string goes through */

enum color { COLOR_NONE, COLOR_GREEN, COLOR_YELLOW, COLOR_RED, COLOR_BOLD, COLOR_GREY };

struct table;

struct table *table_new(size_t n_columns, const char *const *headers);
/* cells has n_columns entries (NULL prints "-"); colors may be NULL. Returns 0 or -ENOMEM. */
int table_add_row(struct table *t, const char *const *cells, const enum color *colors);
void table_print(const struct table *t, FILE *f, bool color);
size_t table_rows(const struct table *t);
void table_free(struct table *t);

/* The escape sequence that starts c, or "" when color is false. color_off() ends it. */
const char *color_on(bool color, enum color c);
const char *color_off(bool color);
/* Whether colour should be used on stdout: isatty(1) and no NO_COLOR in the environment. */
bool color_wanted(void);
/* "27B", "4.0K", "1.0M": like systemd's FORMAT_BYTES for sizes in listings. */
const char *format_bytes(size_t n, char *buf, size_t len);

/* The edge's one error line: "credscope: ERROR" on stderr ("out of memory" when ERROR is
 * NULL: the only failure that leaves no sentence). Frees ERROR; returns 2, the exit status
 * of an environment error. */
int cli_fail(char *error);
