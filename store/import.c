/*
 * store/import.c: importing subscribers from CSV: the rejects, the checks of
 * each row, the two threads and the import's transaction. Reading the file,
 * and starting again after a bad record, is in import_csv.c; writing the
 * rows, in import_db.c.
 *
 * Two threads share the work: a reader parses and checks the rows and
 * queues them (import_queue.c), and the caller's thread writes them, in
 * file order, in the one transaction (import_db.c). Writing is most of an
 * import's time; reading and checking, done beside it, is about a fifth.
 */
#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "store/subscribers_private.h"

/* A rejects file's own column (its line and reason), skipped when it is imported again. */
static int skipped(const struct import *im, size_t i)
{
	return i < im->ncols && (im->kind[i] == C_RLINE || im->kind[i] == C_RREASON);
}

/* ---- Rejects ------------------------------------------------------------ */

static const char *rejects_name(const struct import *im)
{
	return im->o != NULL && im->o->rejects_name != NULL ? im->o->rejects_name
							    : "the rejects file";
}

/* Writing the rejects failed (errno err): the import stops and fails. */
static void rejects_failed(struct import *im, int err)
{
	im->rejects_bad = 1;
	if (im->s == STORE_OK)
		im->s = store_fail(im->errstr, STORE_EIO, "cannot write %s: %s", rejects_name(im),
				   store_strerror(err != 0 ? err : EIO));
}

void import_rejects_header(struct import *im)
{
	FILE *fp = im->rejects;
	size_t i;
	int bad;

	bad = fputs("reject_line,reject_reason", fp) == EOF;
	for (i = 0; i < im->ncols && !bad; i++)
		if (!skipped(im, i))
			bad = fputc(',', fp) == EOF ||
			      csv_fwrite(fp, im->name[i], strlen(im->name[i])) != 0;
	if (bad || fputc('\n', fp) == EOF)
		rejects_failed(im, errno);
}

/*
 * The rejects file, opened at the first reject when the caller makes it
 * only when needed (o->open_rejects). NULL when there is none, or when it
 * cannot be opened or written (im->s then says why).
 */
static FILE *rejects_file(struct import *im)
{
	char *why = NULL;

	if (im->rejects != NULL || im->rejects_bad)
		return im->rejects_bad ? NULL : im->rejects;
	if (im->o == NULL || im->o->open_rejects == NULL)
		return NULL;
	im->rejects = im->o->open_rejects(im->o->rejects_arg, &why);
	if (im->rejects == NULL) {
		im->rejects_bad = 1;
		if (im->s == STORE_OK)
			im->s = store_fail(im->errstr, STORE_EIO, "%s",
					   why != NULL ? why : "cannot create the rejects file");
		free(why);
		return NULL;
	}
	import_rejects_header(im);
	return im->rejects_bad ? NULL : im->rejects;
}

/*
 * One line of the rejects file: the line number, the reason and, when row
 * is not NULL, the row's fields (but those of a rejects file's own columns,
 * when it has as many as the header), or else text[0..n) when not NULL. Only the
 * reading thread writes it. A failed write ends the import.
 */
static void reject_line(struct import *im, uint64_t line, const char *reason,
			const struct import_row *row, const char *text, size_t n)
{
	FILE *fp = rejects_file(im);
	size_t i;
	int bad;

	if (fp == NULL)
		return;
	bad = fprintf(fp, "%llu,", (unsigned long long)line) < 0 ||
	      csv_fwrite(fp, reason, strlen(reason)) != 0;
	for (i = 0; !bad && row != NULL && i < row->nf; i++)
		if (row->nf != im->ncols || !skipped(im, i))
			bad = fputc(',', fp) == EOF ||
			      csv_fwrite(fp, row->buf + row->off[i], row->len[i]) != 0;
	if (!bad && row == NULL && text != NULL)
		bad = fputc(',', fp) == EOF || csv_fwrite(fp, text, n) != 0;
	if (bad || fputc('\n', fp) == EOF)
		rejects_failed(im, errno);
}

