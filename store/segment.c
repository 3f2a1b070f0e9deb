/*
 * store/segment.c: the segment language, parsed and compiled to a SQL WHERE
 * clause with bound parameters.
 *
 * The compiler only ever writes SQL text of its own (column names, operators,
 * "?" placeholders, function names); every piece of the user's text, a value
 * or an attribute key, travels as a bound parameter. Every condition yields 0
 * or 1, never NULL, so "not" means what a person expects for people who lack
 * an attribute.
 *
 * An attribute that is missing or empty is not set, and reads as "" to =,
 * != and in, as an empty name does.
 *
 * Dates are UTC. A date without a time means its midnight, except with = and
 * != where it means the whole day.
 *
 * Numbers are plain decimals compared exactly (segment_num.c): a number
 * condition matches only values that are numbers, and "x in (a, b)" means
 * "x = a or x = b" for numbers as for strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/segment_private.h"

/*
 * What SQLite can take: a query holds at most 999 values (the list and the
 * range of a walk are 3 of them), and an expression tree at most 1000
 * levels, which a chain of conditions joined by "and" deepens by one each.
 * Its parser's stack holds 100 entries, which nesting fills: a level of
 * parentheses holds up to five, "(" and a pending "x OR" and "y AND", and a
 * "not" one. The worst case, "(a or b and (a or b and ... attr.x >= 5)))",
 * still parses with 15 levels and not with 16 (SQLite 3.15.2, measured in
 * tests/store/test_segment.c, test_nesting): 12 leaves a margin.
 */
#define MAX_DEPTH 12
#define MAX_BINDS 990
#define MAX_CONDS 200

static const char too_many[] =
    "a shorter expression (at most 990 values, each attribute name counted as one)";

/* ---- Output ------------------------------------------------------------- */

/* Hands the string token just read, as the user wrote it, to segment_strings' callback. */
static void saw_string(struct parser *p, bool email)
{
	if (p->on_string != NULL && p->tok == T_STRING)
		p->on_string(p->pos, p->next, p->text, p->len, email, p->arg);
}

static int emit(struct parser *p, const char *s)
{
	size_t n = strlen(s);

	if (store_reserve(&p->sql, &p->sqlcap, p->sqln + n + 1, 256) != 0) {
		p->s = STORE_ENOMEM;
		return -1;
	}
	memcpy(p->sql + p->sqln, s, n + 1);
	p->sqln += n;
	return 0;
}

static struct seg_bind *bind_new(struct parser *p, enum seg_bind_type t)
{
	struct seg_bind *b;

	if (p->nbinds >= MAX_BINDS) {
		seg_fail(p, too_many);
		return NULL;
	}
	if (p->nbinds == p->bindcap) {
		size_t cap = p->bindcap ? p->bindcap * 2 : 8;
		b = realloc(p->binds, cap * sizeof(*b));
		if (b == NULL) {
			p->s = STORE_ENOMEM;
			return NULL;
		}
		p->binds = b;
		p->bindcap = cap;
	}
	b = &p->binds[p->nbinds++];
	memset(b, 0, sizeof(*b));
	b->type = t;
	if (emit(p, "?") != 0)
		return NULL;
	return b;
}

static int bind_text(struct parser *p, const char *s, size_t n)
{
	struct seg_bind *b = bind_new(p, SEG_TEXT);

	if (b == NULL)
		return -1;
	b->text = strndup(s, n);
	if (b->text == NULL) {
		p->s = STORE_ENOMEM;
		return -1;
	}
	return 0;
}

static int bind_int(struct parser *p, int64_t v)
{
	struct seg_bind *b = bind_new(p, SEG_INT);

	if (b == NULL)
		return -1;
	b->i = v;
	return 0;
}

/* ---- Fields and values ------------------------------------------------- */

enum field { F_EMAIL, F_NAME, F_DOMAIN, F_STATUS, F_CREATED, F_ATTR };

static const char *const field_sql[] = {"lower(s.email)", "s.name", "s.domain", "s.status",
					"s.created"};

/*
 * The field's value in SQL. For a user who may not see addresses (masked),
 * a name or attribute holding an "@" reads as not set (hato_unseen): a
 * count probed letter by letter, or by ranges, would spell out the
 * addresses that masking hides in them.
 */
static int emit_field(struct parser *p, enum field f, const char *key, size_t kl)
{
	bool unseen = p->masked && (f == F_NAME || f == F_ATTR);

	if (unseen && emit(p, "hato_unseen(") != 0)
		return -1;
	if (f != F_ATTR) {
		if (emit(p, field_sql[f]) != 0)
			return -1;
	} else if (emit(p, "hato_attr(s.attrs, ") != 0 || bind_text(p, key, kl) != 0 ||
		   emit(p, ")") != 0) {
		return -1;
	}
	return unseen ? emit(p, ")") : 0;
}

