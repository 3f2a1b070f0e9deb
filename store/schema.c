/*
 * store/schema.c: the versioned schema. PRAGMA user_version holds the number
 * of the last migration applied; store_migrate applies the newer ones inside
 * one transaction, so a store is never left half migrated.
 *
 * SQLCipher 3.4.1 is SQLite 3.15.2: no UPSERT, no window functions, no
 * RETURNING, no JSON1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers_private.h"

struct migration {
	int version;
	const char *sql;
};

/*
 * The CHECKs of migrations 2 and 4 as written then, byte for byte: migration
 * 7 finds them in sqlite_master by this text.
 */
#define SUBSCRIBERS_CHECK_V2                                                                       \
	"CHECK (status IN    ('active','unsubscribed','bounced','complained','erased'))"
/* What migration 7 makes of the first, and what 12 writes. */
#define SUBSCRIBERS_CHECK                                                                          \
	"CHECK (status = 'active' OR status = 'unsubscribed' OR status = 'bounced'"                \
	" OR status = 'complained' OR status = 'erased')"
#define CAMPAIGNS_CHECK_V4                                                                         \
	"CHECK (state IN ('draft','in_review',    'approved','rejected','scheduled','sending',"    \
	"'paused','sent','cancelled','failed'))"

static const struct migration migrations[] = {
    {1, "CREATE TABLE secrets ("
	"  name TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE roles ("
	"  name TEXT PRIMARY KEY, builtin INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE role_perms ("
	"  role TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,"
	"  perm TEXT NOT NULL, PRIMARY KEY (role, perm));"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL REFERENCES roles(name),"
	"  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','disabled')),"
	"  created INTEGER NOT NULL,"
	"  sign_pk BLOB NOT NULL, sign_nonce BLOB NOT NULL, sign_sealed BLOB NOT NULL);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL,"
	"  os_user TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL,"
	"  outcome TEXT NOT NULL, details TEXT NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX audit_time ON audit(time);"
	"CREATE TABLE config ("
	"  key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT INTO roles VALUES ('admin',1),('marketer',1),('operator',1),('viewer',1);"
	"INSERT INTO role_perms VALUES "
	"('admin','users'),('admin','roles'),('admin','settings'),"
	"('admin','keys'),('admin','audit'),('admin','reports'),"
	"('admin','campaigns.read');"
	"INSERT INTO role_perms VALUES "
	"('marketer','reports'),('marketer','subscribers.read'),"
	"('marketer','subscribers.write'),('marketer','subscribers.export'),"
	"('marketer','subscribers.erase'),('marketer','pii'),"
	"('marketer','lists'),('marketer','segments'),('marketer','templates'),"
	"('marketer','campaigns.read'),('marketer','campaigns.edit');"
	"INSERT INTO role_perms VALUES "
	"('operator','reports'),('operator','subscribers.read'),"
	"('operator','pii'),('operator','campaigns.read'),"
	"('operator','campaigns.approve'),('operator','campaigns.send');"
	"INSERT INTO role_perms VALUES "
	"('viewer','reports'),('viewer','subscribers.read'),"
	"('viewer','campaigns.read');"},
    /* Lists, subscribers, consent, suppression and segments (issue 3). */
    {2, "CREATE TABLE lists ("
	"  num INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE subscribers ("
	"  id INTEGER PRIMARY KEY,"	   /* from sequences: never reused */
	"  ehash INTEGER NOT NULL UNIQUE," /* keyed hash of the lower-cased address */
	"  email TEXT NOT NULL,"
	"  domain TEXT NOT NULL,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  status TEXT NOT NULL DEFAULT 'active' " SUBSCRIBERS_CHECK_V2 ","
	"  suppressed INTEGER NOT NULL DEFAULT 0,"
	"  attrs BLOB NOT NULL DEFAULT x'',"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE INDEX subscribers_domain ON subscribers(domain);"
	"CREATE TABLE memberships ("
	"  list TEXT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,"
	"  subscriber INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','unsubscribed')),"
	"  consent_source TEXT NOT NULL DEFAULT '', consent_at TEXT NOT NULL DEFAULT '',"
	"  consent_method TEXT NOT NULL DEFAULT '', consent_text TEXT NOT NULL DEFAULT '',"
	"  consent_ip TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  PRIMARY KEY (subscriber, list)) WITHOUT ROWID;"
	"CREATE TABLE subscriber_events ("
	"  id INTEGER PRIMARY KEY,"
	"  subscriber INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  time TEXT NOT NULL, event TEXT NOT NULL, list TEXT NOT NULL DEFAULT '',"
	"  details TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX subscriber_events_subscriber ON subscriber_events(subscriber);"
	"CREATE TABLE suppressions ("
	"  value TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('address','domain')),"
	"  address TEXT,"
	"  reason TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, by TEXT NOT NULL);"
	"CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE segments ("
	"  name TEXT PRIMARY KEY,"
	"  list TEXT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,"
	"  expr TEXT NOT NULL, created TEXT NOT NULL, by TEXT NOT NULL);"},
    {3, "CREATE TABLE templates ("
	"  name TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('markdown','html')),"
	"  layout TEXT NOT NULL DEFAULT 'plain', source TEXT NOT NULL, text_source TEXT,"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL, author TEXT NOT NULL);"
	"CREATE TABLE dkim_keys ("
	"  domain TEXT NOT NULL, selector TEXT NOT NULL,"
	"  alg TEXT NOT NULL CHECK (alg IN ('rsa','ed25519')),"
	"  private_key TEXT NOT NULL, public_txt TEXT NOT NULL, created INTEGER NOT NULL,"
	"  PRIMARY KEY (domain, selector));"},
    /*
     * Campaigns, approvals and the send queue (issue 5). A queue row is kept
     * small: state is a number (enum store_rcpt_state), times are epoch
     * seconds, and reply and message_id stay NULL until there is one. The
     * claim index serves claims, recovery, retries and the counts; the sent
     * index holds only sent rows, for the warm-up cap.
     * filled is when the queue was fixed (0: not yet), so it is fixed once
     * even when it came out empty.
     */
    {4, "CREATE TABLE campaigns ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  template TEXT NOT NULL, list TEXT NOT NULL, segment TEXT,"
	"  subject TEXT NOT NULL, from_addr TEXT,"
	"  state TEXT NOT NULL DEFAULT 'draft' " CAMPAIGNS_CHECK_V4 ","
	"  author TEXT NOT NULL, comment TEXT, pause_reason TEXT,"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  scheduled_at INTEGER NOT NULL DEFAULT 0, started_at INTEGER NOT NULL DEFAULT 0,"
	"  finished_at INTEGER NOT NULL DEFAULT 0, filled INTEGER NOT NULL DEFAULT 0,"
	"  approvals_needed INTEGER NOT NULL DEFAULT 1, version INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX campaigns_due ON campaigns(state, scheduled_at);"
	"CREATE TABLE approvals ("
	"  campaign INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,"
	"  approver TEXT NOT NULL, hash BLOB NOT NULL, sig BLOB NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '', time TEXT NOT NULL,"
	"  PRIMARY KEY (campaign, approver)) WITHOUT ROWID;"
	"CREATE TABLE queue ("
	"  campaign INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,"
	"  subscriber INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  email TEXT NOT NULL, domain TEXT NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 0, reply TEXT, message_id TEXT,"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_try INTEGER NOT NULL DEFAULT 0,"
	"  updated INTEGER NOT NULL,"
	"  PRIMARY KEY (campaign, subscriber)) WITHOUT ROWID;"
	"CREATE INDEX queue_claim ON queue(campaign, state, next_try);"
	"CREATE INDEX queue_sent ON queue(updated) WHERE state = 2;"},
    /*
     * The subscriber browser's keyset pages and prefix searches (issue 6,
     * store/browse.c): address and name, ASCII case ignored, id last so
     * that every key is unique. The partial index holds only the people who
     * are not plainly active, so that a status filter (the bounced, the
     * suppressed) pages through them without walking everyone.
     */
    {5, "CREATE INDEX subscribers_email ON subscribers(email COLLATE NOCASE, id);"
	"CREATE INDEX subscribers_name ON subscribers(name COLLATE NOCASE, id);"
	"CREATE INDEX subscribers_inactive ON subscribers(status, email COLLATE NOCASE, id)"
	"  WHERE status <> 'active' OR suppressed <> 0;"},
    /*
     * What each approval approved (issue 6, the review queue's diff): a
     * snapshot of the content of a campaign when it became approved. The
     * store keeps no other old versions.
     */
    {6, "CREATE TABLE campaign_versions ("
	"  campaign INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,"
	"  version INTEGER NOT NULL, subject TEXT NOT NULL, from_addr TEXT,"
	"  template TEXT NOT NULL, template_source TEXT NOT NULL, template_text TEXT,"
	"  list TEXT NOT NULL, segment TEXT, approver TEXT NOT NULL,"
	"  approved INTEGER NOT NULL,"
	"  PRIMARY KEY (campaign, version)) WITHOUT ROWID;"},
    /* The CHECKs above without IN lists: a step in C, rewrite_checks. */
    {7, ""},
    /*
     * The members of one list, in subscriber order: the browser's list
     * filter when the list is small (store/browse.c), the counts of
     * `list ls` and the cascade of `list rm`. A list's rows are appended at
     * the end of its range, so an import keeps it at little cost. IF NOT
     * EXISTS: a store put back to an earlier version by a test keeps it.
     */
    {8, "CREATE INDEX IF NOT EXISTS memberships_list ON memberships(list, subscriber);"},
    /*
     * Who else changed a campaign (issue 5, four eyes): the users other than
     * its author who edited it, or the campaign it was copied from, separated
     * by spaces. None of them may approve it. A step in C, add_editors.
     */
    {9, ""},
    /*
     * A suppression's reason may no longer hold an address (store/suppress.c,
     * reason_check): viewers read reasons and they outlive an erasure. Those
     * written before lose their text.
     */
    {10, "UPDATE suppressions SET reason = '(cleared: it held an email address)'"
	 "  WHERE reason LIKE '%_@_%';"},
    /*
     * The public key of each user's keyslot (store/user.c): key rotation
     * reseals the data key only to the slot of an active user with that key,
     * never to a line someone added to the keyslot file. Filled at user add,
     * at a password reset and, for the users of an older store, at their
     * next login. A step in C, add_slot_pk.
     */
    {11, ""},
    /*
     * One index, not two, says who is on file (issue 3, the import's
     * speed): the browser's index on the address, made UNIQUE with ASCII
     * case ignored, replaces the column ehash (the first 64 bits of the
     * keyed hash of the lower-cased address) and its unique index, the same
     * rule. The index on domain goes too: segments scan the members of a
     * list, and no query looks people up by domain alone. Each index cost
     * an import about a fifth of its time. The table is rebuilt, the
     * procedure SQLite documents, with foreign keys off (store_migrate): a
     * DROP TABLE would otherwise delete every membership with it. Its new
     * indexes are made first and filled as the rows move, in the page cache
     * (a CREATE INDEX afterwards sorts in memory); the rows move in a step
     * in C, move_subscribers.
     */
    {12, "PRAGMA cache_size = -40000;"
	 "DROP INDEX IF EXISTS subscribers_domain;"
	 "DROP INDEX IF EXISTS subscribers_email;"
	 "DROP INDEX IF EXISTS subscribers_name;"
	 "DROP INDEX IF EXISTS subscribers_inactive;"
	 "CREATE TABLE subscribers_new ("
	 "  id INTEGER PRIMARY KEY,"
	 "  email TEXT NOT NULL COLLATE NOCASE,"
	 "  domain TEXT NOT NULL,"
	 "  name TEXT NOT NULL DEFAULT '',"
	 "  status TEXT NOT NULL DEFAULT 'active' " SUBSCRIBERS_CHECK ","
	 "  suppressed INTEGER NOT NULL DEFAULT 0,"
	 "  attrs BLOB NOT NULL DEFAULT x'',"
	 "  created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	 "CREATE UNIQUE INDEX subscribers_email ON subscribers_new(email COLLATE NOCASE);"
	 "CREATE INDEX subscribers_name ON subscribers_new(name COLLATE NOCASE, id);"
	 "CREATE INDEX subscribers_inactive ON subscribers_new(status, email COLLATE NOCASE, id)"
	 "  WHERE status <> 'active' OR suppressed <> 0;"},
    /*
     * What an erasure leaves of a person's sends: the state and time of
     * each message that went out or failed, and whether the person had
     * bounced, with no address and no link to anyone. A campaign's counts,
     * the day's sends that warm-up caps and the breaker's rates stay true
     * after an erasure (store_subscriber_erase, store/queue_admin.c). IF
     * NOT EXISTS: a store put back to an earlier version by a test keeps it.
     */
    {13, "CREATE TABLE IF NOT EXISTS queue_erased ("
	 "  campaign INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,"
	 "  state INTEGER NOT NULL, bounced INTEGER NOT NULL DEFAULT 0,"
	 "  updated INTEGER NOT NULL);"
	 "CREATE INDEX IF NOT EXISTS queue_erased_campaign ON queue_erased(campaign, state);"
	 "CREATE INDEX IF NOT EXISTS queue_erased_updated ON queue_erased(updated)"
	 "  WHERE state = 2;"},
    /*
     * subscribers.suppressed marks a person on the suppression list by
     * domain too, not only by address (store/suppress.c), so that the
     * browser shows them as suppressed and pages through them with the
     * others. The people of the domains listed before are marked here.
     */
    {14, "UPDATE subscribers SET suppressed = 1 WHERE suppressed = 0"
	 "  AND domain IN (SELECT value FROM suppressions WHERE kind = 'domain');"},
    /*
     * A message sent is in the person's history from its queue row
     * (store/subscriber.c, HISTORY_SQL); the event each one wrote before
     * would show it twice.
     */
    {15, "DELETE FROM subscriber_events WHERE event = 'sent' AND EXISTS"
	 "  (SELECT 1 FROM campaigns c CROSS JOIN queue q WHERE c.name = subscriber_events.details"
	 "   AND q.campaign = c.id AND q.subscriber = subscriber_events.subscriber"
	 "   AND q.state = 2);"},
    /*
     * Names and attributes are kept in Unicode NFC (store_nfc), and
     * attribute names without spaces around them, as an import reads them:
     * those written before are put so by a step in C, subscriber_keep_all.
     */
    {16, ""},
    /*
     * The consent records an erasure keeps until a month after the last
     * mail to the person (store/consent.c), with the address they are for
     * and its keyed hash, by which `subscriber data` finds them. IF NOT
     * EXISTS: a store put back to an earlier version by a test keeps it.
     */
    {17, "CREATE TABLE IF NOT EXISTS consent_held ("
	 "  ehash TEXT NOT NULL, email TEXT NOT NULL, list TEXT NOT NULL,"
	 "  source TEXT NOT NULL, at TEXT NOT NULL, method TEXT NOT NULL,"
	 "  text TEXT NOT NULL, ip TEXT NOT NULL,"
	 "  last_mail INTEGER NOT NULL, until INTEGER NOT NULL);"
	 "CREATE INDEX IF NOT EXISTS consent_held_ehash ON consent_held(ehash);"
	 "CREATE INDEX IF NOT EXISTS consent_held_until ON consent_held(until);"},
    /*
     * Each complaint (a feedback report, `bounce read`) with the campaign it
     * was about, when known, and its time, and nothing of the person: the
     * complaint rate that mailbox providers hold senders to (0.3%, 0.1% as a
     * target) outlives an erasure as the sends it is a rate of do.
     */
    {18, "CREATE TABLE IF NOT EXISTS complaints (campaign INTEGER, time INTEGER NOT NULL);"
	 "CREATE INDEX IF NOT EXISTS complaints_campaign ON complaints(campaign);"
	 "CREATE INDEX IF NOT EXISTS complaints_time ON complaints(time);"},
    /*
     * A complaint is counted once for each message: the person's number
     * (which names nobody once they are erased) beside the campaign.
     */
    {19, ""},
    /*
     * A consent record proves which version of the text was agreed to and
     * when a double opt-in was confirmed (GDPR Art. 7(1)): two fields more
     * in each membership and in what an erasure holds (consent_held). A
     * step in C, add_consent_proof.
     */
    {20, ""},
    /*
     * What features read back from the audit trail is kept where it
     * belongs, so that the trail's retention (audit.retention) may delete
     * old records: suppressions.erased marks the entry an erasure left
     * (suppress rm never removes it); campaigns.scheduled_review says that
     * what last put a campaign in review was a schedule (its last approval
     * makes it due, store_campaign_approve); campaigns.rejected_by and
     * rejected_at say who last rejected it, and when. A step in C,
     * keep_audit_facts, fills them from the trail.
     */
    {21, ""},
    /* Later issues append their migrations here, in order. */
};