/*
 * Before the import commits: the rejects, all of them, are on the disk.
 * A pipe or a terminal can't be synced, and needs not be.
 */
static enum store_status rejects_sync(struct import *im)
{
	FILE *fp = im->rejects;
	int err = 0;

	if (fp == NULL || im->stats->invalid == 0)
		return STORE_OK;
	errno = 0;
	if (fflush(fp) != 0 || ferror(fp))
		err = errno != 0 ? errno : EIO;
	else if (fsync(fileno(fp)) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP)
		err = errno;
	if (err == 0)
		return STORE_OK;
	return store_fail(im->errstr, STORE_EIO, "cannot write %s: %s", rejects_name(im),
			  store_strerror(err));
}

/* Counts a reject; 0 for a piece of a record reported already (not counted). */
static int reject_counts(struct import *im, uint64_t line)
{
	if (line > im->covered_from && line <= im->covered) {
		im->stats->rows--;
		return 0;
	}
	im->stats->invalid++;
	return 1;
}

void import_reject(struct import *im, uint64_t line, const char *reason, int with_fields)
{
	if (reject_counts(im, line))
		reject_line(im, line, reason, with_fields ? &im->row : NULL, NULL, 0);
}

void import_reject_text(struct import *im, uint64_t line, const char *reason, const char *text,
			size_t n)
{
	if (reject_counts(im, line))
		reject_line(im, line, reason, NULL, text, n);
}

/* ---- One data row ------------------------------------------------------- */

/*
 * Hands a checked row to the database side. The import ends (im->s) when
 * out of memory, or when the database side stopped it (its error is reported).
 */
static void queue_row(struct import *im, const char *addr, const char *name, size_t namelen,
		      const char *const consent[R_CONSENT])
{
	struct import_ready *r = import_queue_slot(&im->q);
	size_t i;

	if (r == NULL) {
		im->s = STORE_EIO;
		return;
	}
	r->line = im->rec_line;
	snprintf(r->addr, sizeof(r->addr), "%s", addr);
	r->maybe_supp = false;
	if (im->any_supp) { /* only the suppression list is checked by hash */
		subscriber_hash(im->st, addr, r->hash);
		r->maybe_supp = import_supp_maybe(im, r->hash, addr);
	}
	r->len[R_NAME] = namelen;
	r->len[R_ATTRS] = im->attrs.n;
	if (import_ready_add(r, name, namelen, &r->off[R_NAME]) != 0 ||
	    import_ready_add(r, im->attrs.p, im->attrs.n, &r->off[R_ATTRS]) != 0)
		goto nomem;
	for (i = 0; i < R_CONSENT; i++) {
		r->len[R_SOURCE + i] = strlen(consent[i]);
		if (import_ready_add(r, consent[i], r->len[R_SOURCE + i], &r->off[R_SOURCE + i]) !=
		    0)
			goto nomem;
	}
	import_queue_put(&im->q, r);
	return;
nomem:
	im->s = STORE_ENOMEM;
}

/*
 * A record that spans lines is rejected: its lines are read again as rows
 * (a stray quote may have swallowed good ones). `whole` when the rejects
 * file has all of its fields: then its pieces are not reported again.
 */
static void resync_after(struct import *im, int whole)
{
	im->resync = 1;
	if (whole && im->rec_line > im->covered) { /* not itself such a piece */
		im->covered_from = im->rec_line;
		im->covered = im->line;
	}
}

