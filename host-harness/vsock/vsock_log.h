/* vsock_log: one-line diagnostics of the vsock backend on stderr, prefixed with
 * "vsock-backend:". Messages from guest-controlled events are rate limited by the caller
 * through vsock_log_ratelimit() so a hostile guest cannot flood the log. */
#pragma once
#include <stdbool.h>

enum vsock_log_level { VSOCK_LOG_ERR, VSOCK_LOG_WARN, VSOCK_LOG_INFO, VSOCK_LOG_DEBUG };

/* Messages above this level are dropped; default VSOCK_LOG_WARN, or from
 * $CREDSCOPE_VSOCK_LOG (err|warn|info|debug) on first use. */
void vsock_log_set_level(enum vsock_log_level level);
bool vsock_log_enabled(enum vsock_log_level level);
void vsock_log(enum vsock_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True at most `burst` times per second for one counter (a static in the caller). */
struct vsock_ratelimit { long long window_ms; unsigned count; };
bool vsock_log_ratelimit(struct vsock_ratelimit *rl, unsigned burst);

#define vsock_err(...)   vsock_log(VSOCK_LOG_ERR, __VA_ARGS__)
#define vsock_warn(...)  vsock_log(VSOCK_LOG_WARN, __VA_ARGS__)
#define vsock_info(...)  vsock_log(VSOCK_LOG_INFO, __VA_ARGS__)
#define vsock_debug(...) vsock_log(VSOCK_LOG_DEBUG, __VA_ARGS__)
