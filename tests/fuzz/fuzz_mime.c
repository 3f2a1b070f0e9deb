/*
 * fuzz_mime.c: the header encoders and the message builder with fuzzed
 * names, subject, header values and bodies, and the mailbox parser (a From).
 * Aborts on a bare CR or LF, a line over 998 bytes, a QP body line over 76,
 * an extra header line that a value smuggled in, or a From the parser
 * accepts that the builder can't write.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "templates/templates.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits data at 0xff bytes into up to n NUL-terminated fields. */
static size_t split(const uint8_t *data, size_t size, char **f, size_t n)
{
	size_t i, k = 0, start = 0;

	for (i = 0; i <= size && k < n; i++) {
		if (i == size || data[i] == 0xff) {
			f[k] = malloc(i - start + 1);
			if (f[k] == NULL)
				abort();
			memcpy(f[k], data + start, i - start);
			f[k][i - start] = '\0';
			k++;
			start = i + 1;
		}
	}
	return k;
}

static void check(const struct tpl_buf *b)
{
	size_t i, line = 0, nheaders = 0;
	bool in_headers = true;

	for (i = 0; i < b->len; i++) {
		char c = b->data[i];

		if (c == '\r' && (i + 1 == b->len || b->data[i + 1] != '\n'))
			abort(); /* bare CR */
		if (c == '\n' && (i == 0 || b->data[i - 1] != '\r'))
			abort(); /* bare LF */
		if (c == '\n') {
			if (line > 999)
				abort(); /* over 998 plus CR */
			if (in_headers && line == 1)
				in_headers = false;
			if (in_headers && i + 1 < b->len && b->data[i + 1] != ' ' &&
			    b->data[i + 1] != '\r')
				nheaders++;
			line = 0;
			continue;
		}
		line++;
	}
	/* From To Subject Date Message-ID X-Extra MIME-Version Content-Type: the
	 * first line is not counted */
	if (b->len > 0 && nheaders != 7)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	char *f[6] = {0};
	struct tpl_header h;
	struct tpl_message m;
	struct tpl_buf b = {0};
	char *name = NULL, *addr = NULL;
	size_t n, i;

	if (!init) {
		if (sodium_init() < 0)
			abort();
		init = true;
	}
	n = split(data, size, f, 6);
	for (i = n; i < 6; i++) {
		f[i] = strdup("");
		if (f[i] == NULL)
			abort();
	}
	h = (struct tpl_header){"X-Extra", f[3]};
	m = (struct tpl_message){.from = {f[0], "news@hato.example"},
				 .to = {f[1], size % 2 ? "a..b@docomo.ne.jp" : "u@example.com"},
				 .subject = f[2],
				 .headers = &h,
				 .nheaders = 1,
				 .text = f[4],
				 .text_len = strlen(f[4]),
				 .html = f[5],
				 .html_len = strlen(f[5]),
				 .iso2022jp = size % 3 == 0};
	if (tpl_message_build(&m, &b, NULL, NULL) == TPL_OK)
		check(&b);
	/* the same headers with empty bodies, so invalid UTF-8 in a body does
	 * not stop the header encoders from running */
	tpl_buf_reset(&b);
	m.text = m.html = "";
	m.text_len = m.html_len = 0;
	if (tpl_message_build(&m, &b, NULL, NULL) != TPL_OK)
		abort();
	check(&b);
	if (tpl_mailbox_parse(f[0], &name, &addr, NULL) == TPL_OK) {
		m.from = (struct tpl_addr){name, addr};
		tpl_buf_reset(&b);
		if (tpl_message_build(&m, &b, NULL, NULL) != TPL_OK)
			abort();
		check(&b);
	}
	free(name);
	free(addr);
	tpl_buf_free(&b);
	for (i = 0; i < 6; i++)
		free(f[i]);
	return 0;
}
