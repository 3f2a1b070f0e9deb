/*
 * tests/store/subs_fixture.h: a real encrypted store in a temp folder with
 * an admin, a marketer ("mk") and a viewer ("vw"), for the subscriber tests.
 */
#ifndef HATO_TESTS_SUBS_FIXTURE_H
#define HATO_TESTS_SUBS_FIXTURE_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/slurp.h"

#define ADMIN_PW "a-long-password-1"
#define MK_PW "marketer-password-1"
#define VW_PW "viewer-password-1"

static char fx_dir[64], fx_path[128];

static int fx_setup(void **state)
{
	struct store *st = NULL;
	char *err = NULL;

	assert_true(sodium_init() >= 0);
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/hato-subs-XXXXXX");
	assert_non_null(mkdtemp(fx_dir));
	snprintf(fx_path, sizeof(fx_path), "%s/s/hato.db", fx_dir);
	assert_int_equal(store_init(fx_path, "admin", ADMIN_PW, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	assert_int_equal(store_open(fx_path, "admin", ADMIN_PW, &st, &err), STORE_OK);
	assert_int_equal(store_user_add(st, "mk", "marketer", MK_PW, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	assert_int_equal(store_user_add(st, "vw", "viewer", VW_PW, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	store_close(&st);
	assert_int_equal(store_open(fx_path, "mk", MK_PW, &st, &err), STORE_OK);
	assert_int_equal(store_list_add(st, "news", "News", "the newsletter", &err), STORE_OK);
	*state = st;
	return 0;
}

static int fx_teardown(void **state)
{
	struct store *st = *state;
	char cmd[160];

	store_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_dir);
	return system(cmd);
}

/* A file in the fixture folder holding data[0..len). Returns a static path. */
__attribute__((unused)) static const char *fx_file(const char *name, const void *data, size_t len)
{
	static char p[2][256];
	static int k;
	FILE *fp;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", fx_dir, name);
	fp = fopen(p[k], "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
	return p[k];
}

static size_t fx_len;

/* Reads a whole file (NUL-terminated; fx_len gets its size). */
__attribute__((unused)) static char *fx_slurp(const char *p)
{
	return slurp(p, &fx_len);
}

/* Imports the file at path into list; rejects go to <path>.rej. */
__attribute__((unused)) static enum store_status fx_import(struct store *st, const char *list,
							   const char *path,
							   struct store_import_stats *stats,
							   char **err)
{
	char rej[300];
	struct store_import_opts o = {0};
	enum store_status s;
	FILE *in = fopen(path, "rb");

	assert_non_null(in);
	snprintf(rej, sizeof(rej), "%s.rej", path);
	o.rejects = fopen(rej, "w");
	o.source = "test";
	assert_non_null(o.rejects);
	s = store_subscriber_import(st, list, in, &o, stats, err);
	fclose(o.rejects);
	fclose(in);
	return s;
}

/* The value of a person's attribute key, or NULL. */
__attribute__((unused)) static const char *fx_attr(const struct store_subscriber *p,
						   const char *key)
{
	for (size_t i = 0; i < p->nattrs; i++)
		if (strcmp(p->attrs[i].key, key) == 0)
			return p->attrs[i].value;
	return NULL;
}

__attribute__((unused)) static int64_t fx_count(struct store *st, const char *list,
						const char *expr)
{
	int64_t n = -1;
	char *err = NULL;
	enum store_status s = store_segment_count(st, list, expr, &n, &err);

	if (s != STORE_OK)
		fail_msg("segment count \"%s\": %s", expr ? expr : "", err ? err : "?");
	return n;
}

/* Fails unless the segment expression is refused with an error holding `want`. */
__attribute__((unused)) static void fx_segment_error(const char *expr, const char *want)
{
	char *err = NULL;

	if (store_segment_check(expr, &err) != STORE_EINVAL)
		fail_msg("accepted: %s", expr);
	if (err == NULL || strstr(err, want) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", expr, err ? err : "(null)", want);
	free(err);
}

#endif