/*
 * SQLite 3.15 tests `x IN (a, b, c)`, with more than two constants, by
 * building a temporary b-tree each time: in a CHECK that is every row
 * written, about 30,000 instructions, a third of an import. The same test
 * written with OR is a few comparisons. A CHECK may be rewritten in place in
 * sqlite_master (writable_schema), the procedure SQLite documents for
 * changing constraints, because nothing on disk depends on its text: the
 * rows that pass one form pass the other. The new text is first compiled in
 * an empty database to prove that it parses. A store whose text differs
 * keeps its CHECK, which is as strict, only slower.
 */
static const struct {
	const char *table, *from, *to;
} check_rewrites[] = {
    {"subscribers", SUBSCRIBERS_CHECK_V2, SUBSCRIBERS_CHECK},
    {"campaigns", CAMPAIGNS_CHECK_V4,
     "CHECK (state = 'draft' OR state = 'in_review' OR state = 'approved'"
     " OR state = 'rejected' OR state = 'scheduled' OR state = 'sending'"
     " OR state = 'paused' OR state = 'sent' OR state = 'cancelled' OR state = 'failed')"},
};

static int parses(const char *sql)
{
	sqlite3 *db = NULL;
	int ok = sqlite3_open(":memory:", &db) == SQLITE_OK &&
		 sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;

	sqlite3_close(db);
	return ok;
}

