/*
 * fuzz_csv.c: imports fuzzed bytes as a CSV file into a real store (inside a
 * transaction that is rolled back). Whatever the input, the import must end
 * with STORE_OK or STORE_EINVAL, and every data row must be accounted for.
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
	struct store_import_stats s;
	struct store_import_opts o = {0};
	enum store_status r;
	char *err = NULL;
	FILE *in, *rej;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "rb");
	rej = fopen("/dev/null", "w");
	if (in == NULL || rej == NULL)
		abort();
	o.rejects = rej;
	if (store_begin(st) != STORE_OK)
		abort();
	r = store_subscriber_import(st, "news", in, &o, &s, &err);
	store_rollback(st);
	if (r != STORE_OK && r != STORE_EINVAL) {
		fprintf(stderr, "import: %d %s\n", r, err ? err : "");
		abort();
	}
	if (r == STORE_OK &&
	    s.rows != s.imported + s.updated + s.invalid + s.duplicate + s.suppressed)
		abort();
	free(err);
	fclose(in);
	fclose(rej);
	return 0;
}
