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
 * An attribute that is missing or empty is not set.
 *
 * Dates are UTC. A date without a time means its midnight, except with = and
 * != where it means the whole day.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/subscribers_private.h"

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
	int nconds; /* conditions so far */
	bool tests_email;
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

/* ---- Errors ------------------------------------------------------------- */

static void describe(struct parser *p, char *out, size_t n)
{
	switch (p->tok) {
	case T_END:
		snprintf(out, n, "the end of the text");
		break;
	case T_STRING:
		snprintf(out, n, "the string \"%.40s\"", p->text);
		break;
	case T_BAD:
		snprintf(out, n, "%s", p->text);
		break;
	default:
		snprintf(out, n, "\"%.*s\"", (int)(p->next - p->pos > 40 ? 40 : p->next - p->pos),
			 p->src + p->pos);
	}
}

/* The column (from 1) of the byte at `off` of src, counted in characters. */
static size_t column_of(const char *src, size_t off)
{
	size_t i, col = 1;

	for (i = 0; i < off && src[i] != '\0'; i++)
		col += ((unsigned char)src[i] & 0xc0) != 0x80;
	return col;
}

static int fail(struct parser *p, const char *expected)
{
	char found[120];

	if (p->s != STORE_OK)
		return -1;
	describe(p, found, sizeof(found));
	p->s = store_fail(p->errstr, STORE_EINVAL, "column %zu: expected %s, found %s",
			  column_of(p->src, p->pos), expected, found);
	return -1;
}

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
		fail(p, "a shorter expression (at most 990 values)");
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

static int bind_real(struct parser *p, double v)
{
	struct seg_bind *b = bind_new(p, SEG_REAL);

	if (b == NULL)
		return -1;
	b->r = v;
	return 0;
}

/* ---- The lexer ---------------------------------------------------------- */

static int set_text(struct parser *p, const char *s, size_t n)
{
	char *t = realloc(p->text, n + 1);

	if (t == NULL) {
		p->s = STORE_ENOMEM;
		return -1;
	}
	memcpy(t, s, n);
	t[n] = '\0';
	p->text = t;
	p->len = n;
	return 0;
}

static int set_msg(struct parser *p, const char *m)
{
	return set_text(p, m, strlen(m));
}