/* The text of table i with its CHECK rewritten, or NULL when not found. */
static char *rewritten(struct store *st, size_t i)
{
	sqlite3_stmt *q = NULL;
	const char *old, *at;
	char *sql = NULL;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
			       -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(q, 1, check_rewrites[i].table, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && (old = (const char *)sqlite3_column_text(q, 0)) &&
	    (at = strstr(old, check_rewrites[i].from)) != NULL &&
	    asprintf(&sql, "%.*s%s%s", (int)(at - old), old, check_rewrites[i].to,
		     at + strlen(check_rewrites[i].from)) < 0)
		sql = NULL;
	sqlite3_finalize(q);
	return sql;
}

static enum store_status rewrite_one(struct store *st, size_t i, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	char *sql = rewritten(st, i);

	if (sql == NULL)
		return STORE_OK;
	if (!parses(sql)) {
		free(sql);
		return store_fail(errstr, STORE_EIO,
				  "migrating the store: the new CHECK of %s does not parse",
				  check_rewrites[i].table);
	}
	s = store_prepare(
	    st, "UPDATE sqlite_master SET sql = ?1 WHERE type = 'table' AND name = ?2", &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, sql, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, check_rewrites[i].table, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "migrating the store");
		sqlite3_finalize(q);
	}
	free(sql);
	return s;
}

