/*
 * tui/text.c: text that lines up in a terminal: display widths of UTF-8
 * strings, where wide (CJK) characters take two columns.
 */
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

void cli_print_cols(FILE *fp, const char *const *cols, const int *widths, int n)
{
	int i, pad;

	for (i = 0; i < n; i++) {
		fputs(cols[i] ? cols[i] : "", fp);
		if (i == n - 1)
			break;
		pad = widths[i] - text_width(cols[i] ? cols[i] : "");
		if (pad < 1)
			pad = 1;
		else
			pad += 1;
		while (pad-- > 0)
			fputc(' ', fp);
	}
	fputc('\n', fp);
}
