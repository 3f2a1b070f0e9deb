/*
 * store/consent.c: the consent records an erasure keeps for a while.
 *
 * Japan's Act on Specified Electronic Mail asks a sender to keep the record
 * of each person's consent until at least a month after the last mail sent
 * to them; GDPR Art. 17(3)(b) lets an erasure keep what a legal obligation
 * needs. So an erasure within CONSENT_HOLD of a mail that went out (or may
 * have: uncertain, or in flight as the erasure runs) moves the person's
 * consent records, with the address they prove consent for, into
 * consent_held, and nothing else of theirs: their lists' records, and those
 * of lists removed since (kept in their history by `list rm`, as text). The
 * first login after the hold ends deletes them (consent_purge). An erasure
 * with no such mail keeps nothing.
 */
#include <stdio.h>
#include <string.h>

#include "store/subscribers_private.h"

enum store_status consent_hold(struct store *st, int64_t id, const char *addr, const char *h,
			       time_t now, time_t *until, char **errstr)
{
	enum store_status s;
	int64_t last = 0;

	int64_t kept = 0;

	*until = 0;
	/* Sent, uncertain, or in flight now: each may have reached the person. */
	s = store_query_int(st,
			    "SELECT max(updated) FROM queue WHERE subscriber = ?1"
			    " AND (state = 1 OR state = 2 OR state = 5)",
			    &last, errstr, 1, id);
	if (s != STORE_OK || last <= 0 || last + CONSENT_HOLD <= (int64_t)now)
		return s;
	s = store_run(st,
		      "INSERT INTO consent_held (ehash, email, list, source, at, method, text, ip,"
		      " version, confirmed, last_mail, until) SELECT ?, ?, list, consent_source,"
		      " consent_at, consent_method, consent_text, consent_ip, consent_version,"
		      " consent_confirmed, ?, ? FROM memberships"
		      " WHERE subscriber = ?",
		      errstr, "keeping the consent records", "ttiii", h, addr, last,
		      last + CONSENT_HOLD, id);
	kept = s == STORE_OK ? sqlite3_changes(st->db) : 0;
	/* Those of lists removed since, which `list rm` kept in the history. */
	if (s == STORE_OK)
		s = store_run(st,
			      "INSERT INTO consent_held (ehash, email, list, source, at, method,"
			      " text, ip, last_mail, until) SELECT ?, ?, list, '', '', '', details,"
			      " '', ?, ? FROM subscriber_events WHERE subscriber = ?"
			      " AND event = 'list-removed'",
			      errstr, "keeping the consent records", "ttiii", h, addr, last,
			      last + CONSENT_HOLD, id);
	if (s == STORE_OK)
		kept += sqlite3_changes(st->db);
	if (s == STORE_OK && kept > 0)
		*until = (time_t)(last + CONSENT_HOLD);
	return s;
}

enum store_status consent_purge(struct store *st, int64_t *purged, char **errstr)
{
	enum store_status s;
	char details[128];

	*purged = 0;
	s = store_run(st, "DELETE FROM consent_held WHERE until <= ?", errstr,
		      "deleting consent records past their hold", "i", (int64_t)time(NULL));
	if (s != STORE_OK)
		return s;
	*purged = sqlite3_changes(st->db);
	if (*purged == 0)
		return STORE_OK;
	snprintf(details, sizeof(details),
		 "%lld consent record%s of erased people deleted, a month after their last mail",
		 (long long)*purged, *purged == 1 ? "" : "s");
	return store_audit(st, "consent.purge", NULL, "ok", details);
}
