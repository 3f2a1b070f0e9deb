/*
 * store/suppress.c: the suppression list.
 *
 * An address is kept as its keyed hash (store_address_hash), so that an
 * erased person can be recognised and never imported again without the
 * address being readable. While the person is still on file the address is
 * kept beside the hash for `suppress ls`. A domain ("@example.com") is kept
 * in clear. subscribers.suppressed says whether a person is on the list,
 * by address or by domain, so that segments can be counted and the browser
 * can page through the suppressed without hashing every row
 * (mark_domain, unmark_domain).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers_private.h"

enum store_status suppress_entry(struct store *st, const char *address, bool *out, char **kind,
				 char **reason)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	const char *r;
	char h[65];

	*out = false;
	store_address_hash(st, address, h);
	s = store_prepare(st,
			  "SELECT kind, reason FROM suppressions WHERE value = ? OR "
			  "(kind = 'domain' AND value = ?) ORDER BY kind = 'domain' LIMIT 1",
			  &q, NULL);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, h, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, store_address_domain(address), -1, SQLITE_STATIC);
	*out = sqlite3_step(q) == SQLITE_ROW;
	if (*out && kind != NULL) {
		r = (const char *)sqlite3_column_text(q, 1);
		*kind = strdup((const char *)sqlite3_column_text(q, 0));
		*reason = strdup(r != NULL ? r : "");
		if (*kind == NULL || *reason == NULL)
			s = STORE_ENOMEM;
	}
	sqlite3_finalize(q);
	return s;
}

enum store_status suppress_check(struct store *st, const char *address, bool *out)
{
	return suppress_entry(st, address, out, NULL, NULL);
}

enum store_status store_suppressed(struct store *st, const char *address, bool *out, char **errstr)
{
	char addr[STORE_ADDRESS_MAX + 1];
	enum store_status s = subscriber_norm(address, addr, errstr);

	*out = false;
	if (s != STORE_OK)
		return s;
	return suppress_check(st, addr, out);
}

enum store_status store_address_mailable(struct store *st, const char *address, const char *list,
					 char **why, char **errstr)
{
	char addr[STORE_ADDRESS_MAX + 1], status[16], left[16] = "", msg[160] = "";
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int64_t id = 0;
	bool supp = false;

	*why = NULL;
	s = store_require(st, STORE_PERM_CAMPAIGNS_EDIT, "address.check", errstr);
	/* The answer tells whether the address is a subscriber's. */
	if (s == STORE_OK)
		s = store_require_lookup(st, "address.check", errstr);
	if (s == STORE_OK)
		s = subscriber_norm(address, addr, errstr);
	if (s == STORE_OK)
		s = suppress_check(st, addr, &supp);
	if (s == STORE_OK && !supp)
		s = subscriber_find(st, addr, &id, status, errstr);
	if (s == STORE_OK && id != 0 && list != NULL)
		s = store_prepare(
		    st, "SELECT status FROM memberships WHERE subscriber = ? AND list = ?", &q,
		    errstr);
	if (q != NULL) {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_text(q, 2, list, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			snprintf(left, sizeof(left), "%s", (const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
	}
	if (s != STORE_OK)
		return s;
	if (supp)
		snprintf(msg, sizeof(msg),
			 "it is on the suppression list (the address, its "
			 "domain, or a person erased)");
	else if (id != 0 && strcmp(status, "active") != 0)
		snprintf(msg, sizeof(msg), "the subscriber is %s", status);
	else if (strcmp(left, "unsubscribed") == 0)
		snprintf(msg, sizeof(msg), "the subscriber unsubscribed from the list %.100s",
			 list);
	if (msg[0] == '\0')
		return STORE_OK;
	*why = strdup(msg);
	return *why != NULL ? STORE_OK : STORE_ENOMEM;
}

/* Parses "@domain" or an address into kind, key value and (address) normal form. */
static enum store_status target(const char *what, const char **kind,
				char val[STORE_ADDRESS_MAX + 1], char addr[STORE_ADDRESS_MAX + 1],
				struct store *st, char **errstr)
{
	const char *why = NULL;
	char tmp[STORE_ADDRESS_MAX + 16];

	addr[0] = '\0';
	if (what[0] == '@') {
		/* Check the domain by checking a stand-in address on it. */
		snprintf(tmp, sizeof(tmp), "x%s", what);
		if (strlen(what) > 253 ||
		    store_address_normalise(tmp, strlen(tmp), addr, &why) != STORE_OK)
			return store_fail(errstr, STORE_EINVAL, "not a valid domain: %s",
					  why ? why : "too long");
		snprintf(val, STORE_ADDRESS_MAX + 1, "%s", store_address_domain(addr));
		addr[0] = '\0';
		*kind = "domain";
		return STORE_OK;
	}
	if (subscriber_norm(what, addr, errstr) != STORE_OK)
		return STORE_EINVAL;
	store_address_hash(st, addr, val);
	*kind = "address";
	return STORE_OK;
}

/*
 * The reason is shown to viewers by `suppress ls` and kept in the audit
 * trail, which holds addresses only as keyed hashes, and it outlives an
 * erasure of the person: it may not hold an address ("x@y": an "@", or its
 * full-width or small form, with something on both sides) nor a control
 * character or line break.
 */
static bool at_sign(uint32_t cp)
{
	return cp == '@' || cp == 0xff20 || cp == 0xfe6b;
}

static enum store_status reason_check(const char *reason, char **errstr)
{
	size_t left = reason != NULL ? strlen(reason) : 0, k;
	uint32_t cp, prev = ' ', next;

	for (; left > 0; reason += k, left -= k, prev = cp) {
		k = store_utf8_char(reason, left, &cp);
		if (k == 0 || store_char_is_unsafe(cp))
			return store_fail(errstr, STORE_EINVAL,
					  "the reason holds a control character, a line break or "
					  "bytes that are not UTF-8");
		next = ' ';
		if (k < left && store_utf8_char(reason + k, left - k, &next) == 0)
			next = ' ';
		if (at_sign(cp) && prev > ' ' && next > ' ')
			return store_fail(
			    errstr, STORE_EINVAL,
			    "the reason holds an email address; write it without one "
			    "(viewers read reasons, and the audit trail keeps addresses "
			    "only as keyed hashes)");
	}
	return STORE_OK;
}

/*
 * When val is on the list already: STORE_EEXIST and, when already is not
 * NULL, the sentence saying since when and why. The reason is shown as
 * `suppress ls` shows it: to those who may read the list, addresses masked.
 */
static enum store_status on_list(struct store *st, const char *val, const char *addr,
				 char **already, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	const char *reason;
	char *who = NULL, *why = NULL;
	int rc;

	s = store_prepare(st, "SELECT created, reason, address FROM suppressions WHERE value = ?",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, val, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && already != NULL) {
		reason = (const char *)sqlite3_column_text(q, 1);
		/* The address as kept while the person is on file, else as given. */
		if (sqlite3_column_type(q, 2) == SQLITE_TEXT)
			addr = (const char *)sqlite3_column_text(q, 2);
		who = addr[0] != '\0' ? store_mask_address(st, addr) : NULL;
		if (reason != NULL && reason[0] != '\0' &&
		    store_can(st, STORE_PERM_SUBSCRIBERS_READ))
			why = store_mask_text(st, reason);
		store_fail(already, STORE_EEXIST,
			   "%s%s is already on the suppression list (since %s%s%s)",
			   addr[0] != '\0' ? "" : "@", addr[0] != '\0' ? (who ? who : "***") : val,
			   (const char *)sqlite3_column_text(q, 0), why ? ", reason: " : "",
			   why ? why : "");
		free(who);
		free(why);
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW)
		return STORE_EEXIST;
	return rc == SQLITE_DONE ? STORE_OK : store_sqlfail(st, errstr, "suppressing");
}

/*
 * A domain on the list: each person on file at it is marked, with an event
 * in their history. No index is on domain (migration 12): this reads the
 * table once, which only an admin's `suppress add @domain` asks for.
 */
static enum store_status mark_domain(struct store *st, const char *domain, const char *reason,
				     char **errstr)
{
	char now[21], details[400];
	enum store_status s;

	store_utc_now(now);
	snprintf(details, sizeof(details), "its domain%s%s", reason && *reason ? ": " : "",
		 reason ? reason : "");
	s = store_run(st,
		      "INSERT INTO subscriber_events (subscriber, time, event, list, details)"
		      " SELECT id, ?, 'suppressed', '', ? FROM subscribers"
		      " WHERE domain = ? AND suppressed = 0",
		      errstr, "suppressing", "ttt", now, details, domain);
	if (s == STORE_OK)
		s = store_run(
		    st, "UPDATE subscribers SET suppressed = 1 WHERE domain = ? AND suppressed = 0",
		    errstr, "suppressing", "t", domain);
	return s;
}

/*
 * A domain off the list: its people stay marked only when their address is
 * on it. Who is unmarked is read first, then written: an UPDATE during the
 * read could move rows under the scan.
 */
static enum store_status unmark_domain(struct store *st, const char *domain, char **errstr)
{
	sqlite3_stmt *q = NULL, *listed = NULL;
	enum store_status s;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0, i;
	char h[65];
	int rc = SQLITE_DONE;

	s = store_prepare(st,
			  "SELECT id, email FROM subscribers WHERE domain = ? AND suppressed <> 0",
			  &q, errstr);
	if (s == STORE_OK)
		s = store_prepare(st, "SELECT 1 FROM suppressions WHERE value = ?", &listed,
				  errstr);
	if (s == STORE_OK)
		sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	while (s == STORE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		store_address_hash(st, (const char *)sqlite3_column_text(q, 1), h);
		sqlite3_bind_text(listed, 1, h, -1, SQLITE_STATIC);
		rc = sqlite3_step(listed);
		sqlite3_reset(listed);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			break;
		if (rc == SQLITE_ROW)
			continue;
		if (store_reserve(&ids, &cap, (n + 1) * sizeof(*ids), 64 * sizeof(*ids)) != 0)
			s = STORE_ENOMEM;
		else
			ids[n++] = sqlite3_column_int64(q, 0);
	}
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "unsuppressing");
	sqlite3_finalize(listed);
	sqlite3_finalize(q);
	for (i = 0; s == STORE_OK && i < n; i++) {
		s = store_run(st, "UPDATE subscribers SET suppressed = 0 WHERE id = ?", errstr,
			      "unsuppressing", "i", ids[i]);
		if (s == STORE_OK)
			s = store_subscriber_event(st, ids[i], "unsuppressed", NULL, "its domain",
						   errstr);
	}
	free(ids);
	return s;
}

enum store_status store_suppress_add(struct store *st, const char *what, const char *reason,
				     char **errstr)
{
	return store_suppress_put(st, what, reason, NULL, errstr);
}

enum store_status store_suppress_put(struct store *st, const char *what, const char *reason,
				     char **already, char **errstr)
{
	enum store_status s;
	const char *kind = NULL;
	char val[STORE_ADDRESS_MAX + 1], addr[STORE_ADDRESS_MAX + 1], now[21];
	int64_t id = 0;

	if (already != NULL)
		*already = NULL;
	s = store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "suppress.add", errstr);
	if (s == STORE_OK)
		s = reason_check(reason, errstr);
	if (s == STORE_OK)
		s = target(what, &kind, val, addr, st, errstr);
	/* suppress ls would then show whether the address is on file. */
	if (s == STORE_OK && addr[0] != '\0')
		s = store_require_lookup(st, "suppress.add", errstr);
	if (s != STORE_OK)
		return s;
	store_utc_now(now);
	s = store_begin_err(st, errstr, "suppressing");
	if (s != STORE_OK)
		return s;
	s = on_list(st, val, addr, already, errstr);
	if (s == STORE_EEXIST) { /* as it was: nothing to change, nothing to audit */
		store_rollback(st);
		return STORE_OK;
	}
	if (s == STORE_OK && addr[0] != '\0')
		s = subscriber_find(st, addr, &id, NULL, errstr);
	if (s == STORE_OK) {
		sqlite3_stmt *q = NULL;
		s = store_prepare(
		    st,
		    "INSERT OR IGNORE INTO suppressions (value, kind, address, reason,"
		    " created, by) VALUES (?,?,?,?,?,?)",
		    &q, errstr);
		if (s == STORE_OK) {
			sqlite3_bind_text(q, 1, val, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
			if (id != 0)
				sqlite3_bind_text(q, 3, addr, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 4, reason ? reason : "", -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 5, now, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 6, store_user(st), -1, SQLITE_STATIC);
			if (sqlite3_step(q) != SQLITE_DONE)
				s = store_sqlfail(st, errstr, "suppressing");
			sqlite3_finalize(q);
		}
	}
	if (s == STORE_OK && id != 0) {
		s = store_run(st, "UPDATE subscribers SET suppressed = 1 WHERE email = ?", errstr,
			      "suppressing", "t", addr);
		if (s == STORE_OK)
			s = store_subscriber_event(st, id, "suppressed", NULL, reason, errstr);
	}
	if (s == STORE_OK && strcmp(kind, "domain") == 0)
		s = mark_domain(st, val, reason, errstr);
	if (s == STORE_OK)
		s = store_audit(st, "suppress.add", val, "ok", reason);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

/*
 * Was the address of this hash erased (store_subscriber_erase)? Its entry
 * on the suppression list says so (suppressions.erased, which outlives the
 * erasure's audit record, as audit.retention may delete that) and stays for
 * good.
 */
static bool erased(struct store *st, const char *hash)
{
	sqlite3_stmt *q = NULL;
	bool yes;
	int rc;

	if (store_prepare(st, "SELECT erased FROM suppressions WHERE value = ?", &q, NULL) !=
	    STORE_OK)
		return true; /* when in doubt, keep the entry */
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	yes = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) != 0 : rc != SQLITE_DONE;
	sqlite3_finalize(q);
	return yes;
}

enum store_status store_suppress_rm(struct store *st, const char *what, char **errstr)
{
	enum store_status s;
	const char *kind = NULL;
	char val[STORE_ADDRESS_MAX + 1], addr[STORE_ADDRESS_MAX + 1];
	int64_t id = 0;

	s = store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "suppress.rm", errstr);
	if (s == STORE_OK)
		s = target(what, &kind, val, addr, st, errstr);
	/* The answer tells whether the address was erased. */
	if (s == STORE_OK && addr[0] != '\0')
		s = store_require_lookup(st, "suppress.rm", errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "unsuppressing");
	if (s != STORE_OK)
		return s;
	if (addr[0] != '\0' && erased(st, val))
		s = store_fail(errstr, STORE_EEXIST,
			       "%s was erased at the person's request; its entry stays on the "
			       "suppression list so that it is never added or imported again",
			       what);
	if (s == STORE_OK)
		s = store_run(st, "DELETE FROM suppressions WHERE value = ?", errstr,
			      "unsuppressing", "t", val);
	if (s == STORE_OK && sqlite3_changes(st->db) == 0)
		s = store_fail(errstr, STORE_ENOTFOUND, "%s is not on the suppression list", what);
	/* Someone whose domain is on the list stays suppressed. */
	if (s == STORE_OK && addr[0] != '\0')
		s = subscriber_find(st, addr, &id, NULL, errstr);
	if (s == STORE_OK && id != 0)
		s = store_run(st,
			      "UPDATE subscribers SET suppressed = 0 WHERE id = ? AND domain NOT IN"
			      " (SELECT value FROM suppressions WHERE kind = 'domain')",
			      errstr, "unsuppressing", "i", id);
	if (s == STORE_OK && id != 0)
		s = store_subscriber_event(st, id, "unsuppressed", NULL,
					   sqlite3_changes(st->db) == 0
					       ? "the address; its domain stays suppressed"
					       : NULL,
					   errstr);
	if (s == STORE_OK && addr[0] == '\0')
		s = unmark_domain(st, val, errstr);
	if (s == STORE_OK)
		s = store_audit(st, "suppress.rm", val, "ok", NULL);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_suppress_ls(struct store *st, store_suppression_cb cb, void *arg,
				    char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_suppression x;
	char *masked = NULL;
	int rc;

	s = store_require(st, STORE_PERM_SUBSCRIBERS_READ, "suppress.ls", errstr);
	if (s == STORE_OK)
		s = store_prepare(
		    st,
		    "SELECT kind, value, address, reason, created, by FROM suppressions"
		    " ORDER BY kind DESC, created, value",
		    &q, errstr);
	if (s != STORE_OK)
		return s;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		x.kind = (const char *)sqlite3_column_text(q, 0);
		x.value = (const char *)sqlite3_column_text(q, 1);
		x.address = (const char *)sqlite3_column_text(q, 2);
		if (x.address != NULL) {
			masked = store_mask_address(st, x.address);
			x.address = masked;
		}
		x.reason = (const char *)sqlite3_column_text(q, 3);
		x.created = (const char *)sqlite3_column_text(q, 4);
		x.by = (const char *)sqlite3_column_text(q, 5);
		rc = cb(&x, arg);
		free(masked);
		masked = NULL;
		if (rc != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlfail(st, errstr, "listing suppressions");
}
