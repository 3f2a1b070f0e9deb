/*
 * store/import.c: importing subscribers from CSV.
 *
 * The file is read in chunks and handed to libcsv one line at a time, so
 * that the importer always knows on which line the current record started
 * and where the next line begins. A record that cannot be parsed (a stray
 * quote, a quote left open until the end of the file, a record longer than
 * MAX_RECORD) is rejected with its line number and the parser starts again
 * on the following line, so one bad row never swallows the good rows behind
 * it. Memory is bounded by MAX_RECORD whatever the size of the file;
 * duplicates are found through the database (the unique index on email and a
 * temporary table of people touched), not an in-memory set.
 */
#include <arpa/inet.h>
#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "store/subscribers_private.h"

#define CHUNK 65536
#define MAX_RECORD (1u << 20)
#define MAX_COLUMNS 512
#define MAX_KEY 128

enum { C_ATTR, C_EMAIL, C_NAME, C_SOURCE, C_AT, C_TEXT, C_METHOD, C_IP };

struct row {
	char *buf;
	size_t n, cap;
	size_t *off, *len;
	size_t nf, capf;
	size_t fields; /* counted even past capf */
	int nul;       /* a field held a NUL byte */
};

struct imp {
	struct store *st;
	const char *list;
	const struct store_import_opts *o;
	struct store_import_stats *stats;
	char **errstr;
	enum store_status s; /* a failure that ends the import */
	struct csv_parser p;
	struct row row;
	int have_header;
	size_t ncols;
	int *kind;   /* per column */
	char **name; /* header names */
	uint64_t line, rec_line;
	off_t off, rec_off, next_line_off;
	int resync;
	int64_t base_id, next_id, now;
	int any_supp; /* is the suppression list not empty? */
	char now_iso[21];
	sqlite3_stmt *find, *ins_sub, *upd_sub, *find_mem, *ins_mem, *supp, *seen, *mark;
	struct attrs_buf attrs, merged;
};

/* ---- Small checks ------------------------------------------------------ */

static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t k;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int has_ctl(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* ---- Rejects ------------------------------------------------------------ */

static void reject(struct imp *im, uint64_t line, const char *reason, int with_fields)
{
	FILE *fp = im->o ? im->o->rejects : NULL;
	char num[24];
	size_t i;

	im->stats->invalid++;
	if (fp == NULL)
		return;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)line);
	fputs(num, fp);
	fputc(',', fp);
	csv_fwrite(fp, reason, strlen(reason));
	for (i = 0; with_fields && i < im->row.nf; i++) {
		fputc(',', fp);
		csv_fwrite(fp, im->row.buf + im->row.off[i], im->row.len[i]);
	}
	fputc('\n', fp);
}

/* ---- libcsv callbacks -------------------------------------------------- */

static void on_field(void *data, size_t len, void *arg)
{
	struct imp *im = arg;
	struct row *r = &im->row;

	r->fields++;
	if (r->nf == r->capf) {
		size_t cap = r->capf ? r->capf * 2 : 16;
		size_t *o, *l;
		if (cap > MAX_COLUMNS + 1)
			return; /* counted, not kept: the row will be refused */
		o = realloc(r->off, cap * sizeof(*o));
		if (o != NULL)
			r->off = o;
		l = realloc(r->len, cap * sizeof(*l));
		if (l != NULL)
			r->len = l;
		if (o == NULL || l == NULL) {
			im->s = STORE_ENOMEM;
			return;
		}
		r->capf = cap;
	}
	if (r->n + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *b;
		while (cap < r->n + len + 1)
			cap *= 2;
		b = realloc(r->buf, cap);
		if (b == NULL) {
			im->s = STORE_ENOMEM;
			return;
		}
		r->buf = b;
		r->cap = cap;
	}
	if (len > 0)
		memcpy(r->buf + r->n, data, len);
	if (len > 0 && memchr(data, '\0', len) != NULL)
		r->nul = 1;
	r->off[r->nf] = r->n;
	r->len[r->nf] = len;
	r->buf[r->n + len] = '\0';
	r->n += len + 1;
	r->nf++;
}

