/*
 * store/browse.c: pages of subscribers for the terminal UI's browser, by
 * keyset pagination over the indexes of migration 5. A page never skips
 * with OFFSET and, but for the small lists below, never sorts: it walks an
 * index from a key.
 *
 * The key of a row is (address, id) in part 0 and (name, id) in part 1,
 * compared with NOCASE as the indexes are. A page goes on into the next part
 * (or back into the previous one) when the current one runs out.
 *
 * One exception: filtered by a small list, a walk of the address index
 * would pass everyone else to find the few members (650 ms for 10 people
 * among 1,000,000). So when the list has at most SMALL_LIST members, a page
 * starts from the list's members (the index of migration 8) and sorts them,
 * which costs about 10 us a member in a store of 1,000,000: 40 ms at most.
 * A larger list is walked. Two things keep each step of the walk cheap:
 * membership is looked up in the list's own range of that index, a few
 * pages that stay in the cache, not in the primary key, spread over the
 * whole table (35 us a step among 1,000,000, most of it decrypting pages);
 * and, by address without a status filter, the walk reads the address
 * index alone and only the page found is read from the table. How far it
 * goes depends on where the members sit in the address order: a page of 20
 * takes from well under a millisecond to a pass over everyone (0.4 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers_private.h"

#define BROWSE_MAX 1000
#define SMALL_LIST 4000

/* A prefix range [lo, hi) under NOCASE; hi empty means "no upper bound". */
struct range {
	char lo[STORE_ADDRESS_MAX + 1];
	char hi[STORE_ADDRESS_MAX + 1];
	bool set;
};

struct page {
	struct store *st;
	const struct store_browse *q;
	/* The search: [0] as addresses are kept (domains as A-labels), [1] as names are. */
	struct range r[2];
	bool pii;
	bool small_list; /* filtered by a list of at most SMALL_LIST members */
	/* The rows read, kept to hand back in display order. */
	struct store_browse_row *rows;
	size_t n;
};

/*
 * NOCASE folds ASCII upper case to lower case before comparing bytes, so the
 * bounds are made in that folded space: lower-case the prefix and bump its
 * last byte. '@' + 1 is 'A', which NOCASE would fold to 'a'; the next folded
 * byte after '@' is '['.
 */
