/*
 * store/unsubscribe.c: taking someone off a list, or off every list: asked
 * by address (subscriber unsubscribe), or by the person through the link of
 * a message, whose token names them and the list by number (the caller,
 * send/unsubscribe.c, checks the token's MAC).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/subscribers_private.h"

/* Is person id on the list, subscribed or not? (false on an error too) */
static bool on_list(struct store *st, const char *list, int64_t id)
{
	sqlite3_stmt *q = NULL;
	bool on;

	if (store_prepare(st, "SELECT 1 FROM memberships WHERE list = ? AND subscriber = ?", &q,
			  NULL) != STORE_OK)
		return false;
	sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, id);
	on = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return on;
}

/*
 * The person found (id, addr, status; who: how a message names them), in a
 * transaction begun: unsubscribes from list (NULL: every list, and
 * globally), records it with details (NULL for none) and commits.
 * Unsubscribed already: nothing changes, nothing is recorded, and *already
 * says so.
 */
static enum store_status unsubscribe_locked(struct store *st, int64_t id, const char *addr,
					    const char *who, const char *status, const char *list,
					    const char *details, bool *already, char **errstr)
{
	enum store_status s;
	int64_t now = (int64_t)time(NULL);
	int changed = 0;
	char h[65];

	if (list != NULL) {
		s = store_run(st,
			      "UPDATE memberships SET status = 'unsubscribed', updated = ?"
			      " WHERE list = ? AND subscriber = ? AND status <> 'unsubscribed'",
			      errstr, "unsubscribing", "iti", now, list, id);
		changed = s == STORE_OK ? sqlite3_changes(st->db) : 0;
		if (s == STORE_OK && changed == 0 && !on_list(st, list, id))
			s = store_fail(errstr, STORE_ENOTFOUND, "%s is not on the list %s", who,
				       list);
	} else {
		s = store_run(st,
			      "UPDATE memberships SET status = 'unsubscribed', updated = ?"
			      " WHERE subscriber = ? AND status <> 'unsubscribed'",
			      errstr, "unsubscribing", "ii", now, id);
		changed = s == STORE_OK ? sqlite3_changes(st->db) : 0;
		if (s == STORE_OK && strcmp(status, "active") == 0) {
			s = store_run(st,
				      "UPDATE subscribers SET status = 'unsubscribed', updated = ?"
				      " WHERE id = ?",
				      errstr, "unsubscribing", "ii", now, id);
			changed++;
		}
	}
	if (s == STORE_OK && changed == 0) {
		if (already != NULL)
			*already = true;
		store_rollback(st);
		return STORE_OK;
	}
	if (s == STORE_OK)
		s = store_subscriber_event(st, id, "unsubscribed", list ? list : "*", details,
					   errstr);
	if (s == STORE_OK) {
		store_address_hash(st, addr, h);
		s = store_audit(st, "subscriber.unsubscribe", list ? list : "*", "ok", h);
	}
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_subscriber_unsubscribe(struct store *st, const char *email,
					       const char *list, bool *already, char **errstr)
{
	enum store_status s;
	char addr[STORE_ADDRESS_MAX + 1], status[16];
	int64_t id;

	if (already != NULL)
		*already = false;
	s = store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "subscriber.unsubscribe", errstr);
	if (s == STORE_OK)
		s = store_require_lookup(st, "subscriber.unsubscribe", errstr);
	if (s == STORE_OK)
		s = subscriber_norm(email, addr, errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "unsubscribing");
	if (s != STORE_OK)
		return s;
	/* A list that does not exist is not one the person is missing from. */
	if (list != NULL)
		s = store_list_check(st, list, errstr);
	if (s == STORE_OK)
		s = subscriber_find(st, addr, &id, status, errstr);
	if (s == STORE_OK && id == 0)
		s = store_fail(errstr, STORE_ENOTFOUND, "no subscriber has the address %s", addr);
	if (s == STORE_OK)
		return unsubscribe_locked(st, id, addr, addr, status, list, NULL, already, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_subscriber_unsubscribe_link(struct store *st, int64_t subscriber,
						    int64_t list_num, const char *how,
						    char list[65], bool *already, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char addr[STORE_ADDRESS_MAX + 1] = "", status[16] = "";

	list[0] = '\0';
	if (already != NULL)
		*already = false;
	/* The token names the person: no address is looked up or shown (no pii). */
	s = store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "subscriber.unsubscribe", errstr);
	if (s == STORE_OK)
		s = store_begin_err(st, errstr, "unsubscribing");
	if (s != STORE_OK)
		return s;
	s = store_prepare(st,
			  "SELECT s.email, s.status, l.id FROM subscribers s, lists l"
			  " WHERE s.id = ? AND l.num = ?",
			  &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_int64(q, 1, subscriber);
		sqlite3_bind_int64(q, 2, list_num);
		if (sqlite3_step(q) == SQLITE_ROW) {
			snprintf(addr, sizeof(addr), "%s", sqlite3_column_text(q, 0));
			snprintf(status, sizeof(status), "%s", sqlite3_column_text(q, 1));
			snprintf(list, 65, "%s", sqlite3_column_text(q, 2));
		} else {
			s = store_fail(errstr, STORE_ENOTFOUND,
				       "the link's person or list is no longer on file (erased, "
				       "or the list removed): there is nobody to unsubscribe");
		}
		sqlite3_finalize(q);
	}
	if (s == STORE_OK)
		return unsubscribe_locked(st, subscriber, addr, "the person the link names", status,
					  list, how, already, errstr);
	store_rollback(st);
	return s;
}