/*
 * The field's value for = != and in with strings: an attribute not set
 * reads as "", as an empty name does and as an export shows both, so
 * attr.x = "" matches who lacks it and attr.x != "" who has it.
 */
static int emit_text_field(struct parser *p, enum field f, const char *key, size_t kl)
{
	if (f != F_ATTR)
		return emit_field(p, f, key, kl);
	if (emit(p, "coalesce(") != 0 || emit_field(p, f, key, kl) != 0)
		return -1;
	return emit(p, ", '')");
}

static int date_value(struct parser *p, time_t *t, int *whole_day)
{
	char iso[21];

	if (p->tok != T_DATE || store_iso_norm(p->text, p->len, iso, t) != 0)
		return seg_fail(p, "a date such as 2026-01-01, 2026-01-01T09:00Z or "
				   "2026-01-01T09:00+09:00");
	*whole_day = p->len == 10;
	return seg_lex(p);
}

/* Binds a text value, normalising addresses and domains as the store keeps them. */
static int bind_value(struct parser *p, enum field f)
{
	char addr[STORE_ADDRESS_MAX + 1], tmp[STORE_ADDRESS_MAX + 8];
	static const char *const statuses[] = {"active", "unsubscribed", "bounced", "complained",
					       "erased"};
	size_t i;

	saw_string(p, f == F_EMAIL);
	/* A value holding an "@" tests for an address, whatever the field (name = "a@b.jp"). */
	if (memchr(p->text, '@', p->len) != NULL)
		p->tests_email = true;
	if (f == F_STATUS) {
		for (i = 0; i < 5; i++)
			if (strcmp(p->text, statuses[i]) == 0)
				break;
		if (i == 5)
			return seg_fail(p, "a status: \"active\", \"unsubscribed\", \"bounced\", "
					   "\"complained\" or \"erased\"");
	}
	if (f == F_EMAIL) {
		/* Addresses compare case-insensitively, as the store keys them. */
		seg_ascii_lower(p->text, p->len);
		if (store_address_normalise(p->text, p->len, addr, NULL) == STORE_OK)
			return bind_text(p, addr, strlen(addr));
	}
	if (f == F_DOMAIN && p->len < STORE_ADDRESS_MAX - 2) {
		snprintf(tmp, sizeof(tmp), "x@%s", p->text);
		if (store_address_normalise(tmp, strlen(tmp), addr, NULL) == STORE_OK)
			return bind_text(p, addr + 2, strlen(addr + 2));
		seg_ascii_lower(p->text, p->len);
	}
	/* A piece of one (ends_with ".テスト"): its Unicode labels as the store keeps them. */
	if ((f == F_EMAIL || f == F_DOMAIN) &&
	    address_alabels(p->text, p->len, addr, sizeof(addr)) == 0)
		return bind_text(p, addr, strlen(addr));
	return bind_text(p, p->text, p->len);
}

static int cond_created(struct parser *p, enum tok op)
{
	static const char *const ops[] = {
	    [T_EQ] = "=", [T_NE] = "!=", [T_LT] = "<", [T_LE] = "<=", [T_GT] = ">", [T_GE] = ">="};
	time_t t;
	int day = 0;

	if (date_value(p, &t, &day) != 0)
		return -1;
	if (day && (op == T_EQ || op == T_NE)) {
		if (emit(p, op == T_EQ ? "(s.created >= " : "(s.created < ") != 0 ||
		    bind_int(p, (int64_t)t) != 0 ||
		    emit(p, op == T_EQ ? " AND s.created < " : " OR s.created >= ") != 0 ||
		    bind_int(p, (int64_t)t + 86400) != 0)
			return -1;
		return emit(p, ")");
	}
	/* A date is its whole day: "<= D" takes the day in, "> D" leaves it out. */
	if (day && (op == T_LE || op == T_GT)) {
		t += 86400;
		op = op == T_LE ? T_LT : T_GE;
	}
	if (emit(p, "(s.created ") != 0 || emit(p, ops[op]) != 0 || emit(p, " ") != 0 ||
	    bind_int(p, (int64_t)t) != 0)
		return -1;
	return emit(p, ")");
}

