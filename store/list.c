/*
 * store/list.c: mailing lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/subscribers_private.h"

enum store_status store_list_check(struct store *st, const char *id, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int rc;

	/* The list itself, else the one its ID names in another case (list add
	 * refuses a second such ID: creating it is no way out). */
	s = store_prepare(
	    st,
	    "SELECT id = ?1 COLLATE BINARY, id FROM lists WHERE id = ?1 COLLATE NOCASE"
	    " ORDER BY 1 DESC LIMIT 1",
	    &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_int(q, 0))
		s = STORE_OK;
	else if (rc == SQLITE_ROW)
		s = store_fail(errstr, STORE_ENOTFOUND,
			       "there is no list \"%s\"; list IDs count case: the list is \"%s\"",
			       id, (const char *)sqlite3_column_text(q, 1));
	else if (rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "finding a list");
	else
		s = store_fail(errstr, STORE_ENOTFOUND,
			       "there is no list \"%s\"; create it with: hato list add %s", id, id);
	sqlite3_finalize(q);
	return s;
}

enum store_status store_list_rowid(struct store *st, const char *id, int64_t *rowid, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int rc;

	*rowid = 0;
	s = store_prepare(st, "SELECT num FROM lists WHERE id = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*rowid = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return store_list_check(st, id, errstr);
}

/* The text column of the one row q finds (its parameter bound), allocated
 * in *out; what to say when there is none. */
static enum store_status list_text(struct store *st, sqlite3_stmt *q, char **out, const char *what,
				   char **errstr)
{
	enum store_status s = STORE_OK;
	int rc = sqlite3_step(q);

	if (rc == SQLITE_ROW) {
		*out = strdup((const char *)sqlite3_column_text(q, 0));
		if (*out == NULL)
			s = STORE_ENOMEM;
	} else {
		s = rc == SQLITE_DONE
			? store_fail(errstr, STORE_ENOTFOUND, "there is no list %s", what)
			: store_sqlfail(st, errstr, "finding a list");
	}
	sqlite3_finalize(q);
	return s;
}

enum store_status store_list_by_rowid(struct store *st, int64_t rowid, char **id, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	char what[32];

	*id = NULL;
	s = store_prepare(st, "SELECT id FROM lists WHERE num = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, rowid);
	snprintf(what, sizeof(what), "%lld", (long long)rowid);
	return list_text(st, q, id, what, errstr);
}

enum store_status store_list_name(struct store *st, const char *id, char **name, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;

	*name = NULL;
	s = store_prepare(st, "SELECT coalesce(nullif(name, ''), id) FROM lists WHERE id = ?", &q,
			  errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	return list_text(st, q, name, id, errstr);
}

enum store_status store_list_id_check(const char *id, char **errstr)
{
	enum store_status s = store_word_check("a list ID", id, errstr);

	if (s != STORE_OK)
		return s;
	/* The id labels the List-Id header, a dot-atom (RFC 2919): no empty label. */
	if (strstr(id, "..") != NULL || id[strlen(id) - 1] == '.')
		return store_fail(errstr, STORE_EINVAL,
				  "a list ID may not hold \"..\" or end with '.': it names the "
				  "list in every message's List-Id header, where that is invalid");
	return STORE_OK;
}

enum store_status store_list_add(struct store *st, const char *id, const char *name,
				 const char *description, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	const char *p;

	s = store_require(st, STORE_PERM_LISTS, "list.add", errstr);
	if (s == STORE_OK)
		s = store_list_id_check(id, errstr);
	if (s != STORE_OK)
		return s;
	for (p = name ? name : ""; *p; p++)
		if ((unsigned char)*p < 0x20)
			return store_fail(errstr, STORE_EINVAL,
					  "the list name holds a control character");
	s = store_begin_err(st, errstr, "adding a list");
	if (s != STORE_OK)
		return s;
	s = store_case_twin(st, "lists", "id", "list", "list IDs", id, errstr);
	if (s == STORE_OK)
		s = store_prepare(
		    st, "INSERT INTO lists (id, name, description, created) VALUES (?,?,?,?)", &q,
		    errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, name && *name ? name : id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, description ? description : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
		if (sqlite3_step(q) != SQLITE_DONE)
			s = (sqlite3_errcode(st->db) & 0xff) == SQLITE_CONSTRAINT
				? store_fail(errstr, STORE_EEXIST, "the list %s exists already", id)
				: store_sqlfail(st, errstr, "adding a list");
		sqlite3_finalize(q);
	}
	if (s == STORE_OK)
		s = store_audit(st, "list.add", id, "ok", NULL);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

/*
 * SQL for a list-removed event's details: ", LABEL value" when the column
 * col is not empty; PART_Q quotes what a person typed, its '"' and '\'
 * escaped, so that no part of it can pass for another.
 */
#define PART(label, col) " || CASE WHEN " col " != '' THEN ', " label " ' || " col " ELSE '' END"
#define PART_Q(label, col)                                                                         \
	" || CASE WHEN " col " != '' THEN ', " label " \"' || replace(replace(" col                \
	", '\\', '\\\\'), '\"', '\\\"') || '\"' ELSE '' END"

/*
 * Before a list's memberships go: each member's consent record is kept in
 * the person's history, where `subscriber data` shows it and `subscriber
 * erase` deletes it. Consent must be provable (GDPR Art. 7(1)) for at least
 * a month after the last mail, which may have gone out moments ago.
 */
static enum store_status keep_consent(struct store *st, const char *id, char **errstr)
{
	/* 'consent kept: source "S", given T, method "M", text "X", version "V",
	 * confirmed C, IP A; was active', each empty part left out (ltrim takes
	 * the first ", "). */
	/* clang-format off */
	static const char sql[] =
	    "INSERT INTO subscriber_events (subscriber, time, event, list, details)"
	    " SELECT subscriber, ?1, 'list-removed', list,"
	    " 'consent kept: ' || coalesce(nullif(ltrim(''"
	    PART_Q("source", "consent_source")
	    PART("given", "consent_at")
	    PART_Q("method", "consent_method")
	    PART_Q("text", "consent_text")
	    PART_Q("version", "consent_version")
	    PART("confirmed", "consent_confirmed")
	    PART("IP", "consent_ip")
	    ", ', '), ''), 'none recorded') || '; was ' || status"
	    " FROM memberships WHERE list = ?2";
	/* clang-format on */
	char now[21];

	store_utc_now(now);
	return store_run(st, sql, errstr, "keeping the consent records", "tt", now, id);
}

/*
 * Refuses to remove a list that a campaign in review, approved, scheduled,
 * sending or paused is for: its approvals name the list, and a list made
 * again with the same ID and other people would pass for the one approved.
 */
static enum store_status campaign_in_flight(struct store *st, const char *id, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_prepare(st,
			  "SELECT name, state FROM campaigns WHERE (list = ?1 OR segment IN"
			  " (SELECT name FROM segments WHERE list = ?1)) AND state IN"
			  " ('in_review', 'approved', 'scheduled', 'sending', 'paused')"
			  " ORDER BY id LIMIT 1",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		s = store_fail(errstr, STORE_EINVAL,
			       "the list %s is the audience of the campaign %s, which is %s; "
			       "cancel the campaign first (or let it finish)",
			       id, (const char *)sqlite3_column_text(q, 0),
			       (const char *)sqlite3_column_text(q, 1));
	else if (sqlite3_errcode(st->db) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "removing a list");
	sqlite3_finalize(q);
	return s;
}

enum store_status store_list_rm(struct store *st, const char *id, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char details[64];
	int64_t members = 0;

	s = store_require(st, STORE_PERM_LISTS, "list.rm", errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "removing a list");
	if (s != STORE_OK)
		return s;
	s = store_list_check(st, id, errstr);
	if (s == STORE_OK)
		s = campaign_in_flight(st, id, errstr);
	if (s == STORE_OK)
		s = store_prepare(st, "SELECT count(*) FROM memberships WHERE list = ?", &q,
				  errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			members = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		s = keep_consent(st, id, errstr);
	}
	if (s == STORE_OK)
		s = store_prepare(st, "DELETE FROM lists WHERE id = ?", &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "removing a list");
		sqlite3_finalize(q);
	}
	snprintf(details, sizeof(details), "%lld memberships removed", (long long)members);
	if (s == STORE_OK)
		s = store_audit(st, "list.rm", id, "ok", details);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_list_ls(struct store *st, bool counts, store_list_cb cb, void *arg,
				char **errstr)
{
	static const char *const counted =
	    "SELECT l.id, l.name, l.description, l.created,"
	    " (SELECT count(*) FROM memberships m JOIN subscribers s ON s.id = m.subscriber"
	    "  WHERE m.list = l.id AND m.status = 'active' AND s.status = 'active'"
	    "  AND s.suppressed = 0 AND s.domain NOT IN"
	    "  (SELECT value FROM suppressions WHERE kind = 'domain')),"
	    " (SELECT count(*) FROM memberships m WHERE m.list = l.id)"
	    " FROM lists l ORDER BY l.id";
	static const char *const uncounted =
	    "SELECT id, name, description, created, -1, -1 FROM lists ORDER BY id";
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_list_info l;
	int rc;

	s = store_require(st, STORE_PERM_SUBSCRIBERS_READ, "list.ls", errstr);
	if (s == STORE_OK)
		s = store_prepare(st, counts ? counted : uncounted, &q, errstr);
	if (s != STORE_OK)
		return s;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		l.id = (const char *)sqlite3_column_text(q, 0);
		l.name = (const char *)sqlite3_column_text(q, 1);
		l.description = (const char *)sqlite3_column_text(q, 2);
		l.created = (time_t)sqlite3_column_int64(q, 3);
		l.active = sqlite3_column_int64(q, 4);
		l.members = sqlite3_column_int64(q, 5);
		if (cb(&l, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlfail(st, errstr, "listing lists");
}