/* Then the schema's version goes up, so that other connections read it again. */
static enum store_status rewrite_checks(struct store *st, char **errstr)
{
	enum store_status s;
	int64_t version = 0;
	char sql[64];
	size_t i;

	s = store_query_int(st, "PRAGMA schema_version", &version, errstr, 0);
	if (s == STORE_OK)
		s = store_exec(st, "PRAGMA writable_schema = ON", errstr);
	for (i = 0; s == STORE_OK && i < sizeof(check_rewrites) / sizeof(check_rewrites[0]); i++)
		s = rewrite_one(st, i, errstr);
	snprintf(sql, sizeof(sql), "PRAGMA schema_version = %lld", (long long)version + 1);
	if (s == STORE_OK)
		s = store_exec(st, sql, errstr);
	store_exec(st, "PRAGMA writable_schema = OFF", NULL);
	return s;
}

/*
 * Migration 9: campaigns.editors, added only where missing (ALTER TABLE has
 * no IF NOT EXISTS), so that a store put back to an earlier version by a
 * test migrates again.
 */
/*
 * Does the table have the column? A store put back to an earlier version by
 * a test has it already. PRAGMA table_info: SQLite 3.15 has no
 * pragma_table_info() to query.
 */
static enum store_status has_column(struct store *st, const char *table, const char *column,
				    bool *have, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	char sql[80];

	*have = false;
	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	s = store_prepare(st, sql, &q, errstr);
	if (s != STORE_OK)
		return s;
	while (!*have && sqlite3_step(q) == SQLITE_ROW)
		*have = strcmp((const char *)sqlite3_column_text(q, 1), column) == 0;
	sqlite3_finalize(q);
	return STORE_OK;
}

