/*
 * tests/fuzz/fuzz_store.h: one real encrypted store for a fuzz run, made on
 * first use in a temp folder, opened as a marketer, with a list "news" and a
 * few people in it. Each input runs inside a transaction that is rolled back,
 * so the store stays the same from input to input.
 */
#ifndef HATO_TESTS_FUZZ_STORE_H
#define HATO_TESTS_FUZZ_STORE_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"

static struct store *fuzz_st;

static void fuzz_cleanup(void)
{
	store_close(&fuzz_st);
}

static struct store *fuzz_store(void)
{
	static char dir[64], path[128];
	struct store *st = NULL;
	struct store_attr a = {"city", "Tokyo"};
	char *err = NULL;

	if (fuzz_st != NULL)
		return fuzz_st;
	if (sodium_init() < 0)
		abort();
	snprintf(dir, sizeof(dir), "/tmp/hato-fuzz-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/s/hato.db", dir);
	if (store_init(path, "admin", "a-long-password-1", STORE_KDF_INTERACTIVE, &err) !=
		STORE_OK ||
	    store_open(path, "admin", "a-long-password-1", &st, &err) != STORE_OK ||
	    store_user_add(st, "mk", "marketer", "marketer-password-1", STORE_KDF_INTERACTIVE,
			   &err) != STORE_OK)
		abort();
	store_close(&st);
	if (store_open(path, "mk", "marketer-password-1", &fuzz_st, &err) != STORE_OK ||
	    store_list_add(fuzz_st, "news", NULL, NULL, &err) != STORE_OK ||
	    store_subscriber_add(fuzz_st, "news", "taro@example.com", "Taro", &a, 1, NULL, &err) !=
		STORE_OK ||
	    store_subscriber_add(fuzz_st, "news", "a..b@docomo.ne.jp", NULL, NULL, 0, NULL, &err) !=
		STORE_OK ||
	    store_suppress_add(fuzz_st, "@blocked.example", NULL, &err) != STORE_OK)
		abort();
	atexit(fuzz_cleanup);
	return fuzz_st;
}

#endif
