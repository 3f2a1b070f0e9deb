/*
 * tests/store/admin_fixture.h: a new store in a temp folder with one admin,
 * made before each test and removed after it (test_store, test_migrate).
 */
#ifndef HATO_TESTS_ADMIN_FIXTURE_H
#define HATO_TESTS_ADMIN_FIXTURE_H

#define PW "admin-password-1"

static char dir[64], path[128];

static int setup(void **state)
{
	char *err = NULL;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hato-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s/hato.db", dir);
	assert_int_equal(store_init(path, "admin", PW, STORE_KDF_INTERACTIVE, &err), STORE_OK);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static struct store *open_admin(void)
{
	struct store *st = NULL;
	char *err = NULL;

	assert_int_equal(store_open(path, "admin", PW, &st, &err), STORE_OK);
	return st;
}

static int64_t one_int(struct store *st, const char *sql)
{
	int64_t v = -1;

	assert_int_equal(store_query_int(st, sql, &v, NULL, 0), STORE_OK);
	return v;
}

#endif
