/*
 * check_jis.c: the pre-send checks of a message that would go to the
 * Japanese carriers in ISO-2022-JP: characters it can't write, and lines
 * too long for a 7bit part. Either makes such a message go out as UTF-8.
 */
#include <stdint.h>
#include <string.h>

#include "templates/private.h"

void tpl_check_jis(struct tpl_findings *f, const char *s, size_t len, const char *where,
		   bool positions)
{
	size_t offs[MAX_PER_KIND], n, i, k;
	unsigned line = 0, col = 0;
	uint32_t cp;

	if (s == NULL)
		return;
	n = tpl_jis_unencodable(s, len, offs, MAX_PER_KIND);
	for (i = 0; i < n && i < MAX_PER_KIND; i++) {
		k = tpl_utf8_decode((const unsigned char *)s + offs[i], len - offs[i], &cp);
		if (positions)
			tpl_linecol(s, len, offs[i], &line, &col);
		tpl_check_add(
		    f, TPL_SEV_WARNING, "jis-unencodable", where, line, col,
		    "\"%.*s\" (U+%04X) can't be written in ISO-2022-JP; messages with it go out "
		    "as UTF-8",
		    (int)(k ? k : 1), s + offs[i], k ? (unsigned)cp : 0xfffdu);
	}
}

void tpl_check_jis_lines(struct tpl_findings *f, const char *html, size_t hlen)
{
	struct tpl_buf j = {0}, wrapped = {0};
	size_t i, start = 0, w;
	unsigned n = 0;
	const char *s;
	size_t len;

	if (html == NULL || !tpl_html_wrap(html, hlen, &wrapped))
		goto done;
	s = wrapped.data != NULL ? wrapped.data : "";
	len = wrapped.len;
	if (!tpl_jis_lossless(s, len) || !tpl_jis_convert(s, len, &j))
		goto done;
	for (i = 0; i <= j.len && n < MAX_PER_KIND; i++) {
		if (i < j.len && j.data[i] != '\n')
			continue;
		w = i - start - (i > start && j.data[i - 1] == '\r');
		if (w > 998) {
			tpl_check_add(
			    f, TPL_SEV_WARNING, "jis-long-line", "body", 0, 0,
			    "a line of the HTML part is %zu bytes long in ISO-2022-JP where "
			    "hato breaks lines for the carriers (between attributes and "
			    "Japanese characters), over the 998 a line may have; messages "
			    "with it go out as UTF-8: break it (a long run of ASCII text, a "
			    "long attribute, comment or title)",
			    w);
			n++;
		}
		start = i + 1;
	}
done:
	tpl_buf_free(&j);
	tpl_buf_free(&wrapped);
}
