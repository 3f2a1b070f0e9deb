/*
 * store/perm.c: permissions, roles and the session's rights.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/private.h"

/* Every permission: what the built-in admin may give and manage. */
#define ALL_PERMS ((1ULL << STORE_PERM_COUNT) - 1)

static const struct {
	const char *name, *what;
} perms[STORE_PERM_COUNT] = {
    [STORE_PERM_USERS] = {"users", "add, disable and unlock users; change their roles"},
    [STORE_PERM_ROLES] = {"roles", "create, edit and remove custom roles"},
    [STORE_PERM_SETTINGS] = {"settings", "read and change settings"},
    [STORE_PERM_KEYS] = {"keys", "rotate the data key; manage DKIM keys"},
    [STORE_PERM_AUDIT] = {"audit", "read and verify the audit trail"},
    [STORE_PERM_REPORTS] = {"reports", "read campaign reports and counts"},
    [STORE_PERM_SUBSCRIBERS_READ] = {"subscribers.read", "browse lists and subscribers"},
    [STORE_PERM_SUBSCRIBERS_WRITE] = {"subscribers.write",
				      "add, import, unsubscribe and suppress subscribers"},
    [STORE_PERM_SUBSCRIBERS_EXPORT] = {"subscribers.export",
				       "export lists to CSV (needs pii as well)"},
    [STORE_PERM_SUBSCRIBERS_ERASE] = {"subscribers.erase", "erase a person's data (GDPR Art. 17)"},
    [STORE_PERM_PII] = {"pii", "see email addresses unmasked"},
    [STORE_PERM_LISTS] = {"lists", "create and remove lists"},
    [STORE_PERM_SEGMENTS] = {"segments", "create and change segments"},
    [STORE_PERM_TEMPLATES] = {"templates", "create and change templates"},
    [STORE_PERM_CAMPAIGNS_READ] = {"campaigns.read", "see campaigns and their status"},
    [STORE_PERM_CAMPAIGNS_EDIT] = {"campaigns.edit", "create, edit and submit campaigns"},
    [STORE_PERM_CAMPAIGNS_APPROVE] = {"campaigns.approve", "approve or reject campaigns"},
    [STORE_PERM_CAMPAIGNS_SEND] = {"campaigns.send",
				   "schedule, send, pause, resume and cancel campaigns"},
};

const char *store_perm_name(enum store_perm p)
{
	if ((int)p < 0 || p >= STORE_PERM_COUNT)
		return NULL;
	return perms[p].name;
}

const char *store_perm_describe(enum store_perm p)
{
	if ((int)p < 0 || p >= STORE_PERM_COUNT)
		return NULL;
	return perms[p].what;
}

enum store_status store_perm_lookup(const char *name, enum store_perm *out)
{
	int i;

	for (i = 0; i < STORE_PERM_COUNT; i++) {
		if (strcmp(perms[i].name, name) == 0) {
			*out = (enum store_perm)i;
			return STORE_OK;
		}
	}
	return STORE_ENOTFOUND;
}

bool store_can(const struct store *st, enum store_perm p)
{
	if (p == STORE_PERM_NONE)
		return true;
	if ((int)p < 0 || p >= STORE_PERM_COUNT)
		return false;
	return (st->perms >> p) & 1;
}

/* The permissions the user may give and manage: the built-in admin's are all of them. */
static uint64_t reach(const struct store *st)
{
	return strcmp(st->role, "admin") == 0 ? ALL_PERMS : st->perms;
}

/* The first permission in bits that the user may not give, or STORE_PERM_NONE. */
static enum store_perm first_missing(const struct store *st, uint64_t bits)
{
	int i;

	bits &= ~reach(st);
	for (i = 0; i < STORE_PERM_COUNT; i++)
		if ((bits >> i) & 1)
			return (enum store_perm)i;
	return STORE_PERM_NONE;
}

void store_set_command(struct store *st, const char *words)
{
	snprintf(st->command, sizeof(st->command), "%s", words != NULL ? words : "");
}

