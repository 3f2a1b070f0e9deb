/*
 * fuzz_mbox.c: the mbox reader of `bounce read` (send/mbox.c) with fuzzed
 * files. Aborts when a message is longer than SEND_REPORT_MAX or than the
 * input, when the messages and their "From " lines add up to more than the
 * input, or when message lines do not increase; the sanitizers catch the
 * rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "send/send.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	size_t size, total;
	unsigned long last;
};

static int each(const char *msg, size_t n, bool too_big, unsigned long line, void *arg)
{
	struct seen *s = arg;

	(void)msg;
	(void)too_big;
	if (n > SEND_REPORT_MAX || n > s->size)
		abort();
	if (line < s->last)
		abort();
	s->last = line;
	s->total += n;
	if (s->total > s->size)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = {size, 0, 1};
	FILE *in;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "rb");
	if (in == NULL)
		return 0;
	if (send_mbox_read(in, 1, each, &s) != 0)
		abort();
	fclose(in);
	return 0;
}