/* ALTER TABLE table ADD COLUMN column decl, unless a test's store has it already. */
static enum store_status add_column(struct store *st, const char *table, const char *column,
				    const char *decl, char **errstr)
{
	enum store_status s;
	bool have;
	char *sql;

	s = has_column(st, table, column, &have, errstr);
	if (s != STORE_OK || have)
		return s;
	sql = sqlite3_mprintf("ALTER TABLE %s ADD COLUMN %s %s;", table, column, decl);
	if (sql == NULL)
		return store_fail(errstr, STORE_ENOMEM, "out of memory");
	s = store_exec(st, sql, errstr);
	sqlite3_free(sql);
	return s;
}

static enum store_status add_slot_pk(struct store *st, char **errstr)
{
	return add_column(st, "users", "slot_pk", "BLOB", errstr);
}

/* Migration 20: the consent's version and double opt-in confirmation. */
static enum store_status add_consent_proof(struct store *st, char **errstr)
{
	static const char *const add[][2] = {
	    {"memberships", "consent_version"},
	    {"memberships", "consent_confirmed"},
	    {"consent_held", "version"},
	    {"consent_held", "confirmed"},
	};
	enum store_status s = STORE_OK;
	size_t i;

	for (i = 0; s == STORE_OK && i < sizeof(add) / sizeof(add[0]); i++)
		s = add_column(st, add[i][0], add[i][1], "TEXT NOT NULL DEFAULT ''", errstr);
	return s;
}

