/*
 * Unit tests of custom roles with a real store: store_role_set_perms and
 * store_role_rm refuse built-in roles and roles still held, need the
 * permission "roles", replace the permissions in one go (a user of the role
 * gets them at the next login), and leave audit records naming the change.
 * Nobody gives or manages more permissions than they hold (test_no_escalation).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define PW "admin-password-1"
#define PW_USER "analyst-password-1"

static char dir[64], path[128];

static int setup(void **state)
{
	static const char *const perms[] = {"reports", "campaigns.read"};
	struct store *st = NULL;
	char *err = NULL;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hato-roles-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s/hato.db", dir);
	assert_int_equal(store_init(path, "admin", PW, STORE_KDF_INTERACTIVE, &err), STORE_OK);
	assert_int_equal(store_open(path, "admin", PW, &st, &err), STORE_OK);
	assert_int_equal(store_role_add(st, "analyst", perms, 2, &err), STORE_OK);
	assert_int_equal(store_role_add(st, "spare", perms, 1, &err), STORE_OK);
	store_close(&st);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static struct store *open_as(const char *user, const char *pw)
{
	struct store *st = NULL;
	char *err = NULL;

	assert_int_equal(store_open(path, user, pw, &st, &err), STORE_OK);
	return st;
}

/* The role's permissions as "a b c", as store_role_list gives them. */
struct role_perms {
	const char *name;
	char perms[512];
	bool found;
};

static int find_role(const struct store_role_info *r, void *arg)
{
	struct role_perms *rp = arg;
	size_t i, len = 0;

	if (strcmp(r->name, rp->name) != 0)
		return 0;
	rp->found = true;
	for (i = 0; r->perms[i] != NULL; i++)
		len += (size_t)snprintf(rp->perms + len, sizeof(rp->perms) - len, "%s%s",
					i ? " " : "", r->perms[i]);
	return 1;
}

static const char *perms_of(struct store *st, const char *name)
{
	static struct role_perms rp;
	char *err = NULL;

	memset(&rp, 0, sizeof(rp));
	rp.name = name;
	assert_int_equal(store_role_list(st, find_role, &rp, &err), STORE_OK);
	return rp.found ? rp.perms : NULL;
}

/* The last audit record of `action`: its object, outcome and details. */
struct last_audit {
	char object[80], outcome[16], details[512];
	int n;
};

static int keep_last(const struct store_audit_record *r, void *arg)
{
	struct last_audit *a = arg;

	snprintf(a->object, sizeof(a->object), "%s", r->object ? r->object : "");
	snprintf(a->outcome, sizeof(a->outcome), "%s", r->outcome ? r->outcome : "");
	snprintf(a->details, sizeof(a->details), "%s", r->details ? r->details : "");
	a->n++;
	return 0;
}

static struct last_audit audit_last(struct store *st, const char *action)
{
	struct store_audit_filter f = {.action = action};
	struct last_audit a;
	char *err = NULL;

	memset(&a, 0, sizeof(a));
	assert_int_equal(store_audit_log(st, &f, keep_last, &a, &err), STORE_OK);
	return a;
}