void import_data_row(struct import *im)
{
	struct import_row *r = &im->row;
	char addr[STORE_ADDRESS_MAX + 1], at[21], confirmed[21], reason[480];
	const char *why = NULL, *name = "",
		   *consent[R_CONSENT] = {"", "", "import", "", "", "", ""};
	size_t i, namelen = 0, confirmed_col = 0;
	bool own_at = false;

	im->stats->rows++;
	addr[0] = '\0';
	if (r->fields != im->ncols) {
		snprintf(reason, sizeof(reason), "the row has %zu field%s, the header has %zu",
			 r->fields, r->fields == 1 ? "" : "s", im->ncols);
		import_reject(im, im->rec_line, reason, r->fields <= IMPORT_MAX_COLUMNS);
		if (im->line > im->rec_line)
			resync_after(im, r->fields <= IMPORT_MAX_COLUMNS);
		return;
	}
	im->attrs.n = 0;
	consent[0] = im->o && im->o->source ? im->o->source : "import";
	consent[R_AT - R_SOURCE] = im->now_iso;
	for (i = 0; i < r->nf; i++) {
		static const enum subscriber_field field[] = {
		    [C_ATTR] = SF_FREE_TEXT,	  [C_EMAIL] = SF_FREE_TEXT, [C_NAME] = SF_NAME,
		    [C_SOURCE] = SF_WORD,	  [C_AT] = SF_FREE_TEXT,    [C_TEXT] = SF_FREE_TEXT,
		    [C_METHOD] = SF_WORD,	  [C_IP] = SF_CONSENT_IP,   [C_VERSION] = SF_WORD,
		    [C_CONFIRMED] = SF_FREE_TEXT,
		};
		/* Where a consent column's value goes among the row's fields. */
		static const int slot[] = {
		    [C_SOURCE] = R_SOURCE, [C_TEXT] = R_TEXT,	    [C_METHOD] = R_METHOD,
		    [C_IP] = R_IP,	   [C_VERSION] = R_VERSION,
		};
		const char *v = r->buf + r->off[i];
		size_t n = r->len[i];
		char *nfc = NULL;
		if (skipped(im, i))
			continue;
		why = subscriber_field_why(field[im->kind[i]], v, n);
		/* Names and attributes are kept in NFC (store_nfc), then checked again. */
		if (why == NULL && (im->kind[i] == C_NAME || im->kind[i] == C_ATTR)) {
			if (store_nfc(v, n, &nfc, &n) != 0)
				goto nomem;
			if (nfc != NULL) {
				free(im->nfc[im->kind[i] == C_NAME]);
				im->nfc[im->kind[i] == C_NAME] = nfc;
				v = nfc;
				why = subscriber_field_why(field[im->kind[i]], v, n);
			}
		}
		if (why != NULL) {
			goto bad_column;
		}
		switch (im->kind[i]) {
		case C_EMAIL:
			if (store_address_normalise(v, n, addr, &why) != STORE_OK) {
				snprintf(reason, sizeof(reason), "not a valid address: %s", why);
				if (im->line > im->rec_line)
					resync_after(im, 1);
				goto bad;
			}
			break;
		case C_NAME:
			name = v;
			namelen = n;
			break;
		case C_AT:
			if (n == 0)
				break;
			why = subscriber_consent_at_why(v, n, (time_t)im->now, at);
			if (why != NULL) {
				goto bad_column;
			}
			consent[R_AT - R_SOURCE] = at;
			own_at = true;
			break;
		case C_CONFIRMED:
			if (n > 0)
				confirmed_col = i + 1; /* checked once consent_at is known */
			break;
		case C_SOURCE:
		case C_TEXT:
		case C_METHOD:
		case C_IP:
		case C_VERSION:
			if (n > 0) /* else the default */
				consent[slot[im->kind[i]] - R_SOURCE] = v;
			break;
		default:
			/* An empty cell sets nothing and erases nothing. */
			if (n > 0 &&
			    attrs_put(&im->attrs, im->name[i], strlen(im->name[i]), v, n) != 0)
				goto nomem;
		}
	}
	/* The confirmation of a double opt-in comes after the consent the row dates. */
	if (confirmed_col > 0) {
		i = confirmed_col - 1;
		why = subscriber_confirmed_why(r->buf + r->off[i], r->len[i], (time_t)im->now,
					       own_at ? at : NULL, confirmed);
		if (why != NULL) {
			goto bad_column;
		}
		consent[R_CONFIRMED - R_SOURCE] = confirmed;
		/* A consent with no time of its own is dated by its confirmation. */
		if (!own_at)
			consent[R_AT - R_SOURCE] = confirmed;
	}
	queue_row(im, addr, name, namelen, consent);
	return;
bad_column: /* column i's value, refused for why */
	snprintf(reason, sizeof(reason), "column %zu (%s) %s", i + 1, im->name[i], why);
bad:
	import_reject(im, im->rec_line, reason, 1);
	return;
nomem:
	im->s = STORE_ENOMEM;
}