/* Migration 19: complaints.subscriber, unless a test's store has it already. */
static enum store_status add_complaint_subscriber(struct store *st, char **errstr)
{
	enum store_status s = add_column(st, "complaints", "subscriber", "INTEGER", errstr);

	if (s == STORE_OK)
		s = store_exec(st,
			       "CREATE UNIQUE INDEX IF NOT EXISTS complaints_once"
			       " ON complaints(campaign, subscriber);",
			       errstr);
	return s;
}

/*
 * Migration 12, after its SQL: the rows move to the new subscribers table
 * a few thousand at a time, and the old table, empty, goes. secure_delete
 * overwrites each row deleted, and one statement over them all would keep a
 * copy of every page it changed in memory (a statement journal, which
 * SQLCipher keeps in memory) until it ended: a copy of the table.
 */
static enum store_status move_subscribers(struct store *st, char **errstr)
{
	enum store_status s;

	do {
		s = store_exec(st,
			       "INSERT INTO subscribers_new (id, email, domain, name, status,"
			       " suppressed, attrs, created, updated) SELECT id, email, domain,"
			       " name, status, suppressed, attrs, created, updated FROM subscribers"
			       " ORDER BY id LIMIT 5000",
			       errstr);
		if (s == STORE_OK)
			s = store_exec(st,
				       "DELETE FROM subscribers WHERE id IN"
				       " (SELECT id FROM subscribers ORDER BY id LIMIT 5000)",
				       errstr);
	} while (s == STORE_OK && sqlite3_changes(st->db) > 0);
	if (s == STORE_OK)
		s = store_exec(st,
			       "DROP TABLE subscribers;"
			       "ALTER TABLE subscribers_new RENAME TO subscribers;"
			       "PRAGMA cache_size = -2000;",
			       errstr);
	return s;
}