static int cond_within(struct parser *p)
{
	char *end;
	long long n;
	int64_t unit;

	if (p->tok != T_DURATION)
		return seg_fail(p, "a duration such as 30d, 12h or 2w");
	n = strtoll(p->text, &end, 10);
	unit = *end == 'd' ? 86400 : *end == 'h' ? 3600 : 7 * 86400;
	if (n < 0 || n > 100000 || end[1] != '\0')
		return seg_fail(p, "a duration between 0 and 100000 days, hours or weeks");
	if (emit(p, "(s.created >= ") != 0 || bind_int(p, (int64_t)p->now - n * unit) != 0 ||
	    emit(p, ")") != 0)
		return -1;
	return seg_lex(p);
}

/* Checks that the number token is one, compared with an attribute. */
static int number_ok(struct parser *p, enum field f)
{
	struct seg_decimal d;

	if (!seg_decimal_parse(p->text, p->len, &d))
		return seg_fail(p, "a number such as 12 or -3.5");
	if (f != F_ATTR)
		return seg_fail(p, "a value in double quotes");
	return 0;
}

/* Appends the number token and a space to the list *nums holds. */
static int add_number(struct parser *p, char **nums, size_t *n, size_t *cap)
{
	if (store_reserve(nums, cap, *n + p->len + 2, 64) != 0) {
		p->s = STORE_ENOMEM;
		return -1;
	}
	if (*n > 0)
		(*nums)[(*n)++] = ' ';
	memcpy(*nums + *n, p->text, p->len + 1);
	*n += p->len;
	return 0;
}

/*
 * x in (a, b, ...) means x = a or x = b ...: its strings are compared as
 * text (an SQL IN list) and its numbers as numbers (hato_numin), as = would.
 */
static int cond_in(struct parser *p, enum field f, const char *key, size_t kl)
{
	char *nums = NULL;
	size_t nn = 0, cap = 0, numbers = 0;
	int strings = 0, r = -1;

	if (p->tok != T_LPAREN)
		return seg_fail(p, "\"(\" after \"in\"");
	if (emit(p, "(") != 0)
		return -1;
	do {
		if (seg_lex(p) != 0)
			goto done;
		if (p->tok == T_NUMBER) {
			/* Numbers share one bound value, but count as values too. */
			if (p->nbinds + ++numbers > MAX_BINDS) {
				seg_fail(p, too_many);
				goto done;
			}
			if (number_ok(p, f) != 0 || add_number(p, &nums, &nn, &cap) != 0)
				goto done;
		} else if (p->tok == T_STRING) {
			if (strings++ == 0) {
				if (emit(p, "coalesce(") != 0 ||
				    emit_text_field(p, f, key, kl) != 0 || emit(p, " IN (") != 0)
					goto done;
			} else if (emit(p, ", ") != 0) {
				goto done;
			}
			if (bind_value(p, f) != 0)
				goto done;
		} else {
			seg_fail(p, f == F_ATTR ? "a value in double quotes or a number"
						: "a value in double quotes");
			goto done;
		}
		if (seg_lex(p) != 0)
			goto done;
	} while (p->tok == T_COMMA);
	if (p->tok != T_RPAREN) {
		seg_fail(p, "\",\" or \")\"");
		goto done;
	}
	if (strings > 0 && emit(p, "), 0)") != 0)
		goto done;
	if (nn > 0 && (emit(p, strings > 0 ? " OR hato_numin(" : "hato_numin(") != 0 ||
		       emit_field(p, f, key, kl) != 0 || emit(p, ", ") != 0 ||
		       bind_text(p, nums, nn) != 0 || emit(p, ")") != 0))
		goto done;
	if (emit(p, ")") == 0)
		r = seg_lex(p);
done:
	free(nums);
	return r;
}

static int cond_set(struct parser *p, enum field f, const char *key, size_t kl)
{
	int neg = 0;

	if (seg_lex(p) != 0)
		return -1;
	if (seg_is_kw(p, "not")) {
		neg = 1;
		if (seg_lex(p) != 0)
			return -1;
	}
	if (!seg_is_kw(p, "set"))
		return seg_fail(p, neg ? "\"set\"" : "\"set\" or \"not set\"");
	if (f == F_ATTR || f == F_NAME) {
		if (emit(p, "(coalesce(") != 0 || emit_field(p, f, key, kl) != 0 ||
		    emit(p, neg ? ", '') = '')" : ", '') != '')") != 0)
			return -1;
	} else if (emit(p, neg ? "(0)" : "(1)") != 0) {
		return -1;
	}
	return seg_lex(p);
}