static int is_ident(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

static int lex_string(struct parser *p, size_t i)
{
	const char *s = p->src;
	size_t n = 0, cap = 16;
	char *buf = malloc(cap);

	if (buf == NULL) {
		p->s = STORE_ENOMEM;
		return -1;
	}
	for (i++;; i++) {
		char c = s[i];
		if (c == '\0') {
			free(buf);
			p->next = i;
			p->tok = T_BAD;
			return set_msg(p, "a string with no closing quote");
		}
		if (c == '"')
			break;
		if (c == '\\' && (s[i + 1] == '"' || s[i + 1] == '\\'))
			c = s[++i];
		if (n + 1 >= cap) {
			char *b = realloc(buf, cap *= 2);
			if (b == NULL) {
				free(buf);
				p->s = STORE_ENOMEM;
				return -1;
			}
			buf = b;
		}
		buf[n++] = c;
	}
	p->next = i + 1;
	p->tok = T_STRING;
	free(p->text);
	buf[n] = '\0';
	p->text = buf;
	p->len = n;
	return 0;
}

static int lex(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->next, j;

	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	p->pos = i;
	j = i + 1;
	switch (s[i]) {
	case '\0':
		p->tok = T_END;
		j = i;
		break;
	case '(':
		p->tok = T_LPAREN;
		break;
	case ')':
		p->tok = T_RPAREN;
		break;
	case ',':
		p->tok = T_COMMA;
		break;
	case '.':
		p->tok = T_DOT;
		break;
	case '=':
		p->tok = T_EQ;
		break;
	case '!':
		if (s[i + 1] != '=') {
			p->tok = T_BAD;
			p->next = j;
			return set_msg(p, "\"!\" (did you mean \"!=\" or \"not\"?)");
		}
		p->tok = T_NE;
		j++;
		break;
	case '<':
		p->tok = s[i + 1] == '=' ? T_LE : T_LT;
		j += s[i + 1] == '=';
		break;
	case '>':
		p->tok = s[i + 1] == '=' ? T_GE : T_GT;
		j += s[i + 1] == '=';
		break;
	case '"':
		return lex_string(p, i);
	default:
		if (isdigit((unsigned char)s[i]) ||
		    (s[i] == '-' && isdigit((unsigned char)s[i + 1]))) {
			j = i + 1;
			while (isdigit((unsigned char)s[j]) || s[j] == '.')
				j++;
			p->tok = T_NUMBER;
			if (s[j] == '-' && j - i == 4) {
				/* A date: YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM|-HH:MM] */
				while (isdigit((unsigned char)s[j]) || s[j] == '-' || s[j] == ':' ||
				       s[j] == 'T' || s[j] == 'Z' || s[j] == '+')
					j++;
				p->tok = T_DATE;
			} else if (s[j] == 'd' || s[j] == 'h' || s[j] == 'w') {
				j++;
				p->tok = T_DURATION;
			}
			if (is_ident((unsigned char)s[j]) && s[j] != '_') {
				while (is_ident((unsigned char)s[j]))
					j++;
				p->next = j;
				p->tok = T_BAD;
				return set_msg(p, "a malformed number, date or duration");
			}
			break;
		}
		if (is_ident((unsigned char)s[i])) {
			while (is_ident((unsigned char)s[j]))
				j++;
			p->tok = T_IDENT;
			break;
		}
		p->tok = T_BAD;
		p->next = i + 1;
		if (s[i] == '\'')
			return set_msg(p, "a single quote (strings take double quotes)");
		return set_msg(p, "a character the language does not use");
	}
	p->next = j;
	if (p->tok != T_STRING)
		return set_text(p, s + i, j - i);
	return 0;
}

static int is_kw(const struct parser *p, const char *kw)
{
	return p->tok == T_IDENT && strcasecmp(p->text, kw) == 0;
}

/* ---- Fields and values ------------------------------------------------- */

enum field { F_EMAIL, F_NAME, F_DOMAIN, F_STATUS, F_CREATED, F_ATTR };

static const char *const field_sql[] = {"lower(s.email)", "s.name", "s.domain", "s.status",
					"s.created"};

static int emit_field(struct parser *p, enum field f, const char *key, size_t kl)
{
	if (f != F_ATTR)
		return emit(p, field_sql[f]);
	if (emit(p, "hato_attr(s.attrs, ") != 0 || bind_text(p, key, kl) != 0)
		return -1;
	return emit(p, ")");
}

static int date_value(struct parser *p, time_t *t, int *whole_day)
{
	char iso[21];

	if (p->tok != T_DATE || store_iso_norm(p->text, p->len, iso, t) != 0)
		return fail(p, "a date such as 2026-01-01, 2026-01-01T09:00Z or "
			       "2026-01-01T09:00+09:00");
	*whole_day = p->len == 10;
	return lex(p);
}

/* Binds a text value, normalising addresses and domains as the store keeps them. */
static int bind_value(struct parser *p, enum field f)
{
	char addr[STORE_ADDRESS_MAX + 1], tmp[STORE_ADDRESS_MAX + 8];
	static const char *const statuses[] = {"active", "unsubscribed", "bounced", "complained",
					       "erased"};
	size_t i;

	saw_string(p, f == F_EMAIL);
	if (f == F_STATUS) {
		for (i = 0; i < 5; i++)
			if (strcmp(p->text, statuses[i]) == 0)
				break;
		if (i == 5)
			return fail(p, "a status: \"active\", \"unsubscribed\", \"bounced\", "
				       "\"complained\" or \"erased\"");
	}
	if (f == F_EMAIL) {
		/* Addresses compare case-insensitively, as the store keys them. */
		for (i = 0; i < p->len; i++)
			p->text[i] = (char)tolower((unsigned char)p->text[i]);
		if (store_address_normalise(p->text, p->len, addr, NULL) == STORE_OK)
			return bind_text(p, addr, strlen(addr));
	}
	if (f == F_DOMAIN && p->len < STORE_ADDRESS_MAX - 2) {
		snprintf(tmp, sizeof(tmp), "x@%s", p->text);
		if (store_address_normalise(tmp, strlen(tmp), addr, NULL) == STORE_OK)
			return bind_text(p, addr + 2, strlen(addr + 2));
		for (i = 0; i < p->len; i++)
			p->text[i] = (char)tolower((unsigned char)p->text[i]);
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
	int day;

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
		return fail(p, "a duration such as 30d, 12h or 2w");
	n = strtoll(p->text, &end, 10);
	unit = *end == 'd' ? 86400 : *end == 'h' ? 3600 : 7 * 86400;
	if (n < 0 || n > 100000 || end[1] != '\0')
		return fail(p, "a duration between 0 and 100000 days, hours or weeks");
	if (emit(p, "(s.created >= ") != 0 || bind_int(p, (int64_t)p->now - n * unit) != 0 ||
	    emit(p, ")") != 0)
		return -1;
	return lex(p);
}

static int cond_in(struct parser *p, enum field f, const char *key, size_t kl)
{
	if (p->tok != T_LPAREN)
		return fail(p, "\"(\" after \"in\"");
	if (emit(p, "coalesce(") != 0 || emit_field(p, f, key, kl) != 0 || emit(p, " IN (") != 0)
		return -1;
	for (;;) {
		if (lex(p) != 0)
			return -1;
		if (p->tok != T_STRING && p->tok != T_NUMBER)
			return fail(p, "a value in double quotes");
		if (bind_value(p, f) != 0 || lex(p) != 0)
			return -1;
		if (p->tok == T_RPAREN)
			break;
		if (p->tok != T_COMMA)
			return fail(p, "\",\" or \")\"");
		if (emit(p, ", ") != 0)
			return -1;
	}
	if (emit(p, "), 0)") != 0)
		return -1;
	return lex(p);
}

static int cond_set(struct parser *p, enum field f, const char *key, size_t kl)
{
	int neg = 0;

	if (lex(p) != 0)
		return -1;
	if (is_kw(p, "not")) {
		neg = 1;
		if (lex(p) != 0)
			return -1;
	}
	if (!is_kw(p, "set"))
		return fail(p, neg ? "\"set\"" : "\"set\" or \"not set\"");
	if (f == F_ATTR) {
		if (emit(p, "(coalesce(") != 0 || emit_field(p, f, key, kl) != 0 ||
		    emit(p, neg ? ", '') = '')" : ", '') != '')") != 0)
			return -1;
	} else if (f == F_NAME) {
		if (emit(p, neg ? "(s.name = '')" : "(s.name != '')") != 0)
			return -1;
	} else if (emit(p, neg ? "(0)" : "(1)") != 0) {
		return -1;
	}
	return lex(p);
}

static int cond_compare(struct parser *p, enum field f, const char *key, size_t kl, enum tok op)
{
	static const char *const ops[] = {[T_EQ] = " IS ", [T_NE] = " IS NOT ", [T_LT] = " < ",
					  [T_LE] = " <= ", [T_GT] = " > ",	[T_GE] = " >= "};
	int num = p->tok == T_NUMBER;
	char *end;
	double d;

	if (p->tok != T_STRING && p->tok != T_NUMBER)
		return fail(p, "a value in double quotes or a number");
	if (num) {
		d = strtod(p->text, &end);
		if (*end != '\0')
			return fail(p, "a number");
		if (f != F_ATTR)
			return fail(p, "a value in double quotes");
	}
	if (emit(p, "coalesce(") != 0)
		return -1;
	if (num && emit(p, "hato_num(") != 0)
		return -1;
	if (emit_field(p, f, key, kl) != 0 || (num && emit(p, ")") != 0) || emit(p, ops[op]) != 0)
		return -1;
	if (num ? bind_real(p, d) : bind_value(p, f))
		return -1;
	if (emit(p, ", 0)") != 0)
		return -1;
	return lex(p);
}

static int cond_text(struct parser *p, enum field f, const char *key, size_t kl, const char *fn)
{
	if (lex(p) != 0)
		return -1;
	if (p->tok != T_STRING)
		return fail(p, "a value in double quotes");
	if (emit(p, fn) != 0 || emit(p, "(") != 0 || emit_field(p, f, key, kl) != 0 ||
	    emit(p, ", ") != 0 || bind_value(p, f) != 0 || emit(p, ")") != 0)
		return -1;
	return lex(p);
}

static int cond(struct parser *p)
{
	enum field f;
	char *key = NULL;
	size_t kl = 0;
	enum tok op;
	int r = -1;

	if (++p->nconds > MAX_CONDS)
		return fail(p, "fewer conditions (at most 200)");
	if (is_kw(p, "email")) {
		f = F_EMAIL;
		p->tests_email = true;
	} else if (is_kw(p, "name"))
		f = F_NAME;
	else if (is_kw(p, "domain"))
		f = F_DOMAIN;
	else if (is_kw(p, "status"))
		f = F_STATUS;
	else if (is_kw(p, "created"))
		f = F_CREATED;
	else if (is_kw(p, "attr"))
		f = F_ATTR;
	else
		return fail(p, "a field (email, name, domain, status, created or attr.KEY), "
			       "\"not\" or \"(\"");
	if (lex(p) != 0)
		return -1;
	if (f == F_ATTR) {
		if (p->tok != T_DOT)
			return fail(p, "\".\" and an attribute name after \"attr\"");
		if (lex(p) != 0)
			return -1;
		if (p->tok != T_IDENT && p->tok != T_STRING && p->tok != T_NUMBER)
			return fail(p, "an attribute name");
		saw_string(p, false);
		key = strndup(p->text, p->len);
		kl = p->len;
		if (key == NULL) {
			p->s = STORE_ENOMEM;
			return -1;
		}
		/* Names such as attr.first-name or attr.a.b: glue the pieces. */
		while (p->tok != T_STRING && (p->src[p->next] == '-' || p->src[p->next] == '.') &&
		       is_ident((unsigned char)p->src[p->next + 1])) {
			size_t start = p->next;
			char *k2;
			p->next++;
			if (lex(p) != 0)
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
		if (lex(p) != 0)
			goto done;
	}
	op = p->tok;
	if (f == F_CREATED) {
		if (is_kw(p, "within")) {
			if (lex(p) == 0)
				r = cond_within(p);
		} else if (op >= T_EQ && op <= T_GE) {
			if (lex(p) == 0)
				r = cond_created(p, op);
		} else if (is_kw(p, "is")) {
			r = cond_set(p, f, NULL, 0);
		} else {
			fail(p, "an operator for created: =, !=, <, <=, >, >= or within");
		}
		goto done;
	}
	if (op >= T_EQ && op <= T_GE) {
		if (lex(p) == 0)
			r = cond_compare(p, f, key, kl, op);
	} else if (is_kw(p, "in")) {
		if (lex(p) == 0)
			r = cond_in(p, f, key, kl);
	} else if (is_kw(p, "is")) {
		r = cond_set(p, f, key, kl);
	} else if (is_kw(p, "contains")) {
		r = cond_text(p, f, key, kl, "hato_contains");
	} else if (is_kw(p, "starts_with")) {
		r = cond_text(p, f, key, kl, "hato_starts");
	} else if (is_kw(p, "ends_with")) {
		r = cond_text(p, f, key, kl, "hato_ends");
	} else {
		fail(p, "an operator: =, !=, <, <=, >, >=, contains, starts_with, ends_with, in or "
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

	if (!is_kw(p, "not") && p->tok != T_LPAREN)
		return cond(p);
	if (++p->depth > MAX_DEPTH)
		return fail(p, "less nesting (at most 12 levels of parentheses and \"not\")");
	/*
	 * No parentheses of our own around either: a condition's SQL is one
	 * term (a call or in parentheses) and expr_or's is in parentheses, and
	 * each level of them costs SQLite's parser stack (see MAX_DEPTH).
	 */
	if (is_kw(p, "not")) {
		if (lex(p) != 0 || emit(p, "NOT ") != 0)
			return -1;
		r = unary(p);
	} else {
		if (lex(p) != 0 || expr_or(p) != 0)
			return -1;
		if (p->tok != T_RPAREN)
			return fail(p, "\")\", \"and\" or \"or\"");
		r = lex(p);
	}
	p->depth--;
	return r;
}

static int expr_and(struct parser *p)
{
	if (unary(p) != 0)
		return -1;
	while (is_kw(p, "and")) {
		if (lex(p) != 0 || emit(p, " AND ") != 0 || unary(p) != 0)
			return -1;
	}
	return 0;
}

static int expr_or(struct parser *p)
{
	if (emit(p, "(") != 0 || expr_and(p) != 0)
		return -1;
	while (is_kw(p, "or")) {
		if (lex(p) != 0 || emit(p, " OR ") != 0 || expr_and(p) != 0)
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
static enum store_status compile(const char *expr, time_t now, segment_string_cb cb, void *arg,
				 struct seg_sql *out, char **errstr)
{
	struct parser p = {
	    .src = expr ? expr : "", .now = now, .errstr = errstr, .on_string = cb, .arg = arg};
	const char *q;

	memset(out, 0, sizeof(*out));
	for (q = p.src; *q; q++)
		if ((unsigned char)*q < 0x20 && *q != '\t' && *q != '\n' && *q != '\r')
			return store_fail(errstr, STORE_EINVAL,
					  "column %zu: the expression holds a control character",
					  column_of(p.src, (size_t)(q - p.src)));
	if (lex(&p) == 0) {
		if (p.tok == T_END) {
			emit(&p, "1");
		} else if (expr_or(&p) == 0 && p.tok != T_END) {
			fail(&p, "\"and\", \"or\" or the end of the expression");
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

enum store_status segment_compile(const char *expr, time_t now, struct seg_sql *out, char **errstr)
{
	return compile(expr, now, NULL, NULL, out, errstr);
}

enum store_status segment_strings(const char *expr, segment_string_cb cb, void *arg, char **errstr)
{
	struct seg_sql s;
	enum store_status r = compile(expr, 0, cb, arg, &s, errstr);

	segment_sql_free(&s);
	return r;
}

enum store_status store_segment_check(const char *expr, char **errstr)
{
	struct seg_sql s;
	enum store_status r = segment_compile(expr, time(NULL), &s, errstr);

	segment_sql_free(&s);
	return r;
}
