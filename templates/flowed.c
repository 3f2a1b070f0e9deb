/*
 * templates/flowed.c: a text part in 7bit ISO-2022-JP with its long lines
 * wrapped, for the Japanese carriers (docomo asks for it, and RFC 5322 2.1.1
 * for lines of at most 78). The wrapping is format=flowed with DelSp=yes
 * (RFC 3676): each line broken in the middle ends with a space that a
 * reader which knows flowed text removes as it joins the line to the next,
 * so the text reads as written; one that does not shows the breaks. Lines
 * are broken after a space, else between two Japanese characters, else (a
 * long word) anywhere. Only a text with a line over JIS_LINE is wrapped; a
 * wrapped text's lines lose their trailing spaces (which would read as soft
 * breaks) and a line that starts with a space, ">" or "From " gets one
 * space before it (space-stuffing), as RFC 3676 asks.
 *
 * The HTML part's long lines are broken where that changes nothing it
 * shows: between a tag's attributes, and between two Japanese characters
 * inside an empty comment (tpl_html_wrap), so that a long paragraph does
 * not send the whole message in UTF-8 (a line over 998 bytes can't be 7bit).
 *
 * A line's size in ISO-2022-JP is counted as iconv writes it: one byte an
 * ASCII character, two a JIS X 0208 one, and three for each escape
 * sequence between the two, a line ending in ASCII.
 */
#include <ctype.h>
#include <string.h>

#include "templates/private.h"

#define JIS_LINE 78 /* bytes, with the soft break's space and the escape back to ASCII */
#define ESC_LEN 3   /* ESC $ B or ESC ( B */

/* The bytes of the UTF-8 character at s (at least 1). */
static size_t char_len(const char *s, size_t n)
{
	uint32_t cp;
	size_t k = tpl_utf8_decode((const unsigned char *)s, n, &cp);

	return k > 0 ? k : 1;
}

/*
 * Where the line s[0..n) (no line end) is broken: the length of its first
 * piece, at most `budget` bytes in ISO-2022-JP with the soft break's space.
 */
static size_t piece(const char *s, size_t n, size_t budget)
{
	size_t i = 0, k, cut = 0, cost = 0;
	bool wide = false, prev_wide = false;

	while (i < n) {
		bool w = (unsigned char)s[i] >= 0x80;
		size_t c = w ? 2 : 1;

		k = char_len(s + i, n - i);
		if (w != wide)
			c += ESC_LEN; /* into or out of JIS X 0208 */
		/* what the piece would cost ending here: back to ASCII, and the space */
		if (cost + c + (w ? ESC_LEN : 0) + 1 > budget)
			break;
		if (i > 0 && (s[i - 1] == ' ' || (w && prev_wide)))
			cut = i; /* a break after a space, or between two wide characters */
		cost += c;
		wide = prev_wide = w;
		i += k;
	}
	if (i >= n)
		return n;
	return cut > 0 ? cut : (i > 0 ? i : char_len(s, n));
}

/* Appends line s[0..n) converted, then the soft break's space or not, and CRLF. */
static bool put_line(struct tpl_buf *out, const char *s, size_t n, bool soft)
{
	if (n > 0 && !tpl_jis_convert(s, n, out))
		return false;
	tpl_buf_appends(out, soft ? " \r\n" : "\r\n");
	return !out->oom;
}

bool tpl_jis_too_long(const char *j, size_t n)
{
	for (size_t i = 0, col = 0; i < n; i++) {
		if (j[i] != '\r')
			col = j[i] == '\n' ? 0 : col + 1;
		if (col > JIS_LINE)
			return true;
	}
	return false;
}

bool tpl_jis_flowed(const char *s, size_t n, struct tpl_buf *out)
{
	size_t start = 0, end, len, k, budget;
	bool ok = true;

	while (ok && start < n) {
		end = start;
		while (end < n && s[end] != '\n' && s[end] != '\r')
			end++;
		len = end - start;
		if (end + 1 < n && s[end] == '\r' && s[end + 1] == '\n')
			end++; /* CRLF: one line end, as crlf() in mime.c reads it */
		/* A trailing space would read as a soft break; but not in "-- ", the
		 * signature separator, which is never flowed (RFC 3676 4.3). */
		if (!(len == 3 && memcmp(s + start, "-- ", 3) == 0))
			while (len > 0 && s[start + len - 1] == ' ')
				len--;
		do {
			/* Space-stuffing, on every line sent (RFC 3676 4.4). */
			budget = JIS_LINE;
			if (len > 0 && (s[start] == ' ' || s[start] == '>' ||
					(len >= 5 && memcmp(s + start, "From ", 5) == 0))) {
				tpl_buf_appendc(out, ' ');
				budget--;
			}
			k = len > 0 ? piece(s + start, len, budget) : 0;
			ok = put_line(out, s + start, k, k < len);
			start += k;
			len -= k;
		} while (ok && len > 0);
		start = end + 1;
	}
	return ok && !out->oom;
}

/* What s[0..n) costs in ISO-2022-JP, from ASCII back to ASCII; stops counting past `stop`. */
static size_t jis_cost(const char *s, size_t n, size_t stop)
{
	size_t i = 0, cost = 0;
	bool wide = false;

	while (i < n && cost <= stop) {
		bool w = (unsigned char)s[i] >= 0x80;

		cost += (w ? 2 : 1) + (w != wide ? ESC_LEN : 0);
		wide = w;
		i += char_len(s + i, n - i);
	}
	return cost + (wide ? ESC_LEN : 0);
}