static bool make_range(const char *prefix, struct range *r)
{
	size_t n = strlen(prefix), i;
	unsigned char c;

	memset(r, 0, sizeof(*r));
	if (n == 0 || n >= sizeof(r->lo))
		return false;
	for (i = 0; i < n; i++) {
		c = (unsigned char)prefix[i];
		r->lo[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	memcpy(r->hi, r->lo, n + 1);
	while (n > 0 && (unsigned char)r->hi[n - 1] == 0xff)
		r->hi[--n] = '\0';
	if (n > 0) {
		c = (unsigned char)r->hi[n - 1] + 1;
		if (c >= 'A' && c <= 'Z')
			c = '[';
		r->hi[n - 1] = (char)c;
	}
	r->set = true;
	return true;
}

/*
 * The ranges of a search: names are kept in NFC (store_nfc), and so is what
 * is searched for; an address's domain is kept as A-labels, and so each
 * whole label of the search after its "@" is written (hanako@例え finds
 * hanako@xn--r8jz45g.jp; a label's first letters alone can't, as an A-label
 * is not made letter by letter).
 */
static enum store_status search_ranges(const char *search, struct range r[2], char **errstr)
{
	char *nfc = store_nfc_dup(search), a[STORE_ADDRESS_MAX + 1];
	bool ok;

	if (nfc == NULL)
		return STORE_ENOMEM;
	ok = make_range(nfc, &r[1]);
	if (strchr(nfc, '@') == NULL || address_alabels(nfc, strlen(nfc), a, sizeof(a)) != 0 ||
	    !make_range(a, &r[0]))
		r[0] = r[1];
	free(nfc);
	if (!ok)
		return store_fail(errstr, STORE_EINVAL, "the search text is too long");
	return STORE_OK;
}

static const char *const statuses[] = {"active",     "unsubscribed", "bounced",
				       "complained", "suppressed",   NULL};

static enum store_status check_status(const char *status, char **errstr)
{
	size_t i;

	if (status == NULL || *status == '\0')
		return STORE_OK;
	for (i = 0; statuses[i] != NULL; i++)
		if (strcmp(status, statuses[i]) == 0)
			return STORE_OK;
	return store_fail(errstr, STORE_EINVAL,
			  "no status \"%s\"; the statuses are active, unsubscribed, bounced, "
			  "complained and suppressed",
			  status);
}

/* The anchor row's sort key in its part; STORE_ENOTFOUND when it is gone. */
static enum store_status anchor_key(struct store *st, int64_t id, int part, char **key,
				    char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	const char *t;
	int rc;

	*key = NULL;
	s = store_prepare(st,
			  part == 0 ? "SELECT email FROM subscribers WHERE id = ?"
				    : "SELECT name FROM subscribers WHERE id = ?",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(q, 0);
		*key = strdup(t != NULL ? t : "");
		if (*key == NULL)
			s = STORE_ENOMEM;
	} else if (rc == SQLITE_DONE) {
		s = store_fail(errstr, STORE_ENOTFOUND,
			       "the row the page started from is gone; back to the top");
	} else {
		s = store_sqlfail(st, errstr, "browsing subscribers");
	}
	sqlite3_finalize(q);
	return s;
}

static void rows_free(struct page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free((char *)p->rows[i].email);
		free((char *)p->rows[i].name);
	}
	free(p->rows);
	p->rows = NULL;
	p->n = 0;
}

static enum store_status keep_row(struct page *p, sqlite3_stmt *q, int part)
{
	struct store_browse_row *r;
	const char *email = (const char *)sqlite3_column_text(q, 1);
	const char *name = (const char *)sqlite3_column_text(q, 2);
	const char *status = (const char *)sqlite3_column_text(q, 3);
	size_t i;

	r = &p->rows[p->n];
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(q, 0);
	r->part = part;
	r->email = store_mask_address(p->st, email != NULL ? email : "");
	r->name = store_mask_text(p->st, name != NULL ? name : "");
	if (r->email == NULL || r->name == NULL) {
		free((char *)r->email);
		free((char *)r->name);
		return STORE_ENOMEM;
	}
	/* Statuses are constants: point at ours, not at SQLite's buffer. */
	r->status = "active";
	for (i = 0; statuses[i] != NULL; i++)
		if (status != NULL && strcmp(status, statuses[i]) == 0)
			r->status = statuses[i];
	if (strcmp(r->status, "active") == 0 && sqlite3_column_int(q, 4) != 0)
		r->status = "suppressed";
	r->created = (time_t)sqlite3_column_int64(q, 5);
	p->n++;
	return STORE_OK;
}

/*
 * Reads up to `want` rows of one part after (or before) key/id, or from the
 * part's start (or end) when key is NULL.
 */
static enum store_status read_part(struct page *p, int part, const char *key, int64_t id,
				   size_t want, char **errstr)
{
	const struct store_browse *b = p->q;
	const char *col = part == 0 ? "s.email" : "s.name";
	const char *dir = b->backward ? "DESC" : "ASC";
	const char *cmp = b->backward ? "<" : ">";
	const char *index = part == 0 ? "subscribers_email" : "subscribers_name";
	bool inactive = b->status != NULL && *b->status != '\0' && strcmp(b->status, "active") != 0;
	/*
	 * Walking for a large list's members by address, the index alone says
	 * who; the rows are read for the page found. CROSS JOIN keeps that
	 * order: with the LIMIT a parameter, the planner would rather walk the
	 * whole table by address and look each row up in the page.
	 */
	bool ids_first = part == 0 && !p->small_list && b->list != NULL && *b->list != '\0' &&
			 (b->status == NULL || *b->status == '\0');
	char sql[1400];
	size_t len = 0;
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int rc;

	/*
	 * Few people are bounced or suppressed: page through the partial index
	 * of those (the status is one of ours, so it goes into the SQL as a
	 * literal, and the index's own WHERE is repeated for the planner).
	 */
	if (part == 0 && inactive)
		index = "subscribers_inactive";
#define ADD(...) len += (size_t)snprintf(sql + len, sizeof(sql) - len, __VA_ARGS__)
	if (ids_first)
		ADD("SELECT t.id, t.email, t.name, t.status, t.suppressed, t.created"
		    " FROM (SELECT s.id AS id");
	else
		ADD("SELECT s.id, s.email, s.name, s.status, s.suppressed, s.created");
	if (p->small_list)
		ADD(" FROM memberships m INDEXED BY memberships_list"
		    " CROSS JOIN subscribers s ON s.id = m.subscriber WHERE m.list = ?6");
	else
		ADD(" FROM subscribers s INDEXED BY %s WHERE 1", index);
	if (inactive)
		ADD(" AND s.status = '%s' AND (s.status <> 'active' OR s.suppressed <> 0)",
		    strcmp(b->status, "suppressed") == 0 ? "active" : b->status);
	if (p->r[0].set) {
		ADD(" AND %s COLLATE NOCASE >= ?%d AND %s COLLATE NOCASE < ?%d", col, 1, col, 2);
		/* A name match whose address matches too is in part 0 already. */
		if (part == 1 && p->pii)
			ADD(" AND NOT (s.email COLLATE NOCASE >= ?8 AND s.email COLLATE NOCASE < "
			    "?9)");
		/* A name holding an address, searched letter by letter, would spell it out. */
		if (part == 1 && !p->pii)
			ADD(" AND instr(s.name, '@') = 0");
	}
	if (key != NULL)
		ADD(" AND %s COLLATE NOCASE %s= ?3 AND (%s COLLATE NOCASE %s ?3 OR s.id %s ?4)",
		    col, cmp, col, cmp, cmp);
	if (b->status != NULL && strcmp(b->status, "suppressed") == 0)
		ADD(" AND s.suppressed <> 0");
	else if (b->status != NULL && strcmp(b->status, "active") == 0)
		ADD(" AND s.status = 'active' AND s.suppressed = 0");
	if (b->list != NULL && *b->list != '\0' && !p->small_list)
		ADD(" AND EXISTS (SELECT 1 FROM memberships m INDEXED BY memberships_list"
		    " WHERE m.subscriber = s.id AND m.list = ?6)");
	if (part == 0 && inactive)
		ADD(" ORDER BY s.status %s, %s COLLATE NOCASE %s, s.id %s LIMIT ?7", dir, col, dir,
		    dir);
	else
		ADD(" ORDER BY %s COLLATE NOCASE %s, s.id %s LIMIT ?7", col, dir, dir);
	if (ids_first)
		ADD(") AS w CROSS JOIN subscribers t ON t.id = w.id"
		    " ORDER BY t.email COLLATE NOCASE %s, t.id %s",
		    dir, dir);
#undef ADD
	if (len >= sizeof(sql))
		return store_fail(errstr, STORE_EUSAGE, "the page query is too long");
	s = store_prepare(p->st, sql, &q, errstr);
	if (s != STORE_OK)
		return s;
	if (p->r[0].set)
		for (int i = 0; i < 2; i++) {
			const struct range *r = &p->r[i == 0 ? part : 0];
			sqlite3_bind_text(q, i == 0 ? 1 : 8, r->lo, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, i == 0 ? 2 : 9, r->hi[0] ? r->hi : "\xff", -1,
					  SQLITE_STATIC);
		}
	if (key != NULL) {
		sqlite3_bind_text(q, 3, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 4, id);
	}
	if (b->list != NULL)
		sqlite3_bind_text(q, 6, b->list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 7, (int64_t)want);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		s = keep_row(p, q, part);
		if (s != STORE_OK)
			break;
	}
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(p->st, errstr, "browsing subscribers");
	sqlite3_finalize(q);
	return s;
}

