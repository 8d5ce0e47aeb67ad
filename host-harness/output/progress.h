/* progress: on a TTY, one live line per running VM (case, image, phase, elapsed seconds)
 * redrawn in place on stderr; finished runs scroll above them. Without a TTY it prints only
 * the finished lines. Called from the main thread only. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "output/result.h"
#include "runner/runner.h"

struct progress {
	FILE *out;
	bool tty;
	size_t drawn;          /* live lines currently on screen */
};

void progress_init(struct progress *p, FILE *out);
void progress_draw(struct progress *p, struct run_live *slots, size_t n);
void progress_finished(struct progress *p, const struct case_result *r);
void progress_clear(struct progress *p);
