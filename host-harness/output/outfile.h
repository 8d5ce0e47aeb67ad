/* outfile: the report files a run writes (--junit, --html) are written as PATH.tmp and
 * renamed over PATH when the run ends. outfile_check_writable() proves, before the first
 * VM boots, that this will work, so a run that cannot report never starts (exit 2). */
#pragma once
#include <stdio.h>

/* Creates and removes PATH.tmp; PATH must not be a directory. Returns 0 or -errno. */
int outfile_check_writable(const char *path);

/* Writes PATH through WRITE(f, ctx) into PATH.tmp, then renames it over PATH; on any
 * error PATH.tmp is removed and PATH is left as it was. Returns 0 or -errno (WRITE's). */
int outfile_write(const char *path, int (*write)(FILE *f, const void *ctx), const void *ctx);