/* Has the list at most SMALL_LIST members? Counts no further than that. */
static enum store_status list_is_small(struct page *p, const char *list, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;

	s = store_prepare(p->st,
			  "SELECT count(*) <= ?2 FROM (SELECT 1 FROM memberships"
			  " INDEXED BY memberships_list WHERE list = ?1 LIMIT ?2 + 1)",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, SMALL_LIST);
	if (sqlite3_step(q) == SQLITE_ROW)
		p->small_list = sqlite3_column_int(q, 0) != 0;
	else
		s = store_sqlfail(p->st, errstr, "browsing subscribers");
	sqlite3_finalize(q);
	return s;
}

static enum store_status page_read(struct page *p, char **errstr)
{
	const struct store_browse *b = p->q;
	int first = 0, last = 0, part, step = b->backward ? -1 : 1;
	char *key = NULL;
	enum store_status s = STORE_OK;

	if (p->r[0].set) {
		first = p->pii ? 0 : 1;
		last = 1;
	}
	part = b->backward ? last : first;
	if (b->list != NULL && *b->list != '\0') {
		s = list_is_small(p, b->list, errstr);
		if (s != STORE_OK)
			return s;
	}
	if (b->anchor != 0) {
		part = b->anchor_part < first  ? first
		       : b->anchor_part > last ? last
					       : b->anchor_part;
		s = anchor_key(p->st, b->anchor, part, &key, errstr);
		if (s != STORE_OK)
			return s;
	}
	for (; part >= first && part <= last && p->n < (size_t)b->limit; part += step) {
		s = read_part(p, part, key, b->anchor, (size_t)b->limit - p->n, errstr);
		free(key);
		key = NULL;
		if (s != STORE_OK)
			break;
	}
	free(key);
	return s;
}

