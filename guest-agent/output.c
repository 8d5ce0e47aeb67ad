/* output: aligned tables with optional colour. */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct table {
	size_t n_columns, n_rows;
	char **cells;             /* (n_rows + 1) * n_columns, row 0 = headers */
	enum color *colors;
};

struct table *table_new(size_t n_columns, const char *const *headers)
{
	struct table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->n_columns = n_columns;
	if (table_add_row(t, headers, NULL) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

int table_add_row(struct table *t, const char *const *cells, const enum color *colors)
{
	size_t base = t->n_rows * t->n_columns;
	char **nc = realloc(t->cells, (base + t->n_columns) * sizeof *nc);
	if (!nc)
		return -ENOMEM;
	t->cells = nc;
	enum color *ncol = realloc(t->colors, (base + t->n_columns) * sizeof *ncol);
	if (!ncol)
		return -ENOMEM;
	t->colors = ncol;
	for (size_t i = 0; i < t->n_columns; i++) {
		t->cells[base + i] = text_escape(cells[i] ? cells[i] : "-");
		t->colors[base + i] = colors ? colors[i] : COLOR_NONE;
		if (!t->cells[base + i]) {
			for (size_t j = 0; j < i; j++)
				free(t->cells[base + j]);
			return -ENOMEM;
		}
	}
	t->n_rows++;
	return 0;
}

size_t table_rows(const struct table *t)
{
	return t ? t->n_rows - 1 : 0;
}

/* Display width: count UTF-8 lead bytes, not continuation bytes. */
static size_t width_of(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void table_print(const struct table *t, FILE *f, bool color)
{
	size_t *widths = calloc(t->n_columns, sizeof *widths);
	if (!widths)
		return;
	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_columns; c++) {
			size_t w = width_of(t->cells[r * t->n_columns + c]);
			if (w > widths[c])
				widths[c] = w;
		}
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_columns; c++) {
			const char *cell = t->cells[r * t->n_columns + c];
			enum color col = r == 0 ? COLOR_BOLD : t->colors[r * t->n_columns + c];
			bool last = c + 1 == t->n_columns;
			fprintf(f, "%s%s%s", color_on(color, col), cell, col != COLOR_NONE ? color_off(color) : "");
			if (!last)
				fprintf(f, "%*s", (int)(widths[c] - width_of(cell) + 1), "");
		}
		fputc('\n', f);
	}
	free(widths);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->colors);
	free(t);
}

const char *color_on(bool color, enum color c)
{
	if (!color)
		return "";
	switch (c) {
	case COLOR_GREEN: return "\033[0;32m";
	case COLOR_YELLOW: return "\033[0;33m";
	case COLOR_RED: return "\033[0;31m";
	case COLOR_BOLD: return "\033[1m";
	case COLOR_GREY: return "\033[0;90m";
	case COLOR_NONE: break;
	}
	return "";
}

const char *color_off(bool color)
{
	return color ? "\033[0m" : "";
}

bool color_wanted(void)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(nc && nc[0]);
}

const char *format_bytes(size_t n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%zuB", n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1fK", (double)n / 1024);
	else
		snprintf(buf, len, "%.1fM", (double)n / (1024 * 1024));
	return buf;
}

int cli_fail(char *error)
{
	fprintf(stderr, "credscope: %s\n", error ? error : "out of memory");
	free(error);
	return 2;
}
