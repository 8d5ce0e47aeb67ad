/* clock: the one monotonic clock. Deadlines and durations use it, never the wall clock,
 * so a host clock step neither fires nor postpones a timeout. */
#pragma once
#include <stdint.h>

long long mono_ns(void);
long long mono_ms(void);