/* What a refusal names: the command as the user gave it, else the action. */
static const char *refused(const struct store *st, const char *action)
{
	return st->command[0] != '\0' ? st->command : action;
}

enum store_status store_deny(struct store *st, const char *action, const char *object,
			     const char *details, char **errstr, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	store_audit(st, action, object, "denied", details);
	return store_fail(errstr, STORE_EDENIED, "%s is not allowed for %s (role %s): %s",
			  refused(st, action), st->user, st->role, reason);
}

/* Refuses because the user lacks p: "WHAT needs the permission P" (WHAT NULL: "it"). */
static enum store_status deny_perm(struct store *st, enum store_perm p, const char *action,
				   const char *object, const char *what, char **errstr)
{
	char details[128];

	snprintf(details, sizeof(details), "needs permission %s", store_perm_name(p));
	if (what == NULL)
		return store_deny(st, action, object, details, errstr,
				  "it needs the permission \"%s\"", store_perm_name(p));
	return store_deny(st, action, object, details, errstr,
			  "%s needs the permission \"%s\", which you do not hold", what,
			  store_perm_name(p));
}

static enum store_status perms_of(struct store *st, const char *role, uint64_t *out, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	enum store_perm p;
	int rc;

	*out = 0;
	s = store_prepare(st, "SELECT perm FROM role_perms WHERE role = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, role, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (store_perm_lookup((const char *)sqlite3_column_text(q, 0), &p) == STORE_OK)
			*out |= 1ULL << p;
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlfail(st, errstr, "reading roles");
}

/*
 * A session outlives what an admin changes meanwhile: before a permission is
 * checked, the user's status and role are read again, at most once a
 * second. A disabled user's session then holds no permission, and a changed
 * role, or a role's changed permissions, take effect. When the users can't be read, the session
 * keeps what it had.
 */
static void refresh(struct store *st)
{
	struct timespec now;
	sqlite3_stmt *q = NULL;
	long long ms;
	uint64_t bits;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (st->db == NULL || st->user_id == 0 ||
	    (st->checked_ms != 0 && ms - st->checked_ms < 1000))
		return;
	st->checked_ms = ms;
	if (store_prepare(st, "SELECT role, status FROM users WHERE id = ?", &q, NULL) != STORE_OK)
		return;
	sqlite3_bind_int64(q, 1, st->user_id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		st->disabled = true;
	} else if (strcmp((const char *)sqlite3_column_text(q, 1), "active") != 0) {
		st->disabled = true;
	} else {
		snprintf(st->role, sizeof(st->role), "%s", (const char *)sqlite3_column_text(q, 0));
		if (perms_of(st, st->role, &bits, NULL) == STORE_OK)
			st->perms = bits;
	}
	sqlite3_finalize(q);
	if (st->disabled)
		st->perms = 0;
}

/* Refreshes the session; refuses, saying why, when its user was disabled since. */
static enum store_status still_active(struct store *st, const char *action, char **errstr)
{
	refresh(st);
	if (!st->disabled)
		return STORE_OK;
	store_audit(st, action, NULL, "denied", "the account was disabled during the session");
	return store_fail(errstr, STORE_EDENIED,
			  "%s is not allowed: the account %s was disabled after this session "
			  "began",
			  refused(st, action), st->user);
}

bool store_session_disabled(struct store *st)
{
	refresh(st);
	return st->disabled;
}

enum store_status store_require(struct store *st, enum store_perm p, const char *action,
				char **errstr)
{
	enum store_status s = still_active(st, action, errstr);

	if (s != STORE_OK || store_can(st, p))
		return s;
	return deny_perm(st, p, action, NULL, NULL, errstr);
}

enum store_status store_require_lookup(struct store *st, const char *action, char **errstr)
{
	enum store_status s = still_active(st, action, errstr);

	if (s != STORE_OK || store_can(st, STORE_PERM_PII))
		return s;
	return store_deny(st, action, NULL, "needs permission pii", errstr,
			  "looking a person up by address needs the permission \"pii\": the "
			  "answer would show whether the address is on file");
}

enum store_status store_require_role(struct store *st, const char *role, const char *action,
				     const char *object, const char *what, char **errstr)
{
	enum store_status s;
	enum store_perm p;
	uint64_t bits = ALL_PERMS;

	s = still_active(st, action, errstr);
	if (s != STORE_OK)
		return s;
	if (strcmp(role, "admin") != 0) {
		s = perms_of(st, role, &bits, errstr);
		if (s != STORE_OK)
			return s;
	}
	p = first_missing(st, bits);
	return p == STORE_PERM_NONE ? STORE_OK : deny_perm(st, p, action, object, what, errstr);
}

enum store_status store_load_perms(struct store *st, char **errstr)
{
	return perms_of(st, st->role, &st->perms, errstr);
}

enum store_status store_user_can(struct store *st, const char *name, enum store_perm p,
				 bool *result)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	uint64_t bits = 0;
	char role[STORE_NAME_MAX + 1] = "";

	*result = false;
	s = store_prepare(st, "SELECT role FROM users WHERE name = ? AND status = 'active'", &q,
			  NULL);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		snprintf(role, sizeof(role), "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (role[0] == '\0')
		return STORE_ENOTFOUND;
	s = perms_of(st, role, &bits, NULL);
	*result = s == STORE_OK && ((bits >> p) & 1);
	return s;
}

char *store_mask_address(const struct store *st, const char *address)
{
	const char *at = strrchr(address, '@'), *first;
	size_t n, len;
	uint32_t cp;
	char *out;

	if (store_can(st, STORE_PERM_PII))
		return strdup(address);
	if (at == NULL || at == address)
		return strdup("***");
	/* The first character of the local part, whole (it may be UTF-8). */
	first = address[0] == '"' && at - address > 1 ? address + 1 : address;
	len = store_utf8_char(first, (size_t)(at - first), &cp);
	if (len == 0)
		len = 1;
	n = len + strlen(at) + 4;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%.*s***%s", (int)len, first, at);
	return out;
}

bool store_addr_stop(unsigned char c)
{
	return c <= ' ' || c == 0x7f || strchr("<>()[],;:\"'`", c) != NULL;
}

bool store_local_stop(unsigned char c)
{
	return c <= ' ' || c == 0x7f || strchr("<>[]:\"", c) != NULL;
}

char *store_mask_text(const struct store *st, const char *text)
{
	size_t n = strlen(text), i, j, local, first, len;
	uint32_t cp;
	char *out, *o;

	if (store_can(st, STORE_PERM_PII) || strchr(text, '@') == NULL)
		return strdup(text);
	/* Masking never lengthens a local part by more than "***". */
	out = malloc(n * 4 + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && text[j] != '@'; j++)
			;
		if (j == n) { /* no address after i: the rest is text */
			memcpy(o, text + i, n - i);
			o += n - i;
			break;
		}
		/* text[i..j) is text; its tail up to the '@' may be a local part */
		local = j;
		if (j > i && text[j - 1] == '"') {
			for (local = j - 1; local > i && text[local - 1] != '"'; local--)
				;
			local = local > i ? local - 1 : j;
		} else {
			/* An escaped quote (kn\"o@x.jp) is part of the local part. */
			while (local > i && (!store_local_stop((unsigned char)text[local - 1]) ||
					     (text[local - 1] == '"' && local - 1 > i &&
					      text[local - 2] == '\\')))
				local -= text[local - 1] == '"' ? 2 : 1;
		}
		memcpy(o, text + i, local - i);
		o += local - i;
		if (local < j) {
			/* Its first character, whole (it may be UTF-8). */
			first = text[local] == '"' && j - local > 2 ? local + 1 : local;
			len = store_utf8_char(text + first, j - first, &cp);
			len = len == 0 ? 1 : len;
			memcpy(o, text + first, len);
			o += len;
			memcpy(o, "***", 3);
			o += 3;
		}
		*o++ = '@';
		for (j++; j < n && text[j] != '@' && !store_addr_stop((unsigned char)text[j]); j++)
			*o++ = text[j];
	}
	*o = '\0';
	return out;
}