/* ---- The two threads ------------------------------------------------------ */

struct reader {
	struct import *im;
	FILE *in;
};

/* The reading thread: parses and checks the file, queueing its rows. */
static void *read_all(void *arg)
{
	struct reader *rd = arg;
	struct import *im = rd->im;

	if (import_read_all(im, rd->in) == STORE_OK)
		import_finish(im, rd->in);
	import_queue_close(&im->q);
	return NULL;
}

static void report(struct import *im)
{
	if (im->o != NULL && im->o->progress != NULL)
		im->o->progress(atomic_load_explicit(&im->read_bytes, memory_order_relaxed),
				atomic_load_explicit(&im->read_rows, memory_order_relaxed),
				im->o->arg);
}

/*
 * The file is read and checked on a second thread while this one writes
 * the rows to the database, which takes most of an import's time. On a
 * database failure the reader is stopped and what it queued is dropped.
 */
static enum store_status read_and_write(struct import *im, FILE *in)
{
	struct reader rd = {im, in};
	struct import_ready *batch[IMPORT_BATCH];
	pthread_t t;
	uint64_t n = 0, next_report = 0;
	int rc;

	if (import_queue_init(&im->q) != 0)
		return store_fail(im->errstr, STORE_ENOMEM, "cannot set up the import's queue");
	csv_init(&im->p, 0);
	import_parser_reset(im);
	if (pthread_create(&t, NULL, read_all, &rd) != 0) {
		csv_free(&im->p);
		import_queue_free(&im->q);
		return store_fail(im->errstr, STORE_ENOMEM, "cannot start the import's reader");
	}
	while ((rc = import_queue_take(&im->q, 100, batch, IMPORT_BATCH)) >= 0) {
		if (im->db_s == STORE_OK && im->o != NULL && im->o->stop != NULL && *im->o->stop) {
			im->db_s =
			    store_fail(&im->db_err, STORE_EINTR, "the import was interrupted");
			import_queue_stop(&im->q);
		}
		if (rc > 0) {
			if (im->db_s == STORE_OK) {
				import_db_apply(im, batch, (size_t)rc);
				if (im->db_s != STORE_OK)
					import_queue_stop(&im->q);
			}
			import_queue_done(&im->q, (size_t)rc);
		}
		n += (uint64_t)rc;
		if (rc == 0 || n >= next_report) {
			report(im);
			next_report = n + 1024;
		}
	}
	pthread_join(t, NULL);
	report(im);
	csv_free(&im->p);
	import_queue_free(&im->q);
	if (im->db_s == STORE_OK)
		return im->s;
	if (im->errstr != NULL) {
		free(*im->errstr);
		*im->errstr = im->db_err;
	} else {
		free(im->db_err);
	}
	im->db_err = NULL;
	return im->db_s;
}

/*
 * read_and_write, and a file that changed while it was read (written to or
 * cut short) is refused: its rows are of no one version of it.
 */
static enum store_status read_and_write_whole(struct import *im, FILE *in)
{
	struct stat a, b;
	bool file = fstat(fileno(in), &a) == 0 && S_ISREG(a.st_mode);
	enum store_status s = read_and_write(im, in);

	if (s == STORE_OK && file &&
	    (fstat(fileno(in), &b) != 0 || b.st_size != a.st_size ||
	     b.st_mtim.tv_sec != a.st_mtim.tv_sec || b.st_mtim.tv_nsec != a.st_mtim.tv_nsec))
		s = store_fail(im->errstr, STORE_EINVAL,
			       "the file changed while it was read (written to or cut short); "
			       "import it again once it is complete");
	return s;
}

