/* xml: see xml.h. */
#include "output/xml.h"

static const char *entity(char c, bool escape_whitespace)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&apos;";
	case '\n': return escape_whitespace ? "&#10;" : NULL;
	case '\r': return escape_whitespace ? "&#13;" : NULL;
	case '\t': return escape_whitespace ? "&#9;" : NULL;
	default: return NULL;
	}
}

void xml_put_escaped(FILE *f, const char *s, bool escape_whitespace)
{
	for (; *s; s++) {
		const char *e = entity(*s, escape_whitespace);
		if (e)
			fputs(e, f);
		else
			fputc(*s, f);
	}
}
