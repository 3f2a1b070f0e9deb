/*
 * store/segment_pii.c: the addresses written inside saved segments.
 *
 * A segment such as `email = "bob@example.jp"` holds a person's address in
 * its expression. It is shown masked to users without the pii permission,
 * a person's data (store_subscriber_data) lists the segments that name them,
 * and an erasure writes SEGMENT_ERASED in place of the address.
 *
 * Each works on the strings of the expression as the segment parser reads
 * them (segment_strings): a string that changes is written out again,
 * escaped, and the rest of the text is kept as it was, so the expression
 * still parses and means what it meant for everybody else.
 */
#include <stdlib.h>
#include <string.h>

#include "store/segment_private.h"

/* What to do with an expression's strings, and the text being written. */
struct rewrite {
	const struct store *st; /* masking for this user's eyes; or NULL */
	const char *address;	/* writing SEGMENT_ERASED in place of this address; or NULL */
	const char *src;
	size_t copied; /* src[0..copied) is written */
	char *out;
	size_t n, cap;
	int64_t hits; /* strings changed */
	bool nomem;
};

static void put(struct rewrite *r, const char *s, size_t n)
{
	if (r->nomem)
		return;
	if (store_reserve(&r->out, &r->cap, r->n + n + 1, 64) != 0) {
		r->nomem = true;
		return;
	}
	memcpy(r->out + r->n, s, n);
	r->n += n;
	r->out[r->n] = '\0';
}

/* Writes v as a string of the segment language: in double quotes, " and \ escaped. */
static void put_string(struct rewrite *r, const char *v)
{
	put(r, "\"", 1);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			put(r, "\\", 1);
		put(r, v, 1);
	}
	put(r, "\"", 1);
}

/* Is s[0..n) the normalised address, as a segment compares addresses (case aside)? */
static bool names(const char *address, const char *s, size_t n)
{
	char low[STORE_ADDRESS_MAX + 1], norm[STORE_ADDRESS_MAX + 1];

	if (n == 0 || n > STORE_ADDRESS_MAX)
		return false;
	memcpy(low, s, n);
	seg_ascii_lower(low, n);
	return store_address_normalise(low, n, norm, NULL) == STORE_OK &&
	       seg_ascii_same(norm, address);
}

/*
 * v with SEGMENT_ERASED in place of each address in it that is `address`:
 * the whole of v, or one written inside a longer text. 1 with *out
 * allocated, 0 when v does not name the address, -1 when out of memory.
 */
static int erase_in(const char *address, const char *v, char **out)
{
	struct rewrite w = {0};
	size_t n = strlen(v), i = 0, at, l, e;

	if (names(address, v, n)) {
		*out = strdup(SEGMENT_ERASED);
		return *out != NULL ? 1 : -1;
	}
	for (at = 0; at < n; at++) {
		if (v[at] != '@')
			continue;
		for (l = at; l > i && !store_local_stop((unsigned char)v[l - 1]); l--)
			;
		for (e = at + 1; e < n && v[e] != '@' && !store_addr_stop((unsigned char)v[e]); e++)
			;
		if (!names(address, v + l, e - l))
			continue;
		put(&w, v + i, l - i);
		put(&w, SEGMENT_ERASED, strlen(SEGMENT_ERASED));
		i = e;
		at = e - 1;
	}
	if (i == 0) /* no address replaced: every match ends past 0 */
		return 0;
	put(&w, v + i, n - i);
	if (w.nomem) {
		free(w.out);
		return -1;
	}
	*out = w.out;
	return 1;
}

/*
 * v as a user without pii may see it: an address in it masked as
 * store_mask_text masks it, and a string compared with email, which is a
 * piece of an address even without an '@' ("bob." starts_with), hidden.
 * Such a string is all one address, so its local part is all that comes
 * before the '@', however it is quoted or escaped (kn\"o@x.jp): masked
 * from the string's start, as store_mask_address masks.
 */
static int mask_in(const struct store *st, const char *v, bool email, char **out)
{
	if (email && v[0] != '@' && strchr(v, '@') != NULL)
		*out = store_mask_address(st, v);
	else if (strchr(v, '@') != NULL)
		*out = store_mask_text(st, v);
	else if (email)
		*out = strdup("***");
	else
		return 0;
	return *out != NULL ? 1 : -1;
}

static void on_string(size_t start, size_t end, const char *value, size_t len, bool email,
		      void *arg)
{
	struct rewrite *r = arg;
	char *nv = NULL;
	int changed;

	(void)len;
	changed = r->address != NULL ? erase_in(r->address, value, &nv)
				     : mask_in(r->st, value, email, &nv);
	if (changed < 0)
		r->nomem = true;
	put(r, r->src + r->copied, start - r->copied);
	if (changed > 0) {
		put_string(r, nv);
		r->hits++;
	} else {
		put(r, r->src + start, end - start);
	}
	r->copied = end;
	free(nv);
}

/*
 * expr with its strings changed by r's rule, into *out (allocated). An
 * expression that does not parse (saved under another version) is taken as
 * one text. STORE_OK or STORE_ENOMEM.
 */
