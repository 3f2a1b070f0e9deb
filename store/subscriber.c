/*
 * store/subscriber.c: subscribers, their attributes, consent and history.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/subscribers_private.h"

/* ---- The attribute blob ------------------------------------------------ */

static int put_varint(struct attrs_buf *b, size_t v)
{
	do {
		if (store_reserve(&b->p, &b->cap, b->n + 1, 128) != 0)
			return -1;
		b->p[b->n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v > 0);
	return 0;
}

static int put_bytes(struct attrs_buf *b, const char *s, size_t n)
{
	if (put_varint(b, n) != 0)
		return -1;
	if (store_reserve(&b->p, &b->cap, b->n + n, 128) != 0)
		return -1;
	if (n > 0)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	return 0;
}

int attrs_put(struct attrs_buf *b, const char *k, size_t kl, const char *v, size_t vl)
{
	if (put_bytes(b, k, kl) != 0 || put_bytes(b, v, vl) != 0)
		return -1;
	return 0;
}

static int get_varint(const unsigned char *p, size_t n, size_t *pos, size_t *v)
{
	size_t x = 0;
	int shift = 0;

	while (*pos < n && shift < 35) {
		unsigned char c = p[(*pos)++];
		x |= (size_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

int attrs_next(const unsigned char *p, size_t n, size_t *pos, const char **k, size_t *kl,
	       const char **v, size_t *vl)
{
	if (*pos >= n)
		return 0;
	if (get_varint(p, n, pos, kl) != 0 || *kl > n - *pos)
		return -1;
	*k = (const char *)p + *pos;
	*pos += *kl;
	if (get_varint(p, n, pos, vl) != 0 || *vl > n - *pos)
		return -1;
	*v = (const char *)p + *pos;
	*pos += *vl;
	return 1;
}

int attrs_find(const unsigned char *p, size_t n, const char *key, size_t kl, const char **v,
	       size_t *vl)
{
	size_t pos = 0, l;
	const char *k;

	while (attrs_next(p, n, &pos, &k, &l, v, vl) == 1)
		if (l == kl && memcmp(k, key, kl) == 0)
			return 1;
	return 0;
}

int attrs_merge(struct attrs_buf *out, const unsigned char *old, size_t on, const unsigned char *nw,
		size_t nn)
{
	size_t pos = 0, kl, vl, vl2;
	const char *k, *v, *v2;

	while (attrs_next(old, on, &pos, &k, &kl, &v, &vl) == 1) {
		if (attrs_find(nw, nn, k, kl, &v2, &vl2)) {
			v = v2;
			vl = vl2;
		}
		if (attrs_put(out, k, kl, v, vl) != 0)
			return -1;
	}
	pos = 0;
	while (attrs_next(nw, nn, &pos, &k, &kl, &v, &vl) == 1)
		if (!attrs_find(old, on, k, kl, &v2, &vl2) && attrs_put(out, k, kl, v, vl) != 0)
			return -1;
	return 0;
}

void attrs_free(struct attrs_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

void attrs_array_free(struct store_attr *a, size_t n)
{
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		free((char *)a[i].key);
		free((char *)a[i].value);
	}
	free(a);
}

enum store_status attrs_decode(const unsigned char *p, size_t n, struct store_attr **out,
			       size_t *nout)
{
	size_t pos = 0, kl, vl, cnt = 0, i = 0;
	const char *k, *v;
	struct store_attr *a;

	*out = NULL;
	*nout = 0;
	while (attrs_next(p, n, &pos, &k, &kl, &v, &vl) == 1)
		cnt++;
	if (cnt == 0)
		return STORE_OK;
	a = calloc(cnt, sizeof(*a));
	if (a == NULL)
		return STORE_ENOMEM;
	pos = 0;
	while (i < cnt && attrs_next(p, n, &pos, &k, &kl, &v, &vl) == 1) {
		a[i].key = strndup(k, kl);
		a[i].value = strndup(v, vl);
		i++;
		if (a[i - 1].key == NULL || a[i - 1].value == NULL) {
			attrs_array_free(a, i);
			return STORE_ENOMEM;
		}
	}
	*out = a;
	*nout = cnt;
	return STORE_OK;
}

/* ---- Helpers ----------------------------------------------------------- */

enum store_status subscriber_norm(const char *in, char out[STORE_ADDRESS_MAX + 1], char **errstr)
{
	const char *why = NULL;

	if (store_address_normalise(in, strlen(in), out, &why) != STORE_OK)
		return store_fail(errstr, STORE_EINVAL, "not a valid address: %s", why);
	return STORE_OK;
}

void subscriber_hash(const struct store *st, const char *address, char out[65])
{
	unsigned char h[16], low[STORE_ADDRESS_MAX + 1];
	size_t i;

	for (i = 0; address[i] != '\0' && i < sizeof(low); i++) {
		char c = address[i];
		low[i] = (unsigned char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
	}
	if (i == sizeof(low)) {
		/* Not a normalised address: the slow path gives the same digest. */
		store_address_hash(st, address, out);
		return;
	}
	crypto_generichash(h, sizeof(h), low, i, st->hash_key, STORE_KEY_LEN);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

enum store_status subscriber_ids(struct store *st, int64_t take, int64_t *first, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;

	*first = 1;
	s = store_prepare(
	    st,
	    "SELECT max(coalesce((SELECT value FROM sequences WHERE name = 'subscriber'),"
	    " 0), coalesce((SELECT max(id) FROM subscribers), 0)) + 1",
	    &q, errstr);
	if (s != STORE_OK)
		return s;
	if (sqlite3_step(q) == SQLITE_ROW)
		*first = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (take == 0)
		return STORE_OK;
	s = store_prepare(st,
			  "INSERT OR REPLACE INTO sequences (name, value) VALUES ('subscriber', ?)",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, *first + take - 1);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "numbering subscribers");
	sqlite3_finalize(q);
	return s;
}

enum store_status subscriber_find(struct store *st, const char *address, int64_t *id,
				  char status[16], char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	int rc;

	*id = 0;
	if (status != NULL)
		status[0] = '\0';
	s = store_prepare(st, "SELECT id, status FROM subscribers WHERE email = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		if (status != NULL)
			snprintf(status, 16, "%s", (const char *)sqlite3_column_text(q, 1));
	} else if (rc != SQLITE_DONE) {
		s = store_sqlfail(st, errstr, "finding a subscriber");
	}
	sqlite3_finalize(q);
	return s;
}

enum store_status store_subscriber_event(struct store *st, int64_t subscriber, const char *event,
					 const char *list, const char *details, char **errstr)
{
	char now[21];

	store_utc_now(now);
	return store_run(st,
			 "INSERT INTO subscriber_events (subscriber, time, event, list, details) "
			 "VALUES (?,?,?,?,?)",
			 errstr, "recording an event", "itttt", subscriber, now, event, list,
			 details);
}

/* ---- Adding and unsubscribing ----------------------------------------- */

static enum store_status add_locked(struct store *st, const char *list, const char *addr,
				    const char *name, const struct store_attr *attrs, size_t nattrs,
				    const struct store_consent *c, char **errstr)
{
	enum store_status s;
	struct attrs_buf nw = {0}, merged = {0};
	sqlite3_stmt *q = NULL;
	char status[16], at[21], confirmed[21], h[65];
	int64_t id, now = (int64_t)time(NULL);
	bool supp = false;
	size_t i;
	int rc, member = -1;

	s = store_list_check(st, list, errstr);
	if (s != STORE_OK)
		return s;
	s = suppress_check(st, addr, &supp);
	if (s != STORE_OK)
		return s;
	if (supp)
		return store_fail(errstr, STORE_EEXIST,
				  "%s is on the suppression list and is never added again", addr);
	for (i = 0; i < nattrs; i++)
		if (attrs_put(&nw, attrs[i].key, strlen(attrs[i].key), attrs[i].value,
			      strlen(attrs[i].value)) != 0) {
			s = STORE_ENOMEM;
			goto done;
		}
	if (c != NULL && c->at != NULL && *c->at != '\0') {
		const char *why = subscriber_consent_at_why(c->at, strlen(c->at), (time_t)now, at);
		if (why != NULL) {
			s = store_fail(errstr, STORE_EINVAL, "the consent time \"%s\" %s", c->at,
				       why);
			goto done;
		}
	} else {
		store_utc_now(at);
	}
	confirmed[0] = '\0';
	if (c != NULL && c->confirmed != NULL && *c->confirmed != '\0') {
		bool own_at = c->at != NULL && *c->at != '\0';
		const char *why = subscriber_confirmed_why(
		    c->confirmed, strlen(c->confirmed), (time_t)now, own_at ? at : NULL, confirmed);
		if (why != NULL) {
			s = store_fail(errstr, STORE_EINVAL, "the confirmation time \"%s\" %s",
				       c->confirmed, why);
			goto done;
		}
		/* A consent with no time of its own is dated by its confirmation. */
		if (!own_at)
			memcpy(at, confirmed, sizeof(at));
	}
	s = subscriber_find(st, addr, &id, status, errstr);
	if (s != STORE_OK)
		goto done;
	if (id == 0) {
		s = subscriber_ids(st, 1, &id, errstr);
		if (s != STORE_OK)
			goto done;
		s = store_run(st,
			      "INSERT INTO subscribers (id, email, domain, name, attrs, created,"
			      " updated) VALUES (?,?,?,?,?,?,?)",
			      errstr, "adding a subscriber", "itttbii", id, addr,
			      store_address_domain(addr), name, nw.p, nw.n, now, now);
	} else {
		s = store_prepare(st, "SELECT attrs FROM subscribers WHERE id = ?", &q, errstr);
		if (s != STORE_OK)
			goto done;
		sqlite3_bind_int64(q, 1, id);
		if (sqlite3_step(q) == SQLITE_ROW &&
		    attrs_merge(&merged, sqlite3_column_blob(q, 0),
				(size_t)sqlite3_column_bytes(q, 0), nw.p, nw.n) != 0)
			s = STORE_ENOMEM;
		sqlite3_finalize(q);
		if (s == STORE_OK)
			s = store_run(
			    st,
			    "UPDATE subscribers SET name = CASE WHEN ? = '' THEN name ELSE ? END,"
			    " attrs = ?, updated = ? WHERE id = ?",
			    errstr, "updating a subscriber", "ttbii", name, name, merged.p,
			    merged.n, now, id);
	}
	if (s != STORE_OK)
		goto done;
	s = store_prepare(st, SUBSCRIBER_MEMBER_SQL, &q, errstr);
	if (s != STORE_OK)
		goto done;
	sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		member = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (member == 0 || (status[0] != '\0' && strcmp(status, "active") != 0)) {
		s = store_fail(errstr, STORE_EEXIST,
			       "%s is %s and is not subscribed again; only the person can "
			       "subscribe again",
			       addr, member == 0 ? "unsubscribed from this list" : status);
		goto done;
	}
	if (member == 1) {
		s = store_fail(errstr, STORE_EEXIST, "%s is on the list %s already", addr, list);
		goto done;
	}
	s = store_run(st,
		      "INSERT INTO memberships (list, subscriber, consent_source, consent_at,"
		      " consent_method, consent_text, consent_ip, consent_version,"
		      " consent_confirmed, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
		      errstr, "adding a member", "titttttttii", list, id,
		      c && c->source ? c->source : "hato subscriber add", at,
		      c && c->method ? c->method : "manual", c ? c->text : "", c ? c->ip : "",
		      c ? c->version : "", confirmed, now, now);
	if (s == STORE_OK)
		s = store_subscriber_event(st, id, "subscribed", list, NULL, errstr);
	if (s == STORE_OK) {
		store_address_hash(st, addr, h);
		s = store_audit(st, "subscriber.add", list, "ok", h);
	}
done:
	attrs_free(&nw);
	attrs_free(&merged);
	return s;
}

enum store_status store_subscriber_add(struct store *st, const char *list, const char *email,
				       const char *name, const struct store_attr *attrs,
				       size_t nattrs, const struct store_consent *consent,
				       char **errstr)
{
	enum store_status s;
	char addr[STORE_ADDRESS_MAX + 1], *nname = NULL;
	struct store_attr *nattr = NULL;

	s = store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "subscriber.add", errstr);
	/* Refusing someone who left would tell that the address is on file. */
	if (s == STORE_OK)
		s = store_require_lookup(st, "subscriber.add", errstr);
	if (s == STORE_OK)
		s = subscriber_norm(email, addr, errstr);
	if (s == STORE_OK)
		s = subscriber_kept_fields(name, attrs, nattrs, &nname, &nattr);
	if (s == STORE_OK)
		s = subscriber_check_fields(nname, nattr, nattrs, consent, errstr);
	if (s == STORE_OK)
		s = store_begin_err(st, errstr, "adding a subscriber");
	if (s == STORE_OK) {
		s = add_locked(st, list, addr, nname, nattr, nattrs, consent, errstr);
		if (s == STORE_OK)
			s = store_commit_err(st, errstr);
		else
			store_rollback(st);
	}
	free(nname);
	attrs_array_free(nattr, nattrs);
	return s;
}

/* ---- Reading ----------------------------------------------------------- */

static char *col(sqlite3_stmt *q, int i)
{
	const char *t = (const char *)sqlite3_column_text(q, i);

	return strdup(t ? t : "");
}

void store_subscriber_why_suppressed(const struct store_subscriber *p, char *out, size_t n)
{
	const char *r = p->suppression_reason != NULL ? p->suppression_reason : "";

	if (n == 0)
		return;
	if (!p->suppressed) {
		out[0] = '\0';
		return;
	}
	snprintf(out, n, "by its %s%s%s", p->suppressed_by ? p->suppressed_by : "address",
		 *r != '\0' ? "; reason: " : "", r);
}

void store_subscriber_free(struct store_subscriber **subp)
{
	struct store_subscriber *p;
	size_t i;

	if (subp == NULL || *subp == NULL)
		return;
	p = *subp;
	free(p->email);
	free(p->domain);
	free(p->name);
	free(p->status);
	free(p->suppressed_by);
	free(p->suppression_reason);
	attrs_array_free(p->attrs, p->nattrs);
	for (i = 0; i < p->nlists; i++) {
		struct store_membership *m = &p->lists[i];
		free(m->list);
		free(m->status);
		free(m->consent_source);
		free(m->consent_at);
		free(m->consent_method);
		free(m->consent_text);
		free(m->consent_ip);
		free(m->consent_version);
		free(m->consent_confirmed);
	}
	free(p->lists);
	for (i = 0; i < p->nevents; i++) {
		free(p->events[i].time);
		free(p->events[i].event);
		free(p->events[i].list);
		free(p->events[i].details);
	}
	free(p->events);
	free(p);
	*subp = NULL;
}

static enum store_status load_lists(struct store *st, struct store_subscriber *p, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	size_t cap = 0;
	int rc;

	s = store_prepare(st,
			  "SELECT list, status, consent_source, consent_at, consent_method,"
			  " consent_text, consent_ip, created, updated, consent_version,"
			  " consent_confirmed FROM memberships"
			  " WHERE subscriber = ? ORDER BY list",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, p->id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_membership *m;
		if (p->nlists == cap) {
			cap = cap ? cap * 2 : 4;
			m = realloc(p->lists, cap * sizeof(*m));
			if (m == NULL) {
				s = STORE_ENOMEM;
				break;
			}
			p->lists = m;
		}
		m = &p->lists[p->nlists++];
		m->list = col(q, 0);
		m->status = col(q, 1);
		m->consent_source = col(q, 2);
		m->consent_at = col(q, 3);
		m->consent_method = col(q, 4);
		m->consent_text = col(q, 5);
		m->consent_ip = col(q, 6);
		m->created = (time_t)sqlite3_column_int64(q, 7);
		m->updated = (time_t)sqlite3_column_int64(q, 8);
		m->consent_version = col(q, 9);
		m->consent_confirmed = col(q, 10);
	}
	sqlite3_finalize(q);
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "reading memberships");
	return s;
}

/*
 * The history:
 * - the events recorded;
 * - each message sent, from its queue row, with when it was sent and the
 *   campaign's list and name (store_queue_result writes no event for it: the
 *   worker would write a quarter more pages). The rows are found campaign by
 *   campaign through the queue's key: the queue has no index on the person,
 *   and CROSS JOIN keeps that order. In the same second a send comes after
 *   the events (k), as a failure before a retry that sent;
 * - for each membership no recorded "subscribed" event covers (an import
 *   writes none: one row per person would slow it down), one taken from the
 *   membership, when it was made and with the consent's source.
 */
#define HISTORY_SQL                                                                                \
	"SELECT time, event, list, details FROM ("                                                 \
	" SELECT time, event, list, details, 1 AS k, id FROM subscriber_events"                    \
	"  WHERE subscriber = ?1"                                                                  \
	" UNION ALL"                                                                               \
	" SELECT strftime('%Y-%m-%dT%H:%M:%SZ', q.updated, 'unixepoch'), 'sent', c.list, c.name,"  \
	"  2, 0 FROM campaigns c CROSS JOIN queue q"                                               \
	"  WHERE q.campaign = c.id AND q.subscriber = ?1 AND q.state = 2"                          \
	" UNION ALL"                                                                               \
	" SELECT strftime('%Y-%m-%dT%H:%M:%SZ', m.created, 'unixepoch') AS t, 'subscribed',"       \
	"  m.list, 'consent source: ' || m.consent_source, 0, 0 FROM memberships m"                \
	"  WHERE m.subscriber = ?1 AND NOT EXISTS (SELECT 1 FROM subscriber_events e"              \
	"  WHERE e.subscriber = ?1 AND e.list = m.list AND e.event = 'subscribed'"                 \
	"  AND e.time >= strftime('%Y-%m-%dT%H:%M:%SZ', m.created, 'unixepoch')))"                 \
	" ORDER BY time, k, id"

static enum store_status load_events(struct store *st, struct store_subscriber *p, char **errstr)
{
	sqlite3_stmt *q = NULL;
	enum store_status s;
	size_t cap = 0;
	int rc;

	s = store_prepare(st, HISTORY_SQL, &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, p->id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_event *e;
		if (p->nevents == cap) {
			cap = cap ? cap * 2 : 8;
			e = realloc(p->events, cap * sizeof(*e));
			if (e == NULL) {
				s = STORE_ENOMEM;
				break;
			}
			p->events = e;
		}
		e = &p->events[p->nevents++];
		e->time = col(q, 0);
		e->event = col(q, 1);
		e->list = col(q, 2);
		e->details = col(q, 3);
	}
	sqlite3_finalize(q);
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "reading history");
	return s;
}

enum store_status store_subscriber_get(struct store *st, const char *email,
				       struct store_subscriber **out, char **errstr)
{
	enum store_status s;
	char addr[STORE_ADDRESS_MAX + 1];

	*out = NULL;
	s = store_require(st, STORE_PERM_SUBSCRIBERS_READ, "subscriber.show", errstr);
	/* Whether an address is on file is what masking hides (store_require_lookup). */
	if (s == STORE_OK)
		s = store_require_lookup(st, "subscriber.show", errstr);
	if (s == STORE_OK)
		s = subscriber_norm(email, addr, errstr);
	if (s == STORE_OK)
		s = subscriber_load(st, addr, out, errstr);
	return s;
}

enum store_status subscriber_load(struct store *st, const char *addr, struct store_subscriber **out,
				  char **errstr)
{
	enum store_status s;
	struct store_subscriber *p = NULL;
	sqlite3_stmt *q = NULL;
	int rc;

	*out = NULL;
	s = store_prepare(st,
			  "SELECT id, email, domain, name, status, attrs, created, updated"
			  " FROM subscribers WHERE email = ?",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		s = rc == SQLITE_DONE ? store_fail(errstr, STORE_ENOTFOUND,
						   "no subscriber has the address %s", addr)
				      : store_sqlfail(st, errstr, "reading a subscriber");
		goto done;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	p->id = sqlite3_column_int64(q, 0);
	p->email = col(q, 1);
	p->domain = col(q, 2);
	p->name = col(q, 3);
	p->status = col(q, 4);
	p->created = (time_t)sqlite3_column_int64(q, 6);
	p->updated = (time_t)sqlite3_column_int64(q, 7);
	s = attrs_decode(sqlite3_column_blob(q, 5), (size_t)sqlite3_column_bytes(q, 5), &p->attrs,
			 &p->nattrs);
	if (s == STORE_OK)
		s = load_lists(st, p, errstr);
	if (s == STORE_OK)
		s = load_events(st, p, errstr);
	if (s == STORE_OK)
		s = suppress_entry(st, addr, &p->suppressed, &p->suppressed_by,
				   &p->suppression_reason);
	if (s == STORE_OK)
		s = subscriber_mask(st, p);
done:
	sqlite3_finalize(q);
	if (s == STORE_OK)
		*out = p;
	else
		store_subscriber_free(&p);
	return s;
}

/* ---- Erasure ------------------------------------------------------------ */

enum store_status store_subscriber_erase(struct store *st, const char *email, time_t *held_until,
					 char **errstr)
{
	enum store_status s;
	char addr[STORE_ADDRESS_MAX + 1], h[65], now[21], details[240], until[21];
	int64_t id, segments = 0;
	time_t t = time(NULL), held = 0;

	s = store_require(st, STORE_PERM_SUBSCRIBERS_ERASE, "subscriber.erase", errstr);
	if (s == STORE_OK)
		s = store_require_lookup(st, "subscriber.erase", errstr);
	if (s == STORE_OK)
		s = subscriber_norm(email, addr, errstr);
	if (s != STORE_OK)
		return s;
	if (held_until != NULL)
		*held_until = 0;
	store_address_hash(st, addr, h);
	store_utc_time(t, now);
	s = store_begin_err(st, errstr, "erasing");
	if (s != STORE_OK)
		return s;
	s = subscriber_find(st, addr, &id, NULL, errstr);
	if (s == STORE_OK && id == 0)
		s = store_fail(errstr, STORE_ENOTFOUND, "no subscriber has the address %s", addr);
	/* The consent records, when the law asks them kept a while longer. */
	if (s == STORE_OK)
		s = consent_hold(st, id, addr, h, t, &held, errstr);
	/*
	 * The messages that went out or failed stay counted, without the person;
	 * one in flight as the erasure runs may go out still: uncertain.
	 */
	if (s == STORE_OK)
		s = store_run(st,
			      "INSERT INTO queue_erased (campaign, state, bounced, updated)"
			      " SELECT q.campaign, CASE q.state WHEN 1 THEN 5 ELSE q.state END,"
			      " s.status = 'bounced', q.updated"
			      " FROM queue q JOIN subscribers s ON s.id = q.subscriber"
			      " WHERE q.subscriber = ? AND q.state IN (1, 2, 4, 5)",
			      errstr, "erasing", "i", id);
	/* Cascades to memberships (with their consent records), history and queue. */
	if (s == STORE_OK)
		s = store_run(st, "DELETE FROM subscribers WHERE id = ?", errstr, "erasing", "i",
			      id);
	if (s == STORE_OK)
		s = store_run(
		    st,
		    "UPDATE suppressions SET address = NULL, reason = 'erased', erased = 1"
		    " WHERE value = ?",
		    errstr, "erasing", "t", h);
	if (s == STORE_OK)
		s = store_run(
		    st,
		    "INSERT OR IGNORE INTO suppressions (value, kind, address, reason,"
		    " created, by, erased) VALUES (?, 'address', NULL, 'erased', ?, ?, 1)",
		    errstr, "erasing", "ttt", h, now, store_user(st));
	/* A saved segment may name the address in its expression. */
	if (s == STORE_OK)
		s = segment_erase_address(st, addr, &segments, errstr);
	store_utc_time(held, until);
	snprintf(details, sizeof(details),
		 "all data deleted%s%s%s; the keyed hash is kept on the suppression list; "
		 "the address taken out of %lld saved segment%s",
		 held ? " but the consent records, held until " : "", held ? until : "",
		 held ? " (a month after the last mail)" : "", (long long)segments,
		 segments == 1 ? "" : "s");
	if (s == STORE_OK)
		s = store_audit(st, "subscriber.erase", h, "ok", details);
	if (s == STORE_OK)
		s = store_commit_err(st, errstr);
	else
		store_rollback(st);
	/* Push the deleted pages out of the write-ahead log as well. */
	if (s == STORE_OK)
		sqlite3_exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	if (s == STORE_OK && held_until != NULL)
		*held_until = held;
	return s;
}