enum store_status store_role_list(struct store *st, store_role_cb cb, void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	const char *names[STORE_PERM_COUNT + 1];
	struct store_role_info info;
	uint64_t bits;
	int rc, n, i;

	s = store_prepare(st, "SELECT name, builtin FROM roles ORDER BY builtin DESC, name", &q,
			  errstr);
	if (s != STORE_OK)
		return s;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		info.name = (const char *)sqlite3_column_text(q, 0);
		info.builtin = sqlite3_column_int(q, 1) != 0;
		s = perms_of(st, info.name, &bits, errstr);
		if (s != STORE_OK)
			break;
		for (i = 0, n = 0; i < STORE_PERM_COUNT; i++)
			if ((bits >> i) & 1)
				names[n++] = perms[i].name;
		names[n] = NULL;
		info.perms = names;
		if (cb(&info, arg) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (s == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "listing roles");
	return s;
}

/*
 * Checks permission names (STORE_EINVAL names the first unknown one) and that
 * the user may give each of them; fills *bits.
 */
static enum store_status perms_check(struct store *st, const char *action, const char *role,
				     const char *const *names, size_t nperms, uint64_t *bits,
				     char **errstr)
{
	enum store_perm p;
	char details[128];
	size_t i;

	*bits = 0;
	if (nperms == 0)
		return store_fail(errstr, STORE_EUSAGE, "a role needs at least one permission");
	for (i = 0; i < nperms; i++) {
		if (store_perm_lookup(names[i], &p) != STORE_OK)
			return store_fail(errstr, STORE_EINVAL,
					  "unknown permission \"%s\"; see: hato role list --perms",
					  names[i]);
		*bits |= 1ULL << p;
	}
	p = first_missing(st, *bits);
	if (p == STORE_PERM_NONE)
		return STORE_OK;
	snprintf(details, sizeof(details), "needs permission %s", store_perm_name(p));
	return store_deny(st, action, role, details, errstr,
			  "a role may get only permissions you hold, and you do not hold \"%s\"",
			  store_perm_name(p));
}

/* Inserts the role's permissions (duplicates ignored). Inside a transaction. */
static enum store_status perms_insert(struct store *st, const char *name, const char *const *names,
				      size_t nperms, char **errstr)
{
	enum store_status s = STORE_OK;
	sqlite3_stmt *q = NULL;
	size_t i;

	for (i = 0; s == STORE_OK && i < nperms; i++) {
		s = store_prepare(st, "INSERT OR IGNORE INTO role_perms VALUES (?, ?)", &q, errstr);
		if (s != STORE_OK)
			break;
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, names[i], -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "writing a role's permissions");
		sqlite3_finalize(q);
	}
	return s;
}

