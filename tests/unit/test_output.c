/* output: tables align like systemd-creds list, colour only when asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "output.h"

static char *print(const struct table *t, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	table_print(t, f, color);
	fclose(f);
	return buf;
}

static void test_columns_are_padded_to_the_widest_cell(void **state)
{
	static const char *const h[] = { "NAME", "SECURE", "SIZE" };
	static const char *const r1[] = { "FOO", "secure", "3B" };
	static const char *const r2[] = { "with space", NULL, "1.0K" };
	struct table *t = table_new(3, h);
	assert_int_equal(table_add_row(t, r1, NULL), 0);
	assert_int_equal(table_add_row(t, r2, NULL), 0);
	assert_int_equal(table_rows(t), 2);
	char *s = print(t, false);
	assert_string_equal(s, "NAME       SECURE SIZE\n"
			       "FOO        secure 3B\n"
			       "with space -      1.0K\n");
	free(s);
	table_free(t);
}

static void test_colour_codes_do_not_count_towards_width(void **state)
{
	static const char *const h[] = { "A", "B" };
	static const char *const r[] = { "x", "y" };
	enum color c[] = { COLOR_GREEN, COLOR_NONE };
	struct table *t = table_new(2, h);
	assert_int_equal(table_add_row(t, r, c), 0);
	char *s = print(t, true);
	assert_string_equal(s, "\033[1mA\033[0m \033[1mB\033[0m\n\033[0;32mx\033[0m y\n");
	free(s);
	s = print(t, false);
	assert_string_equal(s, "A B\nx y\n");
	free(s);
	table_free(t);
}

static void test_sizes_are_formatted_like_systemd(void **state)
{
	char buf[32];
	assert_string_equal(format_bytes(0, buf, sizeof buf), "0B");
	assert_string_equal(format_bytes(1023, buf, sizeof buf), "1023B");
	assert_string_equal(format_bytes(1024, buf, sizeof buf), "1.0K");
	assert_string_equal(format_bytes(1048576, buf, sizeof buf), "1.0M");
}

static void test_host_controlled_bytes_are_escaped_for_terminals_and_json(void **state)
{
	char *e = text_escape("bad\033[31m\377name with space/x");
	assert_string_equal(e, "bad\\x1b[31m\\xffname with space/x");
	free(e);
	e = text_escape("a\\x01"); /* a literal backslash cannot pose as an escape */
	assert_string_equal(e, "a\\x5cx01");
	free(e);
	static const char *const h[] = { "NAME" };
	static const char *const r[] = { "a\nb" };
	struct table *t = table_new(1, h);
	assert_int_equal(table_add_row(t, r, NULL), 0);
	char *s = print(t, false);
	assert_string_equal(s, "NAME\na\\x0ab\n");
	free(s);
	table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_are_padded_to_the_widest_cell),
		cmocka_unit_test(test_colour_codes_do_not_count_towards_width),
		cmocka_unit_test(test_sizes_are_formatted_like_systemd),
		cmocka_unit_test(test_host_controlled_bytes_are_escaped_for_terminals_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