static int cond_compare(struct parser *p, enum field f, const char *key, size_t kl, enum tok op)
{
	static const char *const ops[] = {[T_EQ] = " IS ", [T_NE] = " IS NOT ", [T_LT] = " < ",
					  [T_LE] = " <= ", [T_GT] = " > ",	[T_GE] = " >= "};

	if (p->tok != T_STRING && p->tok != T_NUMBER)
		return seg_fail(p, "a value in double quotes or a number");
	if (p->tok == T_NUMBER && number_ok(p, f) != 0)
		return -1;
	if (emit(p, "coalesce(") != 0)
		return -1;
	if (p->tok == T_STRING) {
		if ((op == T_EQ || op == T_NE ? emit_text_field(p, f, key, kl)
					      : emit_field(p, f, key, kl)) != 0 ||
		    emit(p, ops[op]) != 0 || bind_value(p, f) != 0)
			return -1;
	} else if (emit(p, "hato_numcmp(") != 0 || emit_field(p, f, key, kl) != 0 ||
		   emit(p, ", ") != 0 || bind_text(p, p->text, p->len) != 0 || emit(p, ")") != 0 ||
		   emit(p, ops[op]) != 0 || emit(p, "0") != 0) {
		return -1;
	}
	if (emit(p, ", 0)") != 0)
		return -1;
	return seg_lex(p);
}

static int cond_text(struct parser *p, enum field f, const char *key, size_t kl, const char *fn)
{
	if (seg_lex(p) != 0)
		return -1;
	if (p->tok != T_STRING)
		return seg_fail(p, "a value in double quotes");
	if (emit(p, fn) != 0 || emit(p, "(") != 0 || emit_field(p, f, key, kl) != 0 ||
	    emit(p, ", ") != 0 || bind_value(p, f) != 0 || emit(p, ")") != 0)
		return -1;
	return seg_lex(p);
}

static int cond(struct parser *p)
{
	enum field f;
	char *key = NULL;
	size_t kl = 0;
	enum tok op;
	int r = -1;

	if (++p->nconds > MAX_CONDS)
		return seg_fail(p, "fewer conditions (at most 200)");
	if (seg_is_kw(p, "email")) {
		f = F_EMAIL;
		p->tests_email = true;
	} else if (seg_is_kw(p, "name"))
		f = F_NAME;
	else if (seg_is_kw(p, "domain"))
		f = F_DOMAIN;
	else if (seg_is_kw(p, "status"))
		f = F_STATUS;
	else if (seg_is_kw(p, "created"))
		f = F_CREATED;
	else if (seg_is_kw(p, "attr"))
		f = F_ATTR;
	else
		return seg_fail(p, "a field (email, name, domain, status, created or attr.KEY), "
				   "\"not\" or \"(\"");
	if (seg_lex(p) != 0)
		return -1;
	if (f == F_ATTR) {
		if (p->tok != T_DOT)
			return seg_fail(p, "\".\" and an attribute name after \"attr\"");
		if (seg_lex_name(p) != 0)
			return -1;
		if (p->tok != T_IDENT && p->tok != T_STRING && p->tok != T_NUMBER)
			return seg_fail(p, "an attribute name (one with spaces or other signs in "
					   "double quotes: attr.\"First Name\")");
		saw_string(p, false);
		key = strndup(p->text, p->len);
		kl = p->len;
		if (key == NULL) {
			p->s = STORE_ENOMEM;
			return -1;
		}
		/* Names such as attr.first-name or attr.a.b: glue the pieces. */
		while (p->tok != T_STRING && (p->src[p->next] == '-' || p->src[p->next] == '.') &&
		       seg_ident_char(p->src + p->next + 1) > 0) {
			size_t start = p->next;
			char *k2;
			p->next++;
			if (seg_lex_name(p) != 0)
				goto done;
			k2 = realloc(key, kl + 1 + p->len + 1);
			if (k2 == NULL) {
				p->s = STORE_ENOMEM;
				goto done;
			}
			key = k2;
			key[kl] = p->src[start];
			memcpy(key + kl + 1, p->text, p->len + 1);
			kl += 1 + p->len;
		}
		if (seg_lex(p) != 0)
			goto done;
	}
	op = p->tok;
	if (f == F_CREATED) {
		if (seg_is_kw(p, "within")) {
			if (seg_lex(p) == 0)
				r = cond_within(p);
		} else if (op >= T_EQ && op <= T_GE) {
			if (seg_lex(p) == 0)
				r = cond_created(p, op);
		} else if (seg_is_kw(p, "is")) {
			r = cond_set(p, f, NULL, 0);
		} else {
			seg_fail(p, "an operator for created: =, !=, <, <=, >, >= or within");
		}
		goto done;
	}
	if (op >= T_EQ && op <= T_GE) {
		if (seg_lex(p) == 0)
			r = cond_compare(p, f, key, kl, op);
	} else if (seg_is_kw(p, "in")) {
		if (seg_lex(p) == 0)
			r = cond_in(p, f, key, kl);
	} else if (seg_is_kw(p, "is")) {
		r = cond_set(p, f, key, kl);
	} else if (seg_is_kw(p, "contains")) {
		r = cond_text(p, f, key, kl, "hato_contains");
	} else if (seg_is_kw(p, "starts_with")) {
		r = cond_text(p, f, key, kl, "hato_starts");
	} else if (seg_is_kw(p, "ends_with")) {
		r = cond_text(p, f, key, kl, "hato_ends");
	} else {
		seg_fail(
		    p, "an operator: =, !=, <, <=, >, >=, contains, starts_with, ends_with, in or "
		       "is");
	}
done:
	free(key);
	return r;
}

