/* xml: the one XML 1.0 text escaper, for the JUnit report and the libvirt domain.
 * Promise: what it writes is well-formed as element content and as a single- or
 * double-quoted attribute value. It does not judge the characters: text that XML 1.0
 * cannot carry (other control characters) must be sanitized before (textsafe.h) or
 * refused. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

/* Writes S with & < > " ' as entities. With ESCAPE_WHITESPACE, tab, newline and carriage
 * return become character references too, which an attribute value needs to keep them
 * (a parser normalises a literal one to a space). */
void xml_put_escaped(FILE *f, const char *s, bool escape_whitespace);
