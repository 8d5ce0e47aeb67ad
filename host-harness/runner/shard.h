/* shard: splitting a suite of cases across CI runners (`credscope-harness run --shard I/N`).
 *
 * Promise: the split depends only on the case names, never on their order on the command
 * line, the machine or the time. Names are sorted bytewise (strcmp); the case at sorted
 * position p (0-based) belongs to shard (p mod N) + 1. Equal names keep their command-line
 * order. So for any N the N shards are disjoint and together are the whole suite, and
 * their sizes differ by at most one. Shards are numbered 1..N, as CI matrices count. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define SHARD_MAX 1000u

/* Parses "I/N" (decimal, 1 <= I <= N <= SHARD_MAX, nothing else). Returns 0 or -EINVAL
 * with *error (malloc'd) saying what is wrong. */
int shard_parse(const char *spec, unsigned *index, unsigned *count, char **error);

/* selected[k] becomes true when names[k] belongs to shard INDEX of COUNT.
 * Returns the number selected, or -EINVAL (bad index/count), -ENOMEM. */
int shard_select(size_t n_cases, const char *const names[], unsigned index, unsigned count, bool *selected);

/* The JUnit file of one shard: "out/junit.xml" -> "out/junit.shard-2-of-4.xml"; a path
 * without ".xml" gets ".shard-2-of-4.xml" appended. malloc'd, NULL on ENOMEM. */
char *shard_junit_path(const char *junit, unsigned index, unsigned count);
