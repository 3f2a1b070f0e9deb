/*
 * fuzz_segment.c: parses fuzzed bytes as a segment expression. What the
 * parser accepts must also prepare and run as SQL against a real store (a
 * compiler bug that writes bad SQL aborts); what it refuses must come with a
 * "column N:" message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store *st = fuzz_store();
	char *expr = malloc(size + 1), *err = NULL;
	enum store_status r;
	int64_t n = -1;

	if (expr == NULL)
		abort();
	memcpy(expr, data, size);
	expr[size] = '\0';
	r = store_segment_check(expr, &err);
	if (r == STORE_EINVAL && (err == NULL || strncmp(err, "column ", 7) != 0))
		abort();
	if (r != STORE_OK && r != STORE_EINVAL)
		abort();
	free(err);
	err = NULL;
	if (r == STORE_OK) {
		r = store_segment_count(st, "news", expr, &n, &err);
		if (r != STORE_OK || n < 0 || n > 2) {
			fprintf(stderr, "count of \"%s\": %d %s\n", expr, r, err ? err : "");
			abort();
		}
	}
	free(err);
	free(expr);
	return 0;
}
