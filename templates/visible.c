/*
 * visible.c: what a reader sees. Text that is only blanks shows nothing, so
 * a sender's name of spaces is no name (the Act on Specified Electronic Mail
 * wants it displayed).
 */
#include <string.h>

#include "templates/private.h"

/* A character that shows as nothing: Unicode White_Space and the zero-width ones. */
static bool blank_char(uint32_t cp)
{
	return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0xa0 ||
	       cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200d) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || cp == 0x2060 || cp == 0x3000 || cp == 0xfeff;
}

bool tpl_is_blank_n(const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = tpl_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (k == 0 || !blank_char(cp))
			return false;
		i += k;
	}
	return true;
}

bool tpl_is_blank(const char *s)
{
	return s == NULL || tpl_is_blank_n(s, strlen(s));
}
