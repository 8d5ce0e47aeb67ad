/* junit: JUnit XML (the dialect GitLab, Jenkins and GitHub reporters read): one testsuite,
 * one testcase per case run ("NAME on IMAGE"), <failure> with the diagnosis and the last
 * console lines, <skipped>; in each run's testcase, <properties> with its boot timeline
 * (credscope.timeline.NAME_ms, ms since the run began; unseen steps left out). Guest bytes are sanitized and XML-escaped; characters XML 1.0
 * forbids never appear. */
#pragma once
#include <stddef.h>
#include <stdio.h>

#include "output/result.h"

int junit_write(FILE *f, const char *suite, const struct case_result *results, size_t n, double seconds);
/* Writes to PATH atomically (PATH.tmp then rename). Returns 0 or -errno. */
int junit_write_file(const char *path, const char *suite, const struct case_result *results, size_t n, double seconds);