static enum store_status header(struct imp *im);
static void data_row(struct imp *im);

static void on_row(int term, void *arg)
{
	struct imp *im = arg;

	(void)term;
	if (im->s != STORE_OK || im->resync)
		goto done;
	if (!im->have_header)
		im->s = header(im);
	else
		data_row(im);
done:
	im->row.nf = im->row.n = im->row.fields = 0;
	im->row.nul = 0;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int is_term(unsigned char c)
{
	return c == '\n';
}

static void parser_reset(struct imp *im)
{
	csv_free(&im->p);
	csv_init(&im->p, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_space_func(&im->p, is_space);
	csv_set_term_func(&im->p, is_term);
	im->row.nf = im->row.n = im->row.fields = 0;
	im->row.nul = 0;
}

/* ---- The header --------------------------------------------------------- */

static int column_kind(const char *n)
{
	static const struct {
		const char *name;
		int kind;
	} known[] = {
	    {"email", C_EMAIL},	  {"name", C_NAME},	    {"consent_source", C_SOURCE},
	    {"consent_at", C_AT}, {"consent_text", C_TEXT}, {"consent_method", C_METHOD},
	    {"consent_ip", C_IP},
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(n, known[i].name) == 0)
			return known[i].kind;
	return C_ATTR;
}

static enum store_status header(struct imp *im)
{
	struct row *r = &im->row;
	size_t i, j;
	int email = 0;

	if (r->fields > MAX_COLUMNS)
		return store_fail(im->errstr, STORE_EINVAL,
				  "the header has %zu columns; hato accepts at most %d", r->fields,
				  MAX_COLUMNS);
	im->ncols = r->nf;
	im->kind = calloc(r->nf, sizeof(*im->kind));
	im->name = calloc(r->nf, sizeof(*im->name));
	if (im->kind == NULL || im->name == NULL)
		return STORE_ENOMEM;
	for (i = 0; i < r->nf; i++) {
		const char *n = r->buf + r->off[i];
		size_t len = r->len[i];
		if (r->nul || !utf8_ok((const unsigned char *)n, len) || has_ctl(n, len))
			return store_fail(
			    im->errstr, STORE_EINVAL,
			    "not a CSV file: the header (line %llu) is not UTF-8 text",
			    (unsigned long long)im->rec_line);
		if (len == 0 || len > MAX_KEY)
			return store_fail(im->errstr, STORE_EINVAL, "column %zu of the header %s",
					  i + 1,
					  len == 0 ? "has no name" : "is longer than 128 bytes");
		im->name[i] = strndup(n, len);
		if (im->name[i] == NULL)
			return STORE_ENOMEM;
		im->kind[i] = column_kind(im->name[i]);
		email |= im->kind[i] == C_EMAIL;
		for (j = 0; j < i; j++)
			if (strcasecmp(im->name[j], im->name[i]) == 0)
				return store_fail(im->errstr, STORE_EINVAL,
						  "column %zu of the header repeats \"%s\" "
						  "(column %zu); each column needs its own name",
						  i + 1, im->name[i], j + 1);
	}
	if (!email)
		return store_fail(im->errstr, STORE_EINVAL,
				  "the header (line %llu) has no email column; the first row must "
				  "name the columns, one of them \"email\"",
				  (unsigned long long)im->rec_line);
	im->have_header = 1;
	if (im->o != NULL && im->o->rejects != NULL) {
		fputs("line,reason", im->o->rejects);
		for (i = 0; i < im->ncols; i++) {
			fputc(',', im->o->rejects);
			csv_fwrite(im->o->rejects, im->name[i], strlen(im->name[i]));
		}
		fputc('\n', im->o->rejects);
	}
	return STORE_OK;
}

/* ---- One data row ------------------------------------------------------- */

static int step_done(struct imp *im, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		im->s = store_sqlfail(im->st, im->errstr, "importing");
		return -1;
	}
	return 0;
}

/* Has this import touched the (existing) person already? Marks them. */
static int seen_before(struct imp *im, int64_t id)
{
	int rc;

	sqlite3_bind_int64(im->seen, 1, id);
	rc = sqlite3_step(im->seen);
	sqlite3_reset(im->seen);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_bind_int64(im->mark, 1, id);
	step_done(im, im->mark);
	return 0;
}

static void existing(struct imp *im, int64_t id, const char *status, const void *old, size_t oldn,
		     const char *name, size_t namelen, const char **consent)
{
	int rc, member = -1;

	im->merged.n = 0;
	if (attrs_merge(&im->merged, old, oldn, im->attrs.p, im->attrs.n) != 0) {
		im->s = STORE_ENOMEM;
		return;
	}
	sqlite3_bind_text(im->upd_sub, 1, name, (int)namelen, SQLITE_STATIC);
	sqlite3_bind_blob(im->upd_sub, 2, im->merged.n ? (const void *)im->merged.p : "",
			  (int)im->merged.n, SQLITE_STATIC);
	sqlite3_bind_int64(im->upd_sub, 3, im->now);
	sqlite3_bind_int64(im->upd_sub, 4, id);
	if (step_done(im, im->upd_sub) != 0)
		return;
	if (id > im->base_id || seen_before(im, id)) {
		im->stats->duplicate++;
		return;
	}
	sqlite3_bind_int64(im->find_mem, 1, id);
	rc = sqlite3_step(im->find_mem);
	if (rc == SQLITE_ROW)
		member = sqlite3_column_int(im->find_mem, 0);
	sqlite3_reset(im->find_mem);
	if (member == -1 && strcmp(status, "active") == 0) {
		sqlite3_bind_int64(im->ins_mem, 1, id);
		for (int i = 0; i < 5; i++)
			sqlite3_bind_text(im->ins_mem, 2 + i, consent[i], -1, SQLITE_STATIC);
		if (step_done(im, im->ins_mem) == 0)
			im->stats->imported++;
		return;
	}
	im->stats->updated++;
	if (member == 0 || strcmp(status, "active") != 0)
		im->stats->kept_unsubscribed++;
}

static void data_row(struct imp *im)
{
	struct row *r = &im->row;
	char addr[STORE_ADDRESS_MAX + 1], h[65], at[21], reason[160];
	const char *why = NULL, *name = "", *consent[5] = {"", "", "import", "", ""};
	size_t i, namelen = 0;
	int64_t key;
	int rc;

	im->stats->rows++;
	addr[0] = '\0';
	if (r->fields != im->ncols) {
		snprintf(reason, sizeof(reason), "the row has %zu fields, the header has %zu",
			 r->fields, im->ncols);
		reject(im, im->rec_line, reason, r->fields <= MAX_COLUMNS);
		if (im->line > im->rec_line)
			im->resync = 1;
		return;
	}
	im->attrs.n = 0;
	consent[0] = im->o && im->o->source ? im->o->source : "import";
	consent[1] = im->now_iso;
	for (i = 0; i < r->nf; i++) {
		const char *v = r->buf + r->off[i];
		size_t n = r->len[i];
		if (memchr(v, '\0', n) != NULL || !utf8_ok((const unsigned char *)v, n)) {
			snprintf(reason, sizeof(reason), "column %zu (%s) %s", i + 1, im->name[i],
				 memchr(v, '\0', n) ? "holds a NUL byte" : "is not valid UTF-8");
			goto bad;
		}
		switch (im->kind[i]) {
		case C_EMAIL:
			if (store_address_normalise(v, n, addr, &why) != STORE_OK) {
				snprintf(reason, sizeof(reason), "not a valid address: %s", why);
				if (im->line > im->rec_line)
					im->resync = 1;
				goto bad;
			}
			break;
		case C_NAME:
			if (has_ctl(v, n) || n > 256) {
				snprintf(reason, sizeof(reason), "the name %s",
					 n > 256 ? "is longer than 256 bytes"
						 : "holds a line break or control character");
				goto bad;
			}
			name = v;
			namelen = n;
			break;
		case C_AT:
			if (n > 0 && store_iso_norm(v, n, at, NULL) != 0) {
				snprintf(reason, sizeof(reason),
					 "consent_at is not an ISO 8601 date or time");
				goto bad;
			}
			if (n > 0)
				consent[1] = at;
			break;
		case C_IP: {
			unsigned char b[16];
			if (n > 0 && inet_pton(AF_INET, v, b) != 1 &&
			    inet_pton(AF_INET6, v, b) != 1) {
				snprintf(reason, sizeof(reason), "consent_ip is not an IP address");
				goto bad;
			}
			consent[4] = v;
			break;
		}
		case C_SOURCE:
		case C_TEXT:
		case C_METHOD:
			if (has_ctl(v, n) && im->kind[i] != C_TEXT) {
				snprintf(reason, sizeof(reason), "%s holds a control character",
					 im->name[i]);
				goto bad;
			}
			if (n > 0)
				consent[im->kind[i] == C_SOURCE ? 0
					: im->kind[i] == C_TEXT ? 3
								: 2] = v;
			break;
		default:
			/* An empty cell sets nothing and erases nothing. */
			if (n > 0 &&
			    attrs_put(&im->attrs, im->name[i], strlen(im->name[i]), v, n) != 0) {
				im->s = STORE_ENOMEM;
				return;
			}
		}
	}
	/* Suppressed by address hash or by domain: never revived. */
	subscriber_hash(im->st, addr, h);
	if (im->any_supp) {
		sqlite3_bind_text(im->supp, 1, h, -1, SQLITE_STATIC);
		sqlite3_bind_text(im->supp, 2, store_address_domain(addr), -1, SQLITE_STATIC);
		rc = sqlite3_step(im->supp);
		sqlite3_reset(im->supp);
		if (rc == SQLITE_ROW) {
			im->stats->suppressed++;
			return;
		}
	}
	/* New people go straight in; the unique key says whom we know already. */
	key = subscriber_key_from_hash(h);
	sqlite3_bind_text(im->ins_sub, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(im->ins_sub, 2, store_address_domain(addr), -1, SQLITE_STATIC);
	sqlite3_bind_text(im->ins_sub, 3, name, (int)namelen, SQLITE_STATIC);
	sqlite3_bind_blob(im->ins_sub, 4, im->attrs.n ? (const void *)im->attrs.p : "",
			  (int)im->attrs.n, SQLITE_STATIC);
	sqlite3_bind_int64(im->ins_sub, 6, key);
	sqlite3_bind_int64(im->ins_sub, 7, im->next_id);
	if (step_done(im, im->ins_sub) != 0)
		return;
	if (sqlite3_changes(im->st->db) == 1)
		im->next_id++;
	else {
		sqlite3_bind_int64(im->find, 1, key);
		rc = sqlite3_step(im->find);
		if (rc == SQLITE_ROW &&
		    strcasecmp((const char *)sqlite3_column_text(im->find, 3), addr) != 0) {
			sqlite3_reset(im->find);
			snprintf(reason, sizeof(reason),
				 "the address's key collides with another address on file");
			goto bad;
		}
		if (rc == SQLITE_ROW) {
			char status[16];
			snprintf(status, sizeof(status), "%s", sqlite3_column_text(im->find, 1));
			existing(im, sqlite3_column_int64(im->find, 0), status,
				 sqlite3_column_blob(im->find, 2),
				 (size_t)sqlite3_column_bytes(im->find, 2), name, namelen, consent);
		} else {
			im->s = store_sqlfail(im->st, im->errstr, "importing");
		}
		sqlite3_reset(im->find);
		return;
	}
	sqlite3_bind_int64(im->ins_mem, 1, im->next_id - 1);
	for (i = 0; i < 5; i++)
		sqlite3_bind_text(im->ins_mem, 2 + (int)i, consent[i], -1, SQLITE_STATIC);
	if (step_done(im, im->ins_mem) == 0)
		im->stats->imported++;
	return;
bad:
	reject(im, im->rec_line, reason, 1);
}

/* ---- Set-up ------------------------------------------------------------- */

static enum store_status prepare_all(struct imp *im)
{
	struct {
		sqlite3_stmt **q;
		const char *sql;
	} all[] = {
	    {&im->find, "SELECT id, status, attrs, email FROM subscribers WHERE ehash = ?"},
	    {&im->ins_sub, "INSERT OR IGNORE INTO subscribers (email, domain, name, attrs,"
			   " created, updated, ehash, id) VALUES (?,?,?,?,?5,?5,?6,?7)"},
	    {&im->upd_sub, "UPDATE subscribers SET name = CASE WHEN ?1 = '' THEN name ELSE ?1 END,"
			   " attrs = ?2, updated = ?3 WHERE id = ?4"},
	    {&im->find_mem, "SELECT status = 'active' FROM memberships WHERE list = ?2 AND"
			    " subscriber = ?1"},
	    {&im->ins_mem, "INSERT INTO memberships (subscriber, consent_source, consent_at,"
			   " consent_method, consent_text, consent_ip, list, created, updated)"
			   " VALUES (?,?,?,?,?,?,?7,?8,?8)"},
	    {&im->supp, "SELECT 1 FROM suppressions WHERE value = ?1 OR"
			" (value = ?2 AND kind = 'domain')"},
	    {&im->seen, "SELECT 1 FROM temp.import_seen WHERE id = ?"},
	    {&im->mark, "INSERT INTO temp.import_seen (id) VALUES (?)"},
	};
	enum store_status s;
	size_t i;

	s = store_exec(im->st,
		       "CREATE TEMP TABLE IF NOT EXISTS import_seen (id INTEGER PRIMARY KEY);"
		       "DELETE FROM temp.import_seen;",
		       im->errstr);
	for (i = 0; s == STORE_OK && i < sizeof(all) / sizeof(all[0]); i++)
		s = store_prepare(im->st, all[i].sql, all[i].q, im->errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(im->ins_sub, 5, im->now);
	sqlite3_bind_text(im->find_mem, 2, im->list, -1, SQLITE_STATIC);
	sqlite3_bind_text(im->ins_mem, 7, im->list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(im->ins_mem, 8, im->now);
	return STORE_OK;
}

static void finalize_all(struct imp *im)
{
	sqlite3_stmt **all[] = {&im->find,    &im->ins_sub, &im->upd_sub, &im->find_mem,
				&im->ins_mem, &im->supp,    &im->seen,	  &im->mark};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
}

/* ---- Reading ------------------------------------------------------------ */

/*
 * Gives up on the current record and restarts the parser on the line after
 * the one it started on. Returns 1 when the caller must seek to im->off, 0
 * when it must skip to the next newline (the record's first line has not
 * ended yet), -1 when the input cannot seek.
 */
static int resync(struct imp *im, FILE *in)
{
	parser_reset(im);
	im->resync = 0;
	if (im->next_line_off < 0)
		return 0;
	if (fseeko(in, im->next_line_off, SEEK_SET) != 0) {
		im->s = store_fail(im->errstr, STORE_EIO,
				   "line %llu: cannot go back to re-read the lines after a bad row "
				   "(the input cannot seek): %s",
				   (unsigned long long)im->rec_line, strerror(errno));
		return -1;
	}
	im->off = im->next_line_off;
	im->line = im->rec_line + 1;
	im->rec_line = im->line;
	im->rec_off = im->off;
	im->next_line_off = -1;
	return 1;
}

static int in_record(const struct imp *im)
{
	return im->p.pstate != 0 || im->row.nf > 0;
}

static const char *parse_reason(struct imp *im)
{
	int e = csv_error(&im->p);

	if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
		return "the row is too long";
	return "a quote is out of place (an unquoted field holds '\"', or a closing quote is "
	       "followed by something other than a comma)";
}

static void header_fail(struct imp *im, const char *what)
{
	if (im->s == STORE_OK)
		im->s = store_fail(im->errstr, STORE_EINVAL,
				   "not a CSV file: the header (line %llu) %s",
				   (unsigned long long)im->rec_line, what);
}

/* A record went wrong: reject it and decide how to go on. 0 go on, -1 stop. */
static int bad_record(struct imp *im, FILE *in, const char *reason, int *skip, int *seeked)
{
	int r;

	if (!im->have_header) {
		header_fail(im, reason);
		return -1;
	}
	im->stats->rows++;
	reject(im, im->rec_line, reason, 0);
	r = resync(im, in);
	if (r < 0)
		return -1;
	*seeked = r == 1;
	*skip = r == 0;
	return 0;
}

static enum store_status read_all(struct imp *im, FILE *in)
{
	unsigned char *buf = malloc(CHUNK);
	size_t got, pos, seg;
	int skip = 0;

	if (buf == NULL)
		return STORE_ENOMEM;
	while (im->s == STORE_OK && (got = fread(buf, 1, CHUNK, in)) > 0) {
		int seeked = 0;
		pos = 0;
		if (im->off == 0 && got >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
			pos = 3, im->off = im->rec_off = 3;
		while (pos < got && im->s == STORE_OK && !seeked) {
			unsigned char *nl = memchr(buf + pos, '\n', got - pos);
			seg = nl ? (size_t)(nl - (buf + pos)) + 1 : got - pos;
			if (skip) {
				im->off += (off_t)seg;
				pos += seg;
				if (nl != NULL) {
					skip = 0;
					im->line++;
					im->rec_line = im->line;
					im->rec_off = im->off;
					im->next_line_off = -1;
				}
				continue;
			}
			if (csv_parse(&im->p, buf + pos, seg, on_field, on_row, im) != seg) {
				if (bad_record(im, in, parse_reason(im), &skip, &seeked) != 0)
					break;
				if (!seeked) {
					/* Skip the rest of the record's first line. */
					continue;
				}
				break;
			}
			im->off += (off_t)seg;
			pos += seg;
			if (im->resync) {
				if (resync(im, in) < 0)
					break;
				seeked = 1;
				break;
			}
			if (nl != NULL) {
				im->line++;
				if (!in_record(im)) {
					im->rec_line = im->line;
					im->rec_off = im->off;
					im->next_line_off = -1;
				} else if (im->next_line_off < 0) {
					im->next_line_off = im->off;
				}
			}
			if (in_record(im) && im->off - im->rec_off > (off_t)MAX_RECORD) {
				if (bad_record(im, in,
					       "the row is longer than 1 MiB (a huge field, or "
					       "a quote that is never closed)",
					       &skip, &seeked) != 0)
					break;
			}
		}
		if (im->o != NULL && im->o->progress != NULL)
			im->o->progress((uint64_t)im->off, im->stats->rows, im->o->arg);
		/* After a seek fread goes on from the new position. */
	}
	free(buf);
	if (im->s == STORE_OK && ferror(in))
		im->s =
		    store_fail(im->errstr, STORE_EIO, "cannot read the file: %s", strerror(errno));
	return im->s;
}

static enum store_status finish(struct imp *im, FILE *in)
{
	while (im->s == STORE_OK) {
		int skip = 0, seeked = 0, rc, r;

		rc = csv_fini(&im->p, on_field, on_row, im);
		if (im->s != STORE_OK)
			break;
		if (im->resync) {
			r = resync(im, in);
			if (r != 1)
				break;
		} else if (rc == 0) {
			break;
		} else {
			if (bad_record(im, in, "a quoted field is never closed", &skip, &seeked) !=
				0 ||
			    !seeked)
				break;
		}
		if (read_all(im, in) != STORE_OK)
			break;
	}
	if (im->s == STORE_OK && !im->have_header)
		im->s = store_fail(im->errstr, STORE_EINVAL,
				   "the file is empty; the first row must name the columns, one of "
				   "them \"email\"");
	return im->s;
}

enum store_status store_subscriber_import(struct store *st, const char *list, FILE *in,
					  const struct store_import_opts *o,
					  struct store_import_stats *stats, char **errstr)
{
	struct imp im;
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char details[200];
	size_t i;

	memset(stats, 0, sizeof(*stats));
	memset(&im, 0, sizeof(im));
	im.st = st;
	im.list = list;
	im.o = o;
	im.stats = stats;
	im.errstr = errstr;
	im.line = im.rec_line = 1;
	im.next_line_off = -1;
	im.now = (int64_t)time(NULL);
	store_utc_now(im.now_iso);
	s = store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "import", errstr);
	if (s != STORE_OK)
		return s;
	/*
	 * The rows written satisfy the foreign keys by construction (the list is
	 * checked, each membership names the person just written), so the
	 * per-row checks are skipped. A no-op inside an outer transaction.
	 */
	store_exec(st, "PRAGMA foreign_keys = OFF", NULL);
	s = store_begin(st);
	if (s != STORE_OK) {
		store_exec(st, "PRAGMA foreign_keys = ON", NULL);
		return store_sqlfail(st, errstr, "importing");
	}
	store_exec(st, "PRAGMA cache_size = -40000", NULL);
	s = store_list_check(st, list, errstr);
	if (s == STORE_OK)
		s = subscriber_ids(st, 0, &im.next_id, errstr);
	if (s == STORE_OK) {
		im.base_id = im.next_id - 1;
		s = store_prepare(st, "SELECT EXISTS (SELECT 1 FROM suppressions)", &q, errstr);
	}
	if (s == STORE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			im.any_supp = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
		s = prepare_all(&im);
	}
	if (s == STORE_OK) {
		csv_init(&im.p, 0);
		parser_reset(&im);
		s = read_all(&im, in);
		if (s == STORE_OK)
			s = finish(&im, in);
		csv_free(&im.p);
	}
	finalize_all(&im);
	snprintf(details, sizeof(details),
		 "rows %llu, imported %llu, updated %llu, invalid %llu, duplicate %llu, "
		 "suppressed %llu",
		 (unsigned long long)stats->rows, (unsigned long long)stats->imported,
		 (unsigned long long)stats->updated, (unsigned long long)stats->invalid,
		 (unsigned long long)stats->duplicate, (unsigned long long)stats->suppressed);
	if (s == STORE_OK && im.next_id - 1 > im.base_id) {
		/* Mark the ids taken: max(id) is next_id - 1 now, so take none beyond. */
		s = store_prepare(st,
				  "INSERT OR REPLACE INTO sequences (name, value)"
				  " VALUES ('subscriber', ?)",
				  &q, errstr);
		if (s == STORE_OK) {
			sqlite3_bind_int64(q, 1, im.next_id - 1);
			if (sqlite3_step(q) != SQLITE_DONE)
				s = store_sqlfail(st, errstr, "numbering subscribers");
			sqlite3_finalize(q);
		}
	}
	if (s == STORE_OK)
		s = store_audit(st, "import", list, "ok", details);
	if (s == STORE_OK)
		s = store_commit(st);
	else
		store_rollback(st);
	store_exec(st, "PRAGMA cache_size = -2000", NULL);
	store_exec(st, "PRAGMA foreign_keys = ON", NULL);
	if (s != STORE_OK)
		store_audit(st, "import", list, "failed", details);
	for (i = 0; i < im.ncols; i++)
		free(im.name[i]);
	free(im.name);
	free(im.kind);
	free(im.row.buf);
	free(im.row.off);
	free(im.row.len);
	attrs_free(&im.attrs);
	attrs_free(&im.merged);
	return s;
}
