/* progress: on a TTY, one live line per running VM (case, image, phase, elapsed seconds)
 * redrawn in place on stderr; finished runs scroll above them. Without a TTY it prints only
 * the finished lines. Called from the main thread only. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "output/result.h"

/* One running VM's live line. The runner's thread writes it (atomics), the main thread
 * draws it; case_name and image outlive the run. */
struct run_live {
	atomic_int active;
	atomic_int phase;             /* enum boot_phase, or -1 while preparing */
	long long start_ms;           /* mono_ms() when the run began */
	const char *case_name, *image;
};

struct progress {
	FILE *out;
	bool tty;
	size_t drawn;          /* live lines currently on screen */
};

void progress_init(struct progress *p, FILE *out);
void progress_draw(struct progress *p, struct run_live *slots, size_t n);
void progress_finished(struct progress *p, const struct case_result *r);
void progress_clear(struct progress *p);
