/*
 * fuzz_audit_head.c: the reader of signed audit heads (store/audit_head.c),
 * which `audit verify --head FILE` runs on a file kept somewhere else. A
 * head it accepts must be one whose signature verifies over what it read;
 * flipping any byte of an accepted head must make it refused. Aborts when
 * not; the sanitizers catch the rest.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_audit_head h;
	char *err = NULL, *copy;

	if (sodium_init() < 0)
		abort();
	if (store_audit_head_parse((const char *)data, size, &h, &err) != STORE_OK) {
		if (err == NULL)
			abort();
		free(err);
		return 0;
	}
	if (h.record <= 0 || strlen(h.signer) >= sizeof(h.signer) || size == 0)
		abort();
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size / 2] ^= 0x01; /* any change is refused */
	if (store_audit_head_parse(copy, size, &h, NULL) == STORE_OK)
		abort();
	free(copy);
	return 0;
}