/* ---- The grammar -------------------------------------------------------- */

static int expr_or(struct parser *p);

static int unary(struct parser *p)
{
	int r;

	if (!seg_is_kw(p, "not") && p->tok != T_LPAREN)
		return cond(p);
	if (++p->depth > MAX_DEPTH)
		return seg_fail(p, "less nesting (at most 12 levels of parentheses and \"not\")");
	/*
	 * No parentheses of our own around either: a condition's SQL is one
	 * term (a call or in parentheses) and expr_or's is in parentheses, and
	 * each level of them costs SQLite's parser stack (see MAX_DEPTH).
	 */
	if (seg_is_kw(p, "not")) {
		if (seg_lex(p) != 0 || emit(p, "NOT ") != 0)
			return -1;
		r = unary(p);
	} else {
		if (seg_lex(p) != 0 || expr_or(p) != 0)
			return -1;
		if (p->tok != T_RPAREN)
			return seg_fail(p, "\")\", \"and\" or \"or\"");
		r = seg_lex(p);
	}
	p->depth--;
	return r;
}

static int expr_and(struct parser *p)
{
	if (unary(p) != 0)
		return -1;
	while (seg_is_kw(p, "and")) {
		if (seg_lex(p) != 0 || emit(p, " AND ") != 0 || unary(p) != 0)
			return -1;
	}
	return 0;
}

static int expr_or(struct parser *p)
{
	if (emit(p, "(") != 0 || expr_and(p) != 0)
		return -1;
	while (seg_is_kw(p, "or")) {
		if (seg_lex(p) != 0 || emit(p, " OR ") != 0 || expr_and(p) != 0)
			return -1;
	}
	return emit(p, ")");
}

void segment_sql_free(struct seg_sql *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nbinds; i++)
		free(s->binds[i].text);
	free(s->binds);
	free(s->where);
	memset(s, 0, sizeof(*s));
}

/* Parses and compiles expr into out, handing each string to cb when not NULL. */
static enum store_status compile(const char *expr, time_t now, bool masked, segment_string_cb cb,
				 void *arg, struct seg_sql *out, char **errstr)
{
	struct parser p = {.src = expr ? expr : "",
			   .now = now,
			   .masked = masked,
			   .errstr = errstr,
			   .on_string = cb,
			   .arg = arg};

	memset(out, 0, sizeof(*out));
	if (seg_text_check(p.src, errstr) != STORE_OK)
		return STORE_EINVAL;
	if (seg_lex(&p) == 0) {
		if (p.tok == T_END) {
			emit(&p, "1");
		} else if (expr_or(&p) == 0 && p.tok != T_END) {
			seg_fail(&p, "\"and\", \"or\" or the end of the expression");
		}
	}
	free(p.text);
	if (p.s == STORE_OK && p.sql == NULL)
		p.s = STORE_ENOMEM;
	out->where = p.sql;
	out->binds = p.binds;
	out->nbinds = p.nbinds;
	out->tests_email = p.tests_email;
	if (p.s != STORE_OK)
		segment_sql_free(out);
	return p.s;
}

enum store_status segment_compile(const char *expr, time_t now, bool masked, struct seg_sql *out,
				  char **errstr)
{
	return compile(expr, now, masked, NULL, NULL, out, errstr);
}

enum store_status segment_strings(const char *expr, segment_string_cb cb, void *arg, char **errstr)
{
	struct seg_sql s;
	enum store_status r = compile(expr, 0, false, cb, arg, &s, errstr);

	segment_sql_free(&s);
	return r;
}

enum store_status store_segment_check(const char *expr, char **errstr)
{
	struct seg_sql s;
	enum store_status r = segment_compile(expr, time(NULL), false, &s, errstr);

	segment_sql_free(&s);
	return r;
}
