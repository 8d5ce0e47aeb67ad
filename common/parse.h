/* parse: strict number parsing for every command line and configuration field.
 * Promise: only decimal digits are accepted (no sign, no blank, no "0x", no trailing
 * garbage, not empty); a value outside [MIN, MAX] is -ERANGE, anything else -EINVAL. */
#pragma once

int parse_unsigned(const char *s, unsigned long long min, unsigned long long max, unsigned long long *out);

/* parse_unsigned() into an unsigned int. */
int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);