static enum store_status add_editors(struct store *st, char **errstr)
{
	enum store_status s;
	bool have;

	s = has_column(st, "campaigns", "editors", &have, errstr);
	if (s != STORE_OK || have)
		return s;
	/*
	 * The editors so far, from the audit trail: who edited each campaign
	 * (other than its author), and for a copy the original's author and
	 * editors (a name may then come twice, which changes nothing). Names
	 * hold no ',' or ' ' (store_name_check).
	 */
	return store_exec(
	    st,
	    "ALTER TABLE campaigns ADD COLUMN editors TEXT NOT NULL DEFAULT '';"
	    "UPDATE campaigns SET editors = coalesce((SELECT replace(group_concat(DISTINCT a.user),"
	    "  ',', ' ') FROM audit a WHERE a.action = 'campaign.edit' AND a.outcome = 'ok'"
	    "  AND a.object = campaigns.name AND a.user <> campaigns.author), '');"
	    "UPDATE campaigns SET editors = trim(editors || ' ' || (SELECT trim(o.author || ' '"
	    "  || o.editors) FROM audit a JOIN campaigns o ON o.name = a.details"
	    "  WHERE a.action = 'campaign.copy' AND a.outcome = 'ok'"
	    "  AND a.object = campaigns.name))"
	    " WHERE EXISTS (SELECT 1 FROM audit a WHERE a.action = 'campaign.copy'"
	    "  AND a.outcome = 'ok' AND a.object = campaigns.name"
	    "  AND a.details IN (SELECT name FROM campaigns));",
	    errstr);
}

/*
 * Migration 21: the columns, filled from the audit trail as the features
 * read it before (suppress.c, approval.c). A fill sets only what a record
 * says, so that it may run again on a test's store.
 */
static enum store_status keep_audit_facts(struct store *st, char **errstr)
{
	enum store_status s;

	s = add_column(st, "suppressions", "erased", "INTEGER NOT NULL DEFAULT 0", errstr);
	if (s == STORE_OK)
		s = add_column(st, "campaigns", "scheduled_review", "INTEGER NOT NULL DEFAULT 0",
			       errstr);
	if (s == STORE_OK)
		s = add_column(st, "campaigns", "rejected_by", "TEXT", errstr);
	if (s == STORE_OK)
		s = add_column(st, "campaigns", "rejected_at", "TEXT", errstr);
	if (s != STORE_OK)
		return s;
	return store_exec(
	    st,
	    "UPDATE suppressions SET erased = 1 WHERE kind = 'address' AND value IN"
	    "  (SELECT object FROM audit WHERE action = 'subscriber.erase' AND outcome = 'ok');"
	    "UPDATE campaigns SET scheduled_review = (SELECT a.action = 'campaign.schedule'"
	    "  FROM audit a WHERE a.object = campaigns.name AND a.outcome = 'ok' AND a.action IN"
	    "  ('campaign.submit', 'campaign.resubmit', 'campaign.schedule')"
	    "  ORDER BY a.id DESC LIMIT 1)"
	    " WHERE EXISTS (SELECT 1 FROM audit a WHERE a.object = campaigns.name"
	    "  AND a.outcome = 'ok' AND a.action IN"
	    "  ('campaign.submit', 'campaign.resubmit', 'campaign.schedule'));"
	    "UPDATE campaigns SET"
	    " rejected_by = (SELECT a.user FROM audit a WHERE a.action = 'campaign.reject'"
	    "  AND a.object = campaigns.name AND a.outcome = 'ok' ORDER BY a.id DESC LIMIT 1),"
	    " rejected_at = (SELECT a.time FROM audit a WHERE a.action = 'campaign.reject'"
	    "  AND a.object = campaigns.name AND a.outcome = 'ok' ORDER BY a.id DESC LIMIT 1)"
	    " WHERE EXISTS (SELECT 1 FROM audit a WHERE a.action = 'campaign.reject'"
	    "  AND a.object = campaigns.name AND a.outcome = 'ok');",
	    errstr);
}

