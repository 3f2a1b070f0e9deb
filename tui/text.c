/*
 * tui/text.c: text for a terminal. Display widths of UTF-8 strings, where
 * wide (CJK) characters take two columns; and the escaping that keeps text
 * from the store or the command line from steering the terminal.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/cli.h"
#include "tui/text.h"

int text_width(const char *s)
{
	mbstate_t ps;
	wchar_t wc;
	size_t n, left = strlen(s);
	int w = 0, cw;

	memset(&ps, 0, sizeof(ps));
	while (left > 0) {
		n = mbrtowc(&wc, s, left, &ps);
		if (n == (size_t)-1 || n == (size_t)-2) {
			/* Invalid UTF-8: count the byte as one column and resync. */
			memset(&ps, 0, sizeof(ps));
			n = 1;
			cw = 1;
		} else {
			cw = wcwidth(wc);
			if (cw < 0)
				cw = 0;
		}
		w += cw;
		s += n;
		left -= n;
	}
	return w;
}

/* Appends the k bytes at p to out (n bytes) at *len, as far as they fit. */
static void put(char *out, size_t n, size_t *len, const char *p, size_t k)
{
	if (*len < n)
		memcpy(out + *len, p, *len + k < n ? k : n - *len);
	*len += k;
}

size_t cli_escape(char *out, size_t n, const char *s)
{
	size_t len = 0, k, left = s != NULL ? strlen(s) : 0;
	uint32_t cp;
	char e[16];

	for (; left > 0; s += k, left -= k) {
		k = store_utf8_char(s, left, &cp);
		if (k == 0) { /* not UTF-8: the byte itself */
			k = 1;
			snprintf(e, sizeof(e), "\\x%02x", (unsigned char)*s);
		} else if (!store_char_is_unsafe(cp)) {
			put(out, n, &len, s, k);
			continue;
		} else if (cp == '\n' || cp == '\r' || cp == '\t') {
			snprintf(e, sizeof(e), "\\%c", cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't');
		} else if (cp < 0x80) {
			snprintf(e, sizeof(e), "\\x%02x", (unsigned)cp);
		} else {
			snprintf(e, sizeof(e), "\\u%04x", (unsigned)cp);
		}
		put(out, n, &len, e, strlen(e));
	}
	if (n > 0)
		out[len < n ? len : n - 1] = '\0';
	return len;
}

char *cli_escaped(const char *s)
{
	size_t n = cli_escape(NULL, 0, s) + 1;
	char *out = malloc(n);

	if (out != NULL)
		cli_escape(out, n, s);
	return out;
}

void cli_put_safe(FILE *fp, const char *s)
{
	char buf[512], *big = NULL;
	size_t n = cli_escape(buf, sizeof(buf), s);

	if (n >= sizeof(buf))
		big = cli_escaped(s);
	fputs(big != NULL ? big : buf, fp);
	free(big);
}

void cli_print_cols(FILE *fp, const char *const *cols, const int *widths, int n)
{
	char *col;
	int i, pad;

	for (i = 0; i < n; i++) {
		col = cli_escaped(cols[i]);
		fputs(col != NULL ? col : "", fp);
		if (i < n - 1) {
			pad = widths[i] - (col != NULL ? text_width(col) : 0);
			fprintf(fp, "%*s", pad < 1 ? 1 : pad + 1, "");
		}
		free(col);
	}
	fputc('\n', fp);
}

void cli_print_field(FILE *fp, int width, const char *label, const char *value)
{
	const char *const cols[] = {label, value};

	cli_print_cols(fp, cols, &width, 2);
}
