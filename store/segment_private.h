/*
 * store/segment_private.h: what the files of the segment language share:
 * the lexer (segment_lex.c), the parser and compiler (segment.c) and the
 * numbers (segment_num.c). segment_sql.c registers the SQL functions
 * declared here. Nothing outside store/ may include this file, except
 * white-box tests under tests/store/.
 *
 * Nothing here depends on the process's locale: the language is read with
 * ASCII rules of its own, and numbers are read and compared as decimal
 * text, never through strtod.
 */
#ifndef HATO_STORE_SEGMENT_PRIVATE_H
#define HATO_STORE_SEGMENT_PRIVATE_H

#include "store/subscribers_private.h"

/* ---- Numbers (segment_num.c) ------------------------------------------- */

/*
 * A plain decimal number: an optional sign, one or more digits, and
 * optionally "." and one or more digits. In an attribute's value, spaces
 * and tabs around it and a "+" sign are allowed too. Anything else (1e3,
 * 0x10, inf, nan, 1,5, .5, 5.) is not a number.
 *
 * The digits point into the text read; leading zeros of the whole part and
 * trailing zeros of the fraction are left out, so 010 and 10.0 read as 10.
 * Comparisons are exact, however many digits.
 */
struct seg_decimal {
	bool neg;
	const char *whole; /* digits without leading zeros; wl 0 when the whole part is 0 */
	size_t wl;
	const char *frac; /* digits without trailing zeros */
	size_t fl;
};
/* Reads s[0..n) as a number: 1 when it is one (*d set), else 0. */
int seg_decimal_parse(const char *s, size_t n, struct seg_decimal *d);
/* -1, 0 or 1 as a is less than, equal to or greater than b. */
int seg_decimal_cmp(const struct seg_decimal *a, const struct seg_decimal *b);
/*
 * hato_numcmp(value, number): -1, 0 or 1 comparing the value with the
 * number, or NULL when the value is not a number.
 * hato_numin(value, numbers): 1 when the value is a number equal to one of
 * the numbers (separated by single spaces), else 0.
 */
void seg_fn_numcmp(sqlite3_context *cx, int argc, sqlite3_value **argv);
void seg_fn_numin(sqlite3_context *cx, int argc, sqlite3_value **argv);

/* ---- The lexer (segment_lex.c) ----------------------------------------- */

enum tok {
	T_END,
	T_IDENT,
	T_STRING,
	T_NUMBER,
	T_DATE,
	T_DURATION,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_DOT,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_BAD,
};

struct parser {
	const char *src;
	size_t pos;  /* start of the current token */
	size_t next; /* just past it */
	enum tok tok;
	char *text; /* the token's value (strings unescaped) */
	size_t len;
	int depth;
	int nconds;	  /* conditions so far */
	bool tests_email; /* email, or a value holding an "@": see struct seg_sql */
	bool masked;	  /* for a user who may not see addresses: see emit_field */
	time_t now;
	char **errstr;
	enum store_status s;
	char *sql;
	size_t sqln, sqlcap;
	struct seg_bind *binds;
	size_t nbinds, bindcap;
	segment_string_cb on_string; /* segment_strings' callback, or NULL */
	void *arg;
};

/*
 * Checks the whole text before it is read: STORE_EINVAL with "column N:
 * ..." when it is not valid UTF-8 or holds a control character (tab and
 * line breaks aside).
 */
enum store_status seg_text_check(const char *src, char **errstr);
/* Reads the next token into p. 0, or -1 when out of memory (p->s set). */
int seg_lex(struct parser *p);
/* The same after "attr.", where a name may start with a digit (a column "1st"). */
int seg_lex_name(struct parser *p);
/*
 * Lower-cases the ASCII letters of s[0..n) in place. The C library's
 * tolower and strcasecmp follow the locale: under tr_TR.UTF-8 "I" is not
 * "i", and "IN" would not be the keyword "in".
 */
void seg_ascii_lower(char *s, size_t n);
/* Are a and b the same text, the case of ASCII letters aside? */
bool seg_ascii_same(const char *a, const char *b);
/* Is the current token the keyword kw (ASCII, case aside)? */
int seg_is_kw(const struct parser *p, const char *kw);
/* The byte length of the character at s when it may be part of a name, else 0. */
size_t seg_ident_char(const char *s);
/* Fails with "column N: expected <expected>, found <the token>". Returns -1. */
int seg_fail(struct parser *p, const char *expected);

#endif
