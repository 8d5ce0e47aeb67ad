/* vsock_log: see vsock_log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "vsock/vsock_log.h"

static int log_level = -1;   /* -1: not yet read from the environment */

static void log_level_init(void)
{
	const char *e = getenv("CREDSCOPE_VSOCK_LOG");

	log_level = VSOCK_LOG_WARN;
	if (!e)
		return;
	if (strcmp(e, "err") == 0)
		log_level = VSOCK_LOG_ERR;
	else if (strcmp(e, "info") == 0)
		log_level = VSOCK_LOG_INFO;
	else if (strcmp(e, "debug") == 0)
		log_level = VSOCK_LOG_DEBUG;
}

void vsock_log_set_level(enum vsock_log_level level)
{
	log_level = (int) level;
}

bool vsock_log_enabled(enum vsock_log_level level)
{
	if (log_level < 0)
		log_level_init();
	return (int) level <= log_level;
}

void vsock_log(enum vsock_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!vsock_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vsock-backend: %s\n", line);
}

bool vsock_log_ratelimit(struct vsock_ratelimit *rl, unsigned burst)
{
	long long now = mono_ms();

	if (now - rl->window_ms >= 1000) {
		rl->window_ms = now;
		rl->count = 0;
	}
	return rl->count++ < burst;
}