/* The permissions in bits, for an audit record, in their usual order. */
static void perms_words(uint64_t bits, char *out, size_t cap)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < STORE_PERM_COUNT && len < cap; i++)
		if ((bits >> i) & 1)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "",
						perms[i].name);
}

enum store_status store_role_add(struct store *st, const char *name, const char *const *names,
				 size_t nperms, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	uint64_t bits;
	char details[512];

	s = store_require(st, STORE_PERM_ROLES, "role.add", errstr);
	if (s == STORE_OK)
		s = store_name_check("role", name, errstr);
	if (s == STORE_OK)
		s = perms_check(st, "role.add", name, names, nperms, &bits, errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "adding a role");
	if (s != STORE_OK)
		return s;
	s = store_case_twin(st, "roles", "name", "role", "role names", name, errstr);
	if (s == STORE_OK)
		s = store_prepare(st, "INSERT INTO roles (name, builtin) VALUES (?, 0)", &q,
				  errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_fail(errstr, STORE_EEXIST, "the role %s exists already", name);
		sqlite3_finalize(q);
	}
	if (s == STORE_OK)
		s = perms_insert(st, name, names, nperms, errstr);
	perms_words(bits, details, sizeof(details));
	if (s == STORE_OK)
		s = store_audit(st, "role.add", name, "ok", details);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

/* Succeeds for a custom role; a built-in one cannot be `verb` ("edited"). */
static enum store_status custom_role(struct store *st, const char *name, const char *verb,
				     char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	int rc;

	s = store_prepare(st, "SELECT builtin FROM roles WHERE name = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		s = store_fail(errstr, STORE_ENOTFOUND, "no role %s; see: hato role list", name);
	else if (rc != SQLITE_ROW)
		s = store_sqlfail(st, errstr, "reading roles");
	else if (sqlite3_column_int(q, 0) != 0)
		s = store_fail(errstr, STORE_EINVAL, "the role %s is built in and cannot be %s%s",
			       name, verb,
			       strcmp(verb, "edited") == 0
				   ? "; add a custom role instead (hato role add NAME PERM...)"
				   : "");
	sqlite3_finalize(q);
	return s;
}

/* Runs one statement binding the role's name to its only parameter. */
static enum store_status exec_role(struct store *st, const char *sql, const char *name,
				   char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_prepare(st, sql, &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "changing a role");
	sqlite3_finalize(q);
	return s;
}

enum store_status store_role_set_perms(struct store *st, const char *name, const char *const *names,
				       size_t nperms, char **errstr)
{
	enum store_status s;
	uint64_t bits = 0;
	char details[512], what[128];

	s = store_require(st, STORE_PERM_ROLES, "role.edit", errstr);
	if (s == STORE_OK)
		s = store_name_check("role", name, errstr);
	if (s == STORE_OK)
		s = custom_role(st, name, "edited", errstr);
	if (s == STORE_OK && strcmp(name, st->role) == 0)
		s = store_deny(st, "role.edit", name, "own role", errstr,
			       "nobody may edit the role they hold; ask another user who holds "
			       "\"roles\"");
	if (s == STORE_OK)
		s = perms_check(st, "role.edit", name, names, nperms, &bits, errstr);
	/* Nor take away permissions that the user does not hold. */
	snprintf(what, sizeof(what), "editing the role %s", name);
	if (s == STORE_OK)
		s = store_require_role(st, name, "role.edit", name, what, errstr);
	if (s != STORE_OK)
		return s;
	perms_words(bits, details, sizeof(details));
	s = store_begin_err(st, errstr, "editing a role");
	if (s != STORE_OK)
		return s;
	s = exec_role(st, "DELETE FROM role_perms WHERE role = ?", name, errstr);
	if (s == STORE_OK)
		s = perms_insert(st, name, names, nperms, errstr);
	if (s == STORE_OK)
		s = store_audit(st, "role.edit", name, "ok", details);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_role_rm(struct store *st, const char *name, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	int64_t users = 0;

	s = store_require(st, STORE_PERM_ROLES, "role.rm", errstr);
	if (s == STORE_OK)
		s = store_name_check("role", name, errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "removing a role");
	if (s != STORE_OK)
		return s;
	s = custom_role(st, name, "removed", errstr);
	if (s == STORE_OK)
		s = store_prepare(st, "SELECT count(*) FROM users WHERE role = ?", &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			users = sqlite3_column_int64(q, 0);
		else
			s = store_sqlfail(st, errstr, "reading users");
		sqlite3_finalize(q);
	}
	/* Disabled users count too: their rows still name the role. */
	if (s == STORE_OK && users > 0)
		s = store_fail(errstr, STORE_EINVAL,
			       "the role %s is held by %lld user%s; give %s another role first "
			       "(hato user role NAME ROLE)",
			       name, (long long)users, users == 1 ? "" : "s",
			       users == 1 ? "that user" : "them");
	if (s == STORE_OK)
		s = exec_role(st, "DELETE FROM role_perms WHERE role = ?", name, errstr);
	if (s == STORE_OK)
		s = exec_role(st, "DELETE FROM roles WHERE name = ?", name, errstr);
	if (s == STORE_OK)
		s = store_audit(st, "role.rm", name, "ok", NULL);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}