/* Breaks the line d[*start..end) at *last when it costs over JIS_LINE there. */
static void break_at(char *d, size_t *start, size_t end, size_t *last)
{
	if (*last > *start && jis_cost(d + *start, end - *start, JIS_LINE) > JIS_LINE) {
		d[*last] = '\n';
		*start = *last + 1;
	}
}

/* Breaks the lines of s at spaces between a tag's attributes, into out. */
static bool wrap_tags(const char *s, size_t n, struct tpl_buf *out)
{
	size_t i, start = 0, last = 0, base = out->len;
	bool in_tag = false;
	char quote = 0, *d;

	tpl_buf_append(out, s, n);
	if (out->oom)
		return false;
	d = out->data + base;
	for (i = 0; i < n; i++) {
		char c = d[i];

		if (c == '\n' || c == '\r') {
			break_at(d, &start, i, &last);
			start = i + 1;
			last = 0;
		} else if (quote != 0) {
			quote = c == quote ? 0 : quote;
		} else if (in_tag && (c == '"' || c == '\'')) {
			quote = c;
		} else if (!in_tag && c == '<' && i + 1 < n &&
			   (isalpha((unsigned char)d[i + 1]) || d[i + 1] == '/')) {
			in_tag = true;
		} else if (in_tag && c == '>') {
			in_tag = false;
		} else if (in_tag && (c == ' ' || c == '\t')) {
			/* Between a tag's attributes a line break is a space like any. */
			break_at(d, &start, i, &last);
			last = i;
		}
	}
	break_at(d, &start, n, &last);
	return true;
}

/* Where wrap_text is in the HTML. */
enum html_at { AT_TEXT, AT_TAG, AT_COMMENT, AT_RAW };

/* The elements whose text is not HTML: a comment in them would show. */
static bool raw_element(const char *s, size_t n, size_t i, char name[12])
{
	static const char *const raw[] = {"script", "style", "title", "textarea", "xmp", NULL};
	size_t k = 0;

	while (i < n && k + 1 < 12 && isalnum((unsigned char)s[i]))
		name[k++] = (char)tolower((unsigned char)s[i++]);
	name[k] = '\0';
	return (i >= n || !isalnum((unsigned char)s[i])) && tpl_name_in(name, raw);
}

/*
 * Breaks the lines of text between tags that are still too long (Japanese
 * has no spaces) between two Japanese characters, with an empty comment
 * around the line break: "あ<!--LF-->い" shows as "あい". Not in comments,
 * tags, or script, style, title and textarea, whose text is not HTML.
 */
static bool wrap_text(const char *s, size_t n, struct tpl_buf *out)
{
	enum html_at at = AT_TEXT;
	size_t i = 0, k, cost = 0;
	bool wide = false, to_raw = false;
	char quote = 0, raw[12] = "", name[12];

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		bool w = c >= 0x80, eol = c == '\n' || c == '\r';

		k = char_len(s + i, n - i);
		/* this character, back to ASCII, and "<!--" must fit */
		if (at == AT_TEXT && w && wide && cost + 2 + ESC_LEN + 4 > JIS_LINE) {
			tpl_buf_appends(out, "<!--\n-->");
			cost = 3;
			wide = false;
		}
		switch (at) {
		case AT_TEXT:
			if (c == '<' && n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
				at = AT_COMMENT;
				i += 3; /* past "<!-", so that "<!-->" ends it */
				tpl_buf_append(out, "<!-", 3);
				cost += 3;
				k = 1;
			} else if (c == '<' && i + 1 < n &&
				   (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '/')) {
				to_raw = s[i + 1] != '/' && raw_element(s, n, i + 1, name);
				if (to_raw)
					memcpy(raw, name, sizeof(raw));
				at = AT_TAG;
			}
			break;
		case AT_TAG:
			if (quote != 0)
				quote = c == (unsigned char)quote ? 0 : quote;
			else if (c == '"' || c == '\'')
				quote = (char)c;
			else if (c == '>')
				at = to_raw ? AT_RAW : AT_TEXT;
			break;
		case AT_COMMENT:
			if (c == '>' && i >= 2 && s[i - 1] == '-' && s[i - 2] == '-')
				at = AT_TEXT;
			break;
		case AT_RAW:
			if (c == '<' && i + 1 < n && s[i + 1] == '/' &&
			    raw_element(s, n, i + 2, name) && strcmp(name, raw) == 0) {
				at = AT_TAG;
				to_raw = false;
			}
			break;
		}
		tpl_buf_append(out, s + i, k);
		if (eol) {
			cost = 0;
			wide = false;
		} else {
			cost += (w ? 2 : 1) + (w != wide ? ESC_LEN : 0);
			wide = w;
		}
		i += k;
	}
	return !out->oom;
}

bool tpl_html_wrap(const char *s, size_t n, struct tpl_buf *out)
{
	struct tpl_buf tags = {0};
	bool ok = wrap_tags(s, n, &tags) && wrap_text(tags.data ? tags.data : "", tags.len, out);

	tpl_buf_free(&tags);
	return ok;
}