static enum store_status rewrite(struct rewrite *r, const char *expr, char **out)
{
	char *whole = NULL;
	int changed;

	*out = NULL;
	r->src = expr;
	if (segment_strings(expr, on_string, r, NULL) != STORE_OK) {
		free(r->out);
		r->out = NULL;
		r->n = r->cap = 0;
		r->copied = 0;
		r->hits = 0;
		r->nomem = false;
		changed = r->address != NULL ? erase_in(r->address, expr, &whole)
					     : mask_in(r->st, expr, false, &whole);
		if (changed < 0)
			return STORE_ENOMEM;
		r->hits += changed;
		*out = changed > 0 ? whole : strdup(expr);
		return *out != NULL ? STORE_OK : STORE_ENOMEM;
	}
	put(r, expr + r->copied, strlen(expr + r->copied));
	if (r->nomem || r->out == NULL) {
		free(r->out);
		return STORE_ENOMEM;
	}
	*out = r->out;
	return STORE_OK;
}

char *store_segment_mask(const struct store *st, const char *expr)
{
	struct rewrite r = {.st = st};
	char *out = NULL;

	if (store_can(st, STORE_PERM_PII))
		return strdup(expr);
	return rewrite(&r, expr, &out) == STORE_OK ? out : NULL;
}

/* ---- Saved segments that name a person ---------------------------------- */

struct saved {
	char *name, *list, *expr;
};

static void saved_free(struct saved *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].list);
		free(v[i].expr);
	}
	free(v);
}

/* Every saved segment, sorted by name, into *out (allocated). */
static enum store_status saved_all(struct store *st, struct saved **out, size_t *n, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct saved *v = NULL, *x;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	s = store_prepare(st, "SELECT name, list, expr FROM segments ORDER BY name", &q, errstr);
	if (s != STORE_OK)
		return s;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (store_reserve(&v, &cap, (*n + 1) * sizeof(*v), 8 * sizeof(*v)) != 0) {
			s = STORE_ENOMEM;
			break;
		}
		x = &v[(*n)++];
		x->name = strdup((const char *)sqlite3_column_text(q, 0));
		x->list = strdup((const char *)sqlite3_column_text(q, 1));
		x->expr = strdup((const char *)sqlite3_column_text(q, 2));
		if (x->name == NULL || x->list == NULL || x->expr == NULL) {
			s = STORE_ENOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	if (s == STORE_OK && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "reading segments");
	if (s != STORE_OK) {
		saved_free(v, *n);
		*n = 0;
		return s;
	}
	*out = v;
	return STORE_OK;
}

/*
 * Each saved segment that names the address, with its expression as an
 * erasure leaves it: fills *erased[i] (allocated) for those, NULL for the
 * others.
 */
static enum store_status naming(struct store *st, const char *address, struct saved **segs,
				size_t *n, char ***erased, char **errstr)
{
	enum store_status s;
	size_t i;

	*erased = NULL;
	s = saved_all(st, segs, n, errstr);
	if (s != STORE_OK)
		return s;
	*erased = calloc(*n + 1, sizeof(**erased));
	if (*erased == NULL)
		s = STORE_ENOMEM;
	for (i = 0; s == STORE_OK && i < *n; i++) {
		struct rewrite r = {.address = address};
		s = rewrite(&r, (*segs)[i].expr, &(*erased)[i]);
		if (s == STORE_OK && r.hits == 0) {
			free((*erased)[i]);
			(*erased)[i] = NULL;
		}
	}
	return s;
}

static void naming_free(struct saved *segs, size_t n, char **erased)
{
	size_t i;

	for (i = 0; erased != NULL && i < n; i++)
		free(erased[i]);
	free(erased);
	saved_free(segs, n);
}

enum store_status segment_each_naming(struct store *st, const char *address, segment_named_cb cb,
				      void *arg, char **errstr)
{
	struct saved *segs = NULL;
	char **erased = NULL;
	size_t n = 0, i;
	enum store_status s = naming(st, address, &segs, &n, &erased, errstr);

	for (i = 0; s == STORE_OK && i < n; i++)
		if (erased[i] != NULL && cb(segs[i].name, segs[i].list, segs[i].expr, arg) != 0)
			break;
	naming_free(segs, n, erased);
	return s;
}

enum store_status segment_erase_address(struct store *st, const char *address, int64_t *changed,
					char **errstr)
{
	struct saved *segs = NULL;
	char **erased = NULL;
	size_t n = 0, i;
	enum store_status s = naming(st, address, &segs, &n, &erased, errstr);

	*changed = 0;
	for (i = 0; s == STORE_OK && i < n; i++) {
		if (erased[i] == NULL)
			continue;
		s = store_run(st, "UPDATE segments SET expr = ? WHERE name = ?", errstr,
			      "erasing an address from a segment", "tt", erased[i], segs[i].name);
		if (s == STORE_OK)
			(*changed)++;
	}
	naming_free(segs, n, erased);
	return s;
}