/* ---- Set-up ------------------------------------------------------------- */

/*
 * Copies the words of s to out (cap bytes), each that holds an '@' written
 * as "(an address)": the audit trail names nobody, and a message may quote
 * the file (a header that was a row of addresses).
 */
static void without_addresses(const char *s, char *out, size_t cap)
{
	size_t n = 0, w;

	out[0] = '\0';
	while (*s != '\0' && n + 1 < cap) {
		w = strcspn(s, " ");
		if (memchr(s, '@', w) != NULL)
			n += (size_t)snprintf(out + n, cap - n, "(an address)");
		else
			n += (size_t)snprintf(out + n, cap - n, "%.*s", (int)w, s);
		if (n >= cap)
			break;
		s += w;
		if (*s == ' ')
			n += (size_t)snprintf(out + n, cap - n, "%c", *s++);
	}
}

/* The audit record of an import rolled back: how far it went, and why. */
static void audit_failure(struct store *st, const char *list, enum store_status s, uint64_t rows,
			  const char *why)
{
	char reason[300], details[400];

	without_addresses(why != NULL ? why : store_strstatus(s), reason, sizeof(reason));
	snprintf(details, sizeof(details), "rolled back at row %llu: %s", (unsigned long long)rows,
		 reason);
	store_audit(st, "import", list, s == STORE_EINTR ? "interrupted" : "failed", details);
}

enum store_status store_subscriber_import(struct store *st, const char *list, FILE *in,
					  const struct store_import_opts *o,
					  struct store_import_stats *stats, char **errstr)
{
	struct import im;
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
	im.rejects = o != NULL ? o->rejects : NULL;
	im.now = (int64_t)time(NULL);
	store_utc_now(im.now_iso);
	s = store_require(st, STORE_PERM_SUBSCRIBERS_WRITE, "import", errstr);
	/* Its counts say whether each address is on file, and how. */
	if (s == STORE_OK)
		s = store_require_lookup(st, "import", errstr);
	if (s != STORE_OK)
		return s;
	/*
	 * The rows written satisfy the foreign keys by construction (the list is
	 * checked, each membership names the person just written), so the
	 * per-row checks are skipped. A no-op inside an outer transaction.
	 */
	store_exec(st, "PRAGMA foreign_keys = OFF", NULL);
	s = store_begin_err(st, errstr, "importing");
	if (s != STORE_OK) {
		store_exec(st, "PRAGMA foreign_keys = ON", NULL);
		return s;
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
		s = import_db_prepare(&im);
	}
	if (s == STORE_OK)
		s = read_and_write_whole(&im, in);
	import_db_finalize(&im);
	snprintf(details, sizeof(details),
		 "%llu row%s read: imported %llu, updated %llu, invalid %llu, duplicate %llu, "
		 "suppressed %llu",
		 (unsigned long long)stats->rows, stats->rows == 1 ? "" : "s",
		 (unsigned long long)stats->imported, (unsigned long long)stats->updated,
		 (unsigned long long)stats->invalid, (unsigned long long)stats->duplicate,
		 (unsigned long long)stats->suppressed);
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
	/* The rejects are on the disk before the rows are: never one without the other. */
	if (s == STORE_OK)
		s = rejects_sync(&im);
	if (s == STORE_OK)
		s = store_audit(st, "import", list, "ok", details);
	if (s == STORE_OK)
		s = store_commit_err(st, errstr);
	else
		store_rollback(st);
	store_exec(st, "PRAGMA cache_size = -2000", NULL);
	store_exec(st, "PRAGMA foreign_keys = ON", NULL);
	if (s != STORE_OK)
		audit_failure(st, list, s, stats->rows, errstr != NULL ? *errstr : NULL);
	free(im.nfc[0]);
	free(im.nfc[1]);
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