/* The migrations that have a step in C, run after their SQL. */
static const struct {
	int version;
	enum store_status (*run)(struct store *st, char **errstr);
	bool reopen; /* it changed the schema behind SQLite's back */
} steps[] = {
    /* clang-format off */
    {7, rewrite_checks, true},
    {9, add_editors, false},
    {11, add_slot_pk, false},
    {12, move_subscribers, false},
    {16, subscriber_keep_all, false},
    {19, add_complaint_subscriber, false},
    {20, add_consent_proof, false},
    {21, keep_audit_facts, false},
    /* clang-format on */
};

/* Runs the step of a migration, if it has one; *reopen when it asks for a new connection. */
static enum store_status run_steps(struct store *st, int version, int *reopen, char **errstr)
{
	enum store_status s = STORE_OK;
	size_t i;

	for (i = 0; s == STORE_OK && i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i].version == version) {
			s = steps[i].run(st, errstr);
			*reopen |= steps[i].reopen;
		}
	return s;
}

/* migrate_some inside its transaction. */
static enum store_status migrate_locked(struct store *st, int *reopen, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *stmt = NULL;
	char sql[64];
	int have = 0;
	size_t i;

	s = store_begin_err(st, errstr, "migrating the store");
	if (s != STORE_OK)
		return s;
	s = store_prepare(st, "PRAGMA user_version", &stmt, errstr);
	if (s != STORE_OK)
		goto done;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		have = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (have > migrations[sizeof(migrations) / sizeof(migrations[0]) - 1].version) {
		s = store_fail(errstr, STORE_ECORRUPT,
			       "the store has schema version %d, newer than this hato knows; "
			       "upgrade hato",
			       have);
		goto done;
	}
	for (i = 0; !*reopen && i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		if (migrations[i].version <= have)
			continue;
		if (sqlite3_exec(st->db, migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK) {
			s = store_sqlfail(st, errstr, "migrating the store");
			goto done;
		}
		s = run_steps(st, migrations[i].version, reopen, errstr);
		if (s != STORE_OK)
			goto done;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", migrations[i].version);
		s = store_exec(st, sql, errstr);
		if (s != STORE_OK)
			goto done;
	}
done:
	if (s != STORE_OK) {
		store_rollback(st);
		return s;
	}
	return store_commit_err(st, errstr);
}

/*
 * Runs the migrations the store lacks, in one transaction, up to and
 * including the first whose step in C rewrote the schema behind SQLite's
 * back: *reopen then says so, for the next ones need a connection that has
 * read the new schema (ALTER TABLE works from the parsed one).
 */
static enum store_status migrate_some(struct store *st, int *reopen, char **errstr)
{
	enum store_status s;
	int64_t fk = 1;

	*reopen = 0;
	/*
	 * Foreign keys are off while migrating: a rebuilt table (12) is dropped
	 * and renamed, and its rows must not cascade. The pragma does nothing
	 * inside a transaction, so it is checked.
	 */
	sqlite3_exec(st->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	s = store_query_int(st, "PRAGMA foreign_keys", &fk, errstr, 0);
	if (s == STORE_OK && fk != 0)
		s = store_fail(errstr, STORE_EIO,
			       "migrating the store: cannot turn foreign keys off");
	if (s == STORE_OK)
		s = migrate_locked(st, reopen, errstr);
	sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return s;
}

enum store_status store_migrate(struct store *st, char **errstr)
{
	enum store_status s;
	int64_t now = 0;
	int reopen;

	/*
	 * A store that is up to date needs no write lock: an import holding
	 * one for minutes must not keep readers out. Otherwise the version is
	 * read again under the lock, as another hato may have migrated meanwhile.
	 */
	s = store_query_int(st, "PRAGMA user_version", &now, errstr, 0);
	if (s == STORE_OK &&
	    now == migrations[sizeof(migrations) / sizeof(migrations[0]) - 1].version)
		return STORE_OK;
	for (;;) {
		s = migrate_some(st, &reopen, errstr);
		if (s != STORE_OK || !reopen)
			return s;
		/* This connection keeps the schema it had read: a new one reads the new. */
		sqlite3_close(st->db);
		st->db = NULL;
		s = store_db_open(st->path, st->data_key, &st->db, errstr);
		if (s != STORE_OK)
			return s;
	}
}