static void test_edit_replaces_perms(void **state)
{
	static const char *const perms[] = {"subscribers.read", "reports", "subscribers.read"};
	struct store *st = open_as("admin", PW);
	struct last_audit a;
	char *err = NULL;
	bool can = true;

	(void)state;
	assert_int_equal(store_user_add(st, "ann", "analyst", PW_USER, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	assert_string_equal(perms_of(st, "analyst"), "reports campaigns.read");
	assert_int_equal(store_role_set_perms(st, "analyst", perms, 3, &err), STORE_OK);
	/* The old list is gone, the new one is there once each, in the usual order. */
	assert_string_equal(perms_of(st, "analyst"), "reports subscribers.read");
	a = audit_last(st, "role.edit");
	assert_int_equal(a.n, 1);
	assert_string_equal(a.object, "analyst");
	assert_string_equal(a.outcome, "ok");
	assert_string_equal(a.details, "reports subscribers.read");
	assert_int_equal(store_user_can(st, "ann", STORE_PERM_CAMPAIGNS_READ, &can), STORE_OK);
	assert_false(can);
	store_close(&st);
	/* The role's user gets the new permissions at login. */
	st = open_as("ann", PW_USER);
	assert_true(store_can(st, STORE_PERM_SUBSCRIBERS_READ));
	assert_false(store_can(st, STORE_PERM_CAMPAIGNS_READ));
	store_close(&st);
}

static void test_edit_refusals(void **state)
{
	static const char *const good[] = {"reports"};
	static const char *const bad[] = {"reports", "subscribers.reed"};
	struct store *st = open_as("admin", PW);
	char *err = NULL;

	(void)state;
	/* A built-in role is refused with a sentence that says so. */
	assert_int_equal(store_role_set_perms(st, "viewer", good, 1, &err), STORE_EINVAL);
	assert_non_null(strstr(err, "the role viewer is built in and cannot be edited"));
	free(err);
	err = NULL;
	assert_string_equal(perms_of(st, "viewer"), "reports subscribers.read campaigns.read");
	/* An unknown permission changes nothing, not even the valid ones. */
	assert_int_equal(store_role_set_perms(st, "analyst", bad, 2, &err), STORE_EINVAL);
	assert_non_null(strstr(err, "unknown permission \"subscribers.reed\""));
	free(err);
	err = NULL;
	assert_string_equal(perms_of(st, "analyst"), "reports campaigns.read");
	assert_int_equal(store_role_set_perms(st, "analyst", good, 0, &err), STORE_EUSAGE);
	free(err);
	err = NULL;
	assert_int_equal(store_role_set_perms(st, "nobody", good, 1, &err), STORE_ENOTFOUND);
	free(err);
	err = NULL;
	assert_int_equal(audit_last(st, "role.edit").n, 0);
	/* Without the permission "roles": refused, and the refusal is audited. */
	assert_int_equal(
	    store_user_add(st, "vic", "viewer", "viewer-password-1", STORE_KDF_INTERACTIVE, &err),
	    STORE_OK);
	store_close(&st);
	st = open_as("vic", "viewer-password-1");
	assert_int_equal(store_role_set_perms(st, "analyst", good, 1, &err), STORE_EDENIED);
	assert_non_null(strstr(err, "needs the permission \"roles\""));
	free(err);
	err = NULL;
	assert_int_equal(store_role_rm(st, "spare", &err), STORE_EDENIED);
	free(err);
	err = NULL;
	store_close(&st);
	st = open_as("admin", PW);
	assert_string_equal(perms_of(st, "analyst"), "reports campaigns.read");
	assert_non_null(perms_of(st, "spare"));
	assert_string_equal(audit_last(st, "role.edit").outcome, "denied");
	assert_string_equal(audit_last(st, "role.rm").outcome, "denied");
	store_close(&st);
}

static void test_rm(void **state)
{
	struct store *st = open_as("admin", PW);
	struct last_audit a;
	char *err = NULL;

	(void)state;
	/* Built-in: refused. */
	assert_int_equal(store_role_rm(st, "marketer", &err), STORE_EINVAL);
	assert_non_null(strstr(err, "the role marketer is built in and cannot be removed"));
	free(err);
	err = NULL;
	/* Held by users, a disabled one included: refused, saying how many. */
	assert_int_equal(store_user_add(st, "ann", "analyst", PW_USER, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	assert_int_equal(store_user_add(st, "bob", "analyst", PW_USER, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	assert_int_equal(store_user_disable(st, "bob", &err), STORE_OK);
	assert_int_equal(store_role_rm(st, "analyst", &err), STORE_EINVAL);
	assert_non_null(strstr(err, "the role analyst is held by 2 users"));
	free(err);
	err = NULL;
	assert_non_null(perms_of(st, "analyst"));
	assert_int_equal(store_user_set_role(st, "ann", "viewer", &err), STORE_OK);
	assert_int_equal(store_role_rm(st, "analyst", &err), STORE_EINVAL);
	assert_non_null(strstr(err, "held by 1 user;"));
	free(err);
	err = NULL;
	/* Free: removed with its permissions, and audited. */
	assert_int_equal(store_role_rm(st, "spare", &err), STORE_OK);
	assert_null(perms_of(st, "spare"));
	a = audit_last(st, "role.rm");
	assert_int_equal(a.n, 1);
	assert_string_equal(a.object, "spare");
	assert_string_equal(a.outcome, "ok");
	assert_int_equal(store_role_rm(st, "spare", &err), STORE_ENOTFOUND);
	free(err);
	err = NULL;
	/* The name is free again, and a new role of that name starts empty-handed. */
	{
		static const char *const perms[] = {"audit"};
		assert_int_equal(store_role_add(st, "spare", perms, 1, &err), STORE_OK);
		assert_string_equal(perms_of(st, "spare"), "audit");
	}
	store_close(&st);
}

/* The call was refused (STORE_EDENIED) with a sentence holding `want`. */
static void expect_denied(enum store_status s, char **err, const char *want)
{
	assert_int_equal(s, STORE_EDENIED);
	assert_non_null(*err);
	if (strstr(*err, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", *err, want);
	free(*err);
	*err = NULL;
}

/* A user holding "users" or "roles" but not every permission gives and manages no more than that.
 */
static void test_no_escalation(void **state)
{
	static const char *const users[] = {"users"}, *const roles[] = {"roles"};
	static const char *const more[] = {"roles", "keys"};
	struct store *st = open_as("admin", PW);
	char *err = NULL;

	(void)state;
	assert_int_equal(store_role_add(st, "helpdesk", users, 1, &err), STORE_OK);
	assert_int_equal(store_role_add(st, "rolemgr", roles, 1, &err), STORE_OK);
	assert_int_equal(store_user_add(st, "hd", "helpdesk", PW_USER, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	assert_int_equal(store_user_add(st, "rm", "rolemgr", PW_USER, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	assert_int_equal(store_user_add(st, "ann", "analyst", PW_USER, STORE_KDF_INTERACTIVE, &err),
			 STORE_OK);
	store_close(&st);

	st = open_as("hd", PW_USER);
	expect_denied(store_user_set_role(st, "hd", "admin", &err), &err,
		      "giving the role admin needs the permission \"roles\"");
	expect_denied(store_user_add(st, "evil", "admin", PW_USER, STORE_KDF_INTERACTIVE, &err),
		      &err, "needs the permission \"roles\"");
	expect_denied(store_user_passwd(st, "admin", PW_USER, &err), &err,
		      "changing the password of admin (role admin) needs the permission");
	expect_denied(store_user_disable(st, "ann", &err), &err,
		      "disabling ann (role analyst) needs the permission \"reports\"");
	expect_denied(store_user_unlock(st, "admin", &err), &err, "needs the permission \"roles\"");
	expect_denied(store_user_set_role(st, "ann", "helpdesk", &err), &err,
		      "needs the permission \"reports\"");
	expect_denied(store_user_set_role(st, "hd", "helpdesk", &err), &err,
		      "nobody may change their own role");
	/* Within its own permissions it still manages users. */
	assert_int_equal(
	    store_user_add(st, "hd2", "helpdesk", PW_USER, STORE_KDF_INTERACTIVE, &err), STORE_OK);
	assert_int_equal(store_user_passwd(st, "hd2", "helpdesk-password-2", &err), STORE_OK);
	assert_int_equal(store_user_disable(st, "hd2", &err), STORE_OK);
	store_close(&st);

	st = open_as("rm", PW_USER);
	expect_denied(store_role_set_perms(st, "rolemgr", more, 2, &err), &err,
		      "nobody may edit the role they hold");
	expect_denied(store_role_add(st, "big", more, 2, &err), &err, "you do not hold \"keys\"");
	expect_denied(store_role_set_perms(st, "analyst", roles, 1, &err), &err,
		      "editing the role analyst needs the permission \"reports\"");
	assert_int_equal(store_role_add(st, "small", roles, 1, &err), STORE_OK);
	store_close(&st);

	/* Nothing changed (the admin's password neither), and the refusals are audited. */
	st = open_as("admin", PW);
	assert_string_equal(perms_of(st, "rolemgr"), "roles");
	assert_string_equal(perms_of(st, "analyst"), "reports campaigns.read");
	assert_null(perms_of(st, "big"));
	assert_string_equal(audit_last(st, "user.role").outcome, "denied");
	assert_string_equal(audit_last(st, "user.unlock").object, "admin");
	assert_string_equal(audit_last(st, "user.unlock").outcome, "denied");
	assert_string_equal(audit_last(st, "role.edit").details, "needs permission reports");
	store_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_edit_replaces_perms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_escalation, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
