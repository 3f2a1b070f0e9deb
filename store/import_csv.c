/*
 * store/import_csv.c: reading an import's CSV file.
 *
 * The file is read in chunks and handed to libcsv one line at a time, so
 * that the importer always knows on which line the current record started
 * and where the next line begins. A record that cannot be parsed (a stray
 * quote, a quote left open until the end of the file, a record longer than
 * MAX_RECORD) is rejected with its line number and the parser starts again
 * on the following line, so one bad row never swallows the good rows behind
 * it. Memory is bounded by MAX_RECORD whatever the size of the file. The
 * first record is the header (import_header, below, which says what the
 * file may be when it is no CSV: UTF-16, compressed, separated by
 * semicolons or tabs); the others go to import_data_row (import.c).
 */
#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "store/subscribers_private.h"

#define CHUNK 65536
#define MAX_RECORD (1u << 20)
#define RAW_MAX (64u << 10) /* of a line that could not be parsed, in the rejects */

/* ---- libcsv callbacks -------------------------------------------------- */

static void on_field(void *data, size_t len, void *arg)
{
	struct import *im = arg;
	struct import_row *r = &im->row;

	r->fields++;
	if (r->nf == r->capf) {
		size_t cap = r->capf ? r->capf * 2 : 16;
		size_t *o, *l;
		if (cap > IMPORT_MAX_COLUMNS + 1)
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
	if (store_reserve(&r->buf, &r->cap, r->n + len + 1, 4096) != 0) {
		im->s = STORE_ENOMEM;
		return;
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

static void on_row(int term, void *arg)
{
	struct import *im = arg;

	(void)term;
	if (im->s != STORE_OK || im->resync)
		goto done;
	if (!im->have_header)
		im->s = import_header(im);
	else
		import_data_row(im);
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

void import_parser_reset(struct import *im)
{
	csv_free(&im->p);
	csv_init(&im->p, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_space_func(&im->p, is_space);
	csv_set_term_func(&im->p, is_term);
	im->row.nf = im->row.n = im->row.fields = 0;
	im->row.nul = 0;
}

/* ---- Reading ------------------------------------------------------------ */

/*
 * Gives up on the current record and restarts the parser on the line after
 * the one it started on. Returns 1 when the caller must seek to im->off, 0
 * when it must skip to the next newline (the record's first line has not
 * ended yet), -1 when the input cannot seek.
 */
static int resync(struct import *im, FILE *in)
{
	import_parser_reset(im);
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

static int in_record(const struct import *im)
{
	return im->p.pstate != 0 || im->row.nf > 0;
}

static const char *parse_reason(struct import *im)
{
	int e = csv_error(&im->p);

	if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
		return "the row is too long";
	return "a quote is out of place (an unquoted field holds '\"', or a closing quote is "
	       "followed by something other than a comma)";
}

static void header_fail(struct import *im, const char *what)
{
	if (im->s == STORE_OK)
		im->s = store_fail(im->errstr, STORE_EINVAL,
				   "not a CSV file: the header (line %llu) can't be read: %s",
				   (unsigned long long)im->rec_line, what);
}

/*
 * Rejects the record that could not be parsed, with its first line as it
 * is in the file (read again from the file: the parser has moved on), cut
 * at RAW_MAX bytes. Without it when the input can't be read again.
 */
static void reject_raw(struct import *im, FILE *in, const char *reason)
{
	char *b = malloc(RAW_MAX), why[300];
	ssize_t got = b != NULL ? pread(fileno(in), b, RAW_MAX, im->rec_off) : -1;
	const char *nl;
	size_t n;

	if (got <= 0) {
		import_reject(im, im->rec_line, reason, 0);
		free(b);
		return;
	}
	nl = memchr(b, '\n', (size_t)got);
	n = nl != NULL ? (size_t)(nl - b) : (size_t)got;
	if (n > 0 && b[n - 1] == '\r')
		n--;
	snprintf(why, sizeof(why), "%s%s", reason,
		 nl == NULL && got == RAW_MAX ? "; the line is cut at 64 KiB here" : "");
	import_reject_text(im, im->rec_line, why, b, n);
	free(b);
}

/*
 * The last line of the record that starts at im->rec_off, found by reading
 * the file again with a quote's rules alone (RFC 4180 with libcsv's strict
 * checks): 0 when the record never ends well (a quote left open until the
 * end of the file, or one out of place). A huge field then ends where its
 * quote closes; a stray quote does not, and the lines it swallowed are
 * rows of their own.
 */
static uint64_t record_end(struct import *im, FILE *in)
{
	enum { FIELD, UNQUOTED, QUOTED, CLOSED, SPACED } st = FIELD;
	unsigned char *b = malloc(CHUNK);
	uint64_t line = im->rec_line, end = 0;
	off_t at = im->rec_off;
	ssize_t got = 0, i = 0;

	while (b != NULL && end == 0) {
		unsigned char c;
		if (i == got) {
			got = pread(fileno(in), b, CHUNK, at);
			if (got <=
			    0) /* the end of the file ends the record, unless inside quotes */
				end = got == 0 && st != QUOTED ? line : 0;
			if (got <= 0)
				break;
			at += got;
			i = 0;
		}
		c = b[i++];
		if (st == QUOTED) {
			if (c == '"')
				st = CLOSED;
			else if (c == '\n')
				line++;
		} else if (c == '\n') {
			end = line;
		} else if (c == ',') {
			st = FIELD;
		} else if (c == '"') {
			if (st == UNQUOTED || st == SPACED)
				break; /* out of place */
			st = QUOTED;   /* after a closing quote, "" is a quote in the field */
		} else if (is_space(c)) {
			if (st == CLOSED)
				st = SPACED;
		} else if (st == CLOSED || st == SPACED) {
			break; /* text after a closing quote */
		} else {
			st = UNQUOTED;
		}
	}
	free(b);
	return end;
}

/* A record went wrong: reject it and decide how to go on. 0 go on, -1 stop. */
static int bad_record(struct import *im, FILE *in, const char *reason, int *skip, int *seeked)
{
	int r;

	if (!im->have_header) {
		header_fail(im, reason);
		return -1;
	}
	im->stats->rows++;
	reject_raw(im, in, reason);
	r = resync(im, in);
	if (r < 0)
		return -1;
	*seeked = r == 1;
	*skip = r == 0;
	return 0;
}

/*
 * A record longer than MAX_RECORD. When it ends well on a later line (a
 * huge quoted field over many lines), it is one bad row: its lines, read
 * again as rows in case a stray quote swallowed them, are pieces of it and
 * are not reported again (import.c). When it never ends, they are rows.
 */
static int too_long(struct import *im, FILE *in, int *skip, int *seeked)
{
	uint64_t last = record_end(im, in);
	char why[200];

	if (im->have_header && last > im->rec_line && im->rec_line > im->covered) {
		snprintf(why, sizeof(why),
			 "the row is longer than 1 MiB (lines %llu to %llu: a huge field; any "
			 "good rows among its lines were imported)",
			 (unsigned long long)im->rec_line, (unsigned long long)last);
		im->covered_from = im->rec_line;
		im->covered = last;
	} else {
		snprintf(why, sizeof(why),
			 "the row is longer than 1 MiB (a huge field, or a "
			 "quote that is never closed)");
	}
	return bad_record(im, in, why, skip, seeked);
}

enum store_status import_read_all(struct import *im, FILE *in)
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
			if (in_record(im) && im->off - im->rec_off > (off_t)MAX_RECORD &&
			    too_long(im, in, &skip, &seeked) != 0)
				break;
		}
		/* For the progress the database side reports. */
		atomic_store_explicit(&im->read_bytes, (uint64_t)im->off, memory_order_relaxed);
		atomic_store_explicit(&im->read_rows, im->stats->rows, memory_order_relaxed);
		/* After a seek fread goes on from the new position. */
	}
	free(buf);
	if (im->s == STORE_OK && ferror(in))
		im->s =
		    store_fail(im->errstr, STORE_EIO, "cannot read the file: %s", strerror(errno));
	return im->s;
}

enum store_status import_finish(struct import *im, FILE *in)
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
		if (import_read_all(im, in) != STORE_OK)
			break;
	}
	if (im->s == STORE_OK && !im->have_header)
		im->s = store_fail(im->errstr, STORE_EINVAL,
				   "the file is empty; the first row must name the columns, one of "
				   "them \"email\"");
	return im->s;
}

/* ---- The header --------------------------------------------------------- */

/* C_EMAIL... for the columns an import reads as such, else C_ATTR. */
static int column_kind(const char *n)
{
	size_t i;

	for (i = 0; i < SUBSCRIBER_NCOLUMNS; i++)
		if (strcasecmp(n, subscriber_columns[i]) == 0)
			return (int)i + 1;
	return C_ATTR;
}

/* Why a header name is not text, with what the file may be instead. */
static const char *header_why(const char *n, size_t len, int nul)
{
	const unsigned char *u = (const unsigned char *)n;

	if (len >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
		return "is UTF-16 text: save the file as UTF-8";
	if (len >= 2 && u[0] == 0x1f && u[1] == 0x8b)
		return "is compressed (gzip): unpack the file first";
	if (len >= 4 && memcmp(n, "PK\3\4", 4) == 0)
		return "is a ZIP file (a spreadsheet?): save the sheet as CSV, UTF-8";
	if (nul)
		return "holds a NUL byte";
	if (!subscriber_utf8_ok(n, len))
		return "is not UTF-8 text: save the file as UTF-8";
	if (memchr(n, '\r', len) != NULL)
		return "holds a carriage return: if its lines end in a lone CR (an old Mac "
		       "format), save it with LF or CRLF line ends";
	if (memchr(n, '\t', len) != NULL)
		return "holds a tab: if the file is separated by tabs, save it as CSV, "
		       "separated by commas";
	return "holds a control character or a line break";
}

/* A header with no email column that names one between semicolons. */
static bool semicolons(const struct import *im)
{
	for (size_t i = 0; i < im->ncols; i++)
		if (strchr(im->name[i], ';') != NULL && strcasestr(im->name[i], "email") != NULL)
			return true;
	return false;
}

enum store_status import_header(struct import *im)
{
	struct import_row *r = &im->row;
	size_t i, j;
	int email = 0;
	char *nfc;
	const char *why;

	if (r->fields > IMPORT_MAX_COLUMNS)
		return store_fail(im->errstr, STORE_EINVAL,
				  "the header has %zu columns; hato accepts at most %d", r->fields,
				  IMPORT_MAX_COLUMNS);
	im->ncols = r->nf;
	im->kind = calloc(r->nf, sizeof(*im->kind));
	im->name = calloc(r->nf, sizeof(*im->name));
	if (im->kind == NULL || im->name == NULL)
		return STORE_ENOMEM;
	for (i = 0; i < r->nf; i++) {
		const char *n = r->buf + r->off[i];
		size_t len = r->len[i];
		/* Spaces around a name are dropped, quoted or not (the parser drops
		 * them around an unquoted one). */
		subscriber_key_trim(&n, &len);
		if (r->nul || !subscriber_utf8_ok(n, len) || subscriber_has_ctl(n, len))
			return store_fail(
			    im->errstr, STORE_EINVAL, "not a CSV file: the header (line %llu) %s",
			    (unsigned long long)im->rec_line, header_why(n, len, r->nul));
		/* Names are kept in NFC (store_nfc), as are the values. */
		im->name[i] = strndup(n, len);
		if (im->name[i] == NULL || store_nfc(n, len, &nfc, &len) != 0)
			return STORE_ENOMEM;
		if (nfc != NULL) {
			free(im->name[i]);
			im->name[i] = nfc;
		}
		if (len == 0 || len > SUBSCRIBER_MAX_KEY)
			return store_fail(im->errstr, STORE_EINVAL, "column %zu of the header %s",
					  i + 1,
					  len == 0 ? "has no name" : "is longer than 128 bytes");
		im->kind[i] = column_kind(im->name[i]);
		email |= im->kind[i] == C_EMAIL;
		/* The checks of `subscriber add --attr`'s names (fields.c). */
		why = im->kind[i] == C_ATTR ? subscriber_field_why(SF_ATTR_KEY, im->name[i], len)
					    : NULL;
		if (why != NULL)
			return store_fail(im->errstr, STORE_EINVAL, "column %zu of the header %s",
					  i + 1, why);
		/* The own columns in any case; attributes byte for byte (fields.c). */
		for (j = 0; j < i; j++)
			if (im->kind[i] == C_ATTR && im->kind[j] == C_ATTR
				? subscriber_key_same(im->name[j], strlen(im->name[j]), im->name[i],
						      len)
				: im->kind[i] == im->kind[j])
				return store_fail(im->errstr, STORE_EINVAL,
						  "column %zu of the header repeats \"%s\" "
						  "(column %zu); each column needs its own name",
						  i + 1, im->name[i], j + 1);
	}
	if (!email && semicolons(im))
		return store_fail(
		    im->errstr, STORE_EINVAL,
		    "the header (line %llu) has no email column: its names are "
		    "separated by semicolons, and hato reads CSV separated by commas; "
		    "save the file so",
		    (unsigned long long)im->rec_line);
	if (!email)
		return store_fail(im->errstr, STORE_EINVAL,
				  "the header (line %llu) has no email column; the first row must "
				  "name the columns, one of them \"email\"",
				  (unsigned long long)im->rec_line);
	im->have_header = 1;
	if (im->rejects != NULL)
		import_rejects_header(im);
	return im->s;
}
