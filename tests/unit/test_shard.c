/* Unit tests for shard: parsing I/N, and that for N = 1..5 the shards of the default
 * suite (the JSON files in tests/integration/cases) and of a synthetic one are disjoint and whole. */
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runner/shard.h"

static void test_shard_spec_parses_index_and_count(void **state)
{
	unsigned i = 0, n = 0;
	char *error = NULL;

	assert_int_equal(shard_parse("2/4", &i, &n, &error), 0);
	assert_int_equal(i, 2);
	assert_int_equal(n, 4);
	assert_null(error);
	assert_int_equal(shard_parse("1/1", &i, &n, NULL), 0);
}

static void test_bad_shard_specs_are_rejected_with_an_example(void **state)
{
	static const char *const bad[] = { "0/4", "5/4", "1/0", "1/", "/4", "a/b", "1/4x", "01/4", "1/1001", "", "-1/4" };
	unsigned i, n;

	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		char *error = NULL;
		assert_int_equal(shard_parse(bad[k], &i, &n, &error), -EINVAL);
		assert_non_null(strstr(error, "expected I/N with 1 <= I <= N <= 1000, e.g. --shard 2/4"));
		free(error);
	}
}

/* Every name in exactly one shard, for each N in 1..5; sizes differ by at most one. */
static void assert_partition(size_t n_names, const char *const names[])
{
	bool *selected = calloc(n_names + 1, sizeof *selected);
	unsigned *owner = calloc(n_names + 1, sizeof *owner);

	for (unsigned count = 1; count <= 5; count++) {
		int min_size = (int)n_names, max_size = 0;
		memset(owner, 0, (n_names + 1) * sizeof *owner);
		for (unsigned index = 1; index <= count; index++) {
			int got = shard_select(n_names, names, index, count, selected);
			int seen = 0;
			assert_true(got >= 0);
			for (size_t k = 0; k < n_names; k++) {
				if (!selected[k])
					continue;
				assert_int_equal(owner[k], 0);  /* no overlap */
				owner[k] = index;
				seen++;
			}
			assert_int_equal(seen, got);
			min_size = got < min_size ? got : min_size;
			max_size = got > max_size ? got : max_size;
		}
		for (size_t k = 0; k < n_names; k++)
			assert_int_not_equal(owner[k], 0);  /* union is the whole suite */
		assert_true(max_size - min_size <= 1);
	}
	free(selected);
	free(owner);
}

static void test_shards_of_a_synthetic_suite_are_disjoint_and_whole(void **state)
{
	char buf[40][16];
	const char *names[40];

	for (int k = 0; k < 40; k++) {
		snprintf(buf[k], sizeof buf[k], "case-%02d", (k * 17) % 40);
		names[k] = buf[k];
	}
	assert_partition(40, names);
}

static void test_shards_of_the_default_suite_are_disjoint_and_whole(void **state)
{
	glob_t g;
	const char **names;

	if (glob("tests/integration/cases/*.json", 0, NULL, &g) != 0) {
		print_message("no default cases in tests/integration/cases\n");
		skip();
	}
	names = calloc(g.gl_pathc, sizeof *names);
	assert_non_null(names);
	for (size_t k = 0; k < g.gl_pathc; k++) {
		json_t *c = json_load_file(g.gl_pathv[k], 0, NULL);
		assert_non_null(c);
		assert_non_null(json_string_value(json_object_get(c, "name")));
		names[k] = strdup(json_string_value(json_object_get(c, "name")));
		json_decref(c);
	}
	assert_partition(g.gl_pathc, names);
	for (size_t k = 0; k < g.gl_pathc; k++)
		free((char *)names[k]);
	free(names);
	globfree(&g);
}

static void test_assignment_follows_sorted_names_not_argument_order(void **state)
{
	const char *const forward[] = { "alpha", "bravo", "charlie", "delta", "echo" };
	const char *const shuffled[] = { "echo", "charlie", "alpha", "delta", "bravo" };
	bool a[5], b[5];

	assert_int_equal(shard_select(5, forward, 1, 2, a), 3);
	assert_true(a[0] && !a[1] && a[2] && !a[3] && a[4]);  /* alpha, charlie, echo */
	assert_int_equal(shard_select(5, shuffled, 1, 2, b), 3);
	assert_true(b[0] && b[1] && b[2] && !b[3] && !b[4]);  /* echo, charlie, alpha */
}

static void test_shard_index_out_of_range_is_refused(void **state)
{
	const char *const names[] = { "a" };
	bool sel[1];

	assert_int_equal(shard_select(1, names, 0, 3, sel), -EINVAL);
	assert_int_equal(shard_select(1, names, 4, 3, sel), -EINVAL);
}

static void test_each_shard_gets_its_own_junit_file(void **state)
{
	char *p = shard_junit_path("out/junit.xml", 2, 4);
	assert_string_equal(p, "out/junit.shard-2-of-4.xml");
	free(p);
	p = shard_junit_path("results", 1, 3);
	assert_string_equal(p, "results.shard-1-of-3.xml");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shard_spec_parses_index_and_count),
		cmocka_unit_test(test_bad_shard_specs_are_rejected_with_an_example),
		cmocka_unit_test(test_shards_of_a_synthetic_suite_are_disjoint_and_whole),
		cmocka_unit_test(test_shards_of_the_default_suite_are_disjoint_and_whole),
		cmocka_unit_test(test_assignment_follows_sorted_names_not_argument_order),
		cmocka_unit_test(test_shard_index_out_of_range_is_refused),
		cmocka_unit_test(test_each_shard_gets_its_own_junit_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