enum store_status store_subscriber_page(struct store *st, const struct store_browse *q,
					store_browse_cb cb, void *arg, char **errstr)
{
	struct page p = {0};
	enum store_status s;
	size_t i;

	s = store_require(st, STORE_PERM_SUBSCRIBERS_READ, "subscriber.browse", errstr);
	if (s != STORE_OK)
		return s;
	if (q == NULL || cb == NULL || q->limit < 1 || q->limit > BROWSE_MAX)
		return store_fail(errstr, STORE_EUSAGE, "a page holds 1 to %d rows", BROWSE_MAX);
	s = check_status(q->status, errstr);
	if (s != STORE_OK)
		return s;
	p.st = st;
	p.q = q;
	p.pii = store_can(st, STORE_PERM_PII);
	if (q->search != NULL && *q->search != '\0') {
		s = search_ranges(q->search, p.r, errstr);
		if (s != STORE_OK)
			return s;
	}
	p.rows = calloc((size_t)q->limit, sizeof(*p.rows));
	if (p.rows == NULL)
		return STORE_ENOMEM;
	s = page_read(&p, errstr);
	for (i = 0; s == STORE_OK && i < p.n; i++)
		if (cb(&p.rows[q->backward ? p.n - 1 - i : i], arg) != 0)
			break;
	rows_free(&p);
	return s;
}

enum store_status store_subscriber_get_id(struct store *st, int64_t id,
					  struct store_subscriber **out, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	char *email = NULL;
	int rc;

	*out = NULL;
	s = store_require(st, STORE_PERM_SUBSCRIBERS_READ, "subscriber.show", errstr);
	if (s != STORE_OK)
		return s;
	s = store_prepare(st, "SELECT email FROM subscribers WHERE id = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		email = strdup((const char *)sqlite3_column_text(q, 0));
		if (email == NULL)
			s = STORE_ENOMEM;
	} else if (rc == SQLITE_DONE) {
		s = store_fail(errstr, STORE_ENOTFOUND, "no subscriber has the number %lld",
			       (long long)id);
	} else {
		s = store_sqlfail(st, errstr, "reading a subscriber");
	}
	sqlite3_finalize(q);
	/* By the row: the browser's user may not hold pii, and names nobody. */
	if (s == STORE_OK)
		s = subscriber_load(st, email, out, errstr);
	free(email);
	return s;
}
