/*
 * send/dns_records.c: the parsers of the text of DNS records: tag lists
 * (DKIM key records, DMARC) and SPF records. Everything here parses outside
 * input; tests/fuzz/fuzz_spf.c fuzzes it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "send/private.h"

#define TAGS_MAX 64
#define SPF_TERMS_MAX 256

/* ---- Tag lists ----------------------------------------------------------------- */

struct send_taglist {
	char *buf;
	size_t n;
	const char *name[TAGS_MAX];
	const char *value[TAGS_MAX];
};

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims FWS around [s, e) in place; returns the start, writes NUL at the new end. */
static char *trim(char *s, char *e)
{
	while (s < e && is_fws(*s))
		s++;
	while (e > s && is_fws(e[-1]))
		e--;
	*e = '\0';
	return s;
}

void send_taglist_free(struct send_taglist **t)
{
	if (t == NULL || *t == NULL)
		return;
	free((*t)->buf);
	free(*t);
	*t = NULL;
}

enum send_status send_taglist_parse(const char *text, struct send_taglist **out, char **errstr)
{
	struct send_taglist *t = NULL;
	char *seg, *end;
	enum send_status st = SEND_OK;

	if (text == NULL || out == NULL) {
		st = send_err(errstr, SEND_EUSAGE, "tags: bad arguments");
		goto done;
	}
	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->buf = strdup(text)) == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	for (seg = t->buf; seg != NULL; seg = end != NULL ? end + 1 : NULL) {
		char *eq, *name, *value;

		end = strchr(seg, ';');
		eq = strchr(seg, '=');
		if (eq != NULL && end != NULL && eq > end)
			eq = NULL;
		if (eq == NULL) {
			char *rest = trim(seg, end != NULL ? end : seg + strlen(seg));

			if (*rest == '\0')
				continue; /* empty segment, or the trailing ';' */
			st =
			    send_err(errstr, SEND_EINVAL, "tags: \"%.40s\" is not tag=value", rest);
			goto done;
		}
		name = trim(seg, eq);
		value = trim(eq + 1, end != NULL ? end : eq + 1 + strlen(eq + 1));
		if (!isalpha((unsigned char)name[0])) {
			st = send_err(errstr, SEND_EINVAL, "tags: bad tag name \"%.40s\"", name);
			goto done;
		}
		for (const char *p = name; *p != '\0'; p++) {
			if (!isascii((unsigned char)*p) ||
			    !(isalnum((unsigned char)*p) || *p == '_')) {
				st = send_err(errstr, SEND_EINVAL, "tags: bad tag name \"%.40s\"",
					      name);
				goto done;
			}
		}
		for (const char *p = value; *p != '\0'; p++) {
			if ((unsigned char)*p > 0x7e || ((unsigned char)*p < 0x21 && !is_fws(*p))) {
				st = send_err(errstr, SEND_EINVAL,
					      "tags: bad character in the value of %.40s=", name);
				goto done;
			}
		}
		for (size_t i = 0; i < t->n; i++) {
			if (strcmp(t->name[i], name) == 0) {
				st = send_err(errstr, SEND_EINVAL, "tags: %.40s= appears twice",
					      name);
				goto done;
			}
		}
		if (t->n == TAGS_MAX) {
			st = send_err(errstr, SEND_EINVAL, "tags: more than %d tags", TAGS_MAX);
			goto done;
		}
		t->name[t->n] = name;
		t->value[t->n++] = value;
		if (end == NULL)
			break;
	}
	*out = t;
	t = NULL;
done:
	send_taglist_free(&t);
	return st;
}

size_t send_taglist_count(const struct send_taglist *t)
{
	return t != NULL ? t->n : 0;
}

void send_taglist_at(const struct send_taglist *t, size_t i, const char **name, const char **value)
{
	if (name != NULL)
		*name = t != NULL && i < t->n ? t->name[i] : NULL;
	if (value != NULL)
		*value = t != NULL && i < t->n ? t->value[i] : NULL;
}

const char *send_taglist_get(const struct send_taglist *t, const char *name)
{
	for (size_t i = 0; t != NULL && i < t->n; i++)
		if (strcmp(t->name[i], name) == 0)
			return t->value[i];
	return NULL;
}

enum send_status send_dkim_record_parse(const char *txt, char **k, char **p, char **errstr)
{
	struct send_taglist *t = NULL;
	const char *v, *kv, *pv, *first;
	size_t j = 0;
	enum send_status st;

	if (k == NULL || p == NULL)
		return send_err(errstr, SEND_EUSAGE, "dkim record: bad arguments");
	*k = NULL;
	*p = NULL;
	st = send_taglist_parse(txt, &t, errstr);
	if (st != SEND_OK)
		goto done;
	v = send_taglist_get(t, "v");
	send_taglist_at(t, 0, &first, NULL);
	if (v != NULL && (strcmp(v, "DKIM1") != 0 || strcmp(first, "v") != 0)) {
		st = send_err(errstr, SEND_EINVAL, "dkim record: v= must come first and be DKIM1");
		goto done;
	}
	pv = send_taglist_get(t, "p");
	if (pv == NULL) {
		st = send_err(errstr, SEND_EINVAL, "dkim record: no p= tag");
		goto done;
	}
	kv = send_taglist_get(t, "k");
	*k = strdup(kv != NULL ? kv : "rsa");
	*p = malloc(strlen(pv) + 1);
	if (*k == NULL || *p == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	for (const char *c = pv; *c != '\0'; c++) {
		if (is_fws(*c))
			continue;
		if (!(isascii((unsigned char)*c) &&
		      (isalnum((unsigned char)*c) || *c == '+' || *c == '/' || *c == '='))) {
			st = send_err(errstr, SEND_EINVAL, "dkim record: p= is not base64");
			goto done;
		}
		(*p)[j++] = *c;
	}
	(*p)[j] = '\0';
done:
	if (st != SEND_OK) {
		free(*k);
		free(*p);
		*k = NULL;
		*p = NULL;
	}
	send_taglist_free(&t);
	return st;
}

/* ---- DMARC ------------------------------------------------------------------------ */

bool send_dmarc_is_record(const char *txt)
{
	const char *p = txt;

	while (is_fws(*p))
		p++;
	if (*p != 'v' && *p != 'V')
		return false;
	p++;
	while (is_fws(*p))
		p++;
	if (*p++ != '=')
		return false;
	while (is_fws(*p))
		p++;
	/* RFC 7489 6.4: "DMARC1" is written in hex in the ABNF: in this case only. */
	if (strncmp(p, "DMARC1", 6) != 0)
		return false;
	p += 6;
	while (is_fws(*p))
		p++;
	return *p == ';' || *p == '\0';
}

const char *send_dmarc_policy_name(enum send_dmarc_policy p)
{
	switch (p) {
	case SEND_DMARC_NONE:
		return "none";
	case SEND_DMARC_QUARANTINE:
		return "quarantine";
	case SEND_DMARC_REJECT:
		return "reject";
	case SEND_DMARC_UNSET:
		break;
	}
	return "unset";
}

static bool policy_parse(const char *v, enum send_dmarc_policy *out)
{
	if (v == NULL)
		return true;
	if (strcasecmp(v, "none") == 0)
		*out = SEND_DMARC_NONE;
	else if (strcasecmp(v, "quarantine") == 0)
		*out = SEND_DMARC_QUARANTINE;
	else if (strcasecmp(v, "reject") == 0)
		*out = SEND_DMARC_REJECT;
	else
		return false;
	return true;
}

static bool char_tag(const char *v, const char *allowed, char *out)
{
	if (v == NULL)
		return true;
	if (strlen(v) != 1 || strchr(allowed, tolower((unsigned char)v[0])) == NULL)
		return false;
	*out = (char)tolower((unsigned char)v[0]);
	return true;
}

enum send_status send_dmarc_parse(const char *txt, struct send_dmarc *out, char **errstr)
{
	struct send_taglist *t = NULL;
	const char *bad = NULL, *pct, *first;
	enum send_status st;

	if (txt == NULL || out == NULL)
		return send_err(errstr, SEND_EUSAGE, "dmarc: bad arguments");
	memset(out, 0, sizeof(*out));
	out->adkim = 'r';
	out->aspf = 'r';
	out->pct = -1;
	st = send_taglist_parse(txt, &t, errstr);
	if (st != SEND_OK)
		goto done;
	send_taglist_at(t, 0, &first, NULL);
	if (first == NULL || strcmp(first, "v") != 0 || !send_dmarc_is_record(txt)) {
		st = send_err(errstr, SEND_EINVAL, "dmarc: the record must start with v=DMARC1");
		goto done;
	}
	if (!policy_parse(send_taglist_get(t, "p"), &out->p))
		bad = "p";
	else if (!policy_parse(send_taglist_get(t, "sp"), &out->sp))
		bad = "sp";
	else if (!policy_parse(send_taglist_get(t, "np"), &out->np))
		bad = "np";
	else if (!char_tag(send_taglist_get(t, "adkim"), "rs", &out->adkim))
		bad = "adkim";
	else if (!char_tag(send_taglist_get(t, "aspf"), "rs", &out->aspf))
		bad = "aspf";
	else if (!char_tag(send_taglist_get(t, "t"), "yn", &out->t))
		bad = "t";
	else if (!char_tag(send_taglist_get(t, "psd"), "ynu", &out->psd))
		bad = "psd";
	pct = send_taglist_get(t, "pct");
	if (bad == NULL && pct != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(pct, &end, 10);
		if (errno != 0 || end == pct || *end != '\0' || v < 0 || v > 100)
			bad = "pct";
		else
			out->pct = (int)v;
	}
	if (bad != NULL) {
		const char *val = send_taglist_get(t, bad);

		st = send_err(errstr, SEND_EINVAL, "dmarc: bad value %s=%.40s", bad, val);
		goto done;
	}
	out->has_rf = send_taglist_get(t, "rf") != NULL;
	out->has_ri = send_taglist_get(t, "ri") != NULL;
	out->rua = send_taglist_get(t, "rua") != NULL;
	out->ruf = send_taglist_get(t, "ruf") != NULL;
done:
	send_taglist_free(&t);
	return st;
}

/* ---- SPF ------------------------------------------------------------------------------ */

bool send_spf_is_record(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == ' ' || txt[6] == '\0');
}

void send_spf_free(struct send_spf **s)
{
	if (s == NULL || *s == NULL)
		return;
	for (size_t i = 0; i < (*s)->nterms; i++)
		free((*s)->terms[i].domain);
	free((*s)->terms);
	free((*s)->redirect);
	free(*s);
	*s = NULL;
}

static bool parse_cidr(const char *s, int max, int *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > max || (s[0] == '0' && s[1] != '\0'))
		return false;
	*out = (int)v;
	return true;
}

/* "/n", "//m" or "/n//m" after a or mx. s is modified. */
static bool parse_dual_cidr(char *s, struct send_spf_term *t)
{
	char *six = strstr(s, "//");

	if (six != NULL) {
		*six = '\0';
		if (!parse_cidr(six + 2, 128, &t->cidr6))
			return false;
	}
	if (*s == '\0')
		return true;
	return s[0] == '/' && parse_cidr(s + 1, 32, &t->cidr4);
}

static bool domain_spec_ok(const char *d, bool *macros)
{
	if (*d == '\0' || strlen(d) > 253)
		return false;
	for (const char *p = d; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			return false;
		if (*p == '%')
			*macros = true;
	}
	return true;
}

/* Parses one mechanism (without qualifier) into t. s is a private copy. */
static enum send_status parse_mech(char *s, struct send_spf_term *t, bool *macros, char **errstr)
{
	static const char *const names[] = {"all", "include", "a",   "mx",
					    "ptr", "ip4",     "ip6", "exists"};
	size_t nlen = strcspn(s, ":/");
	char *arg = s + nlen, *slash;
	int m = -1;

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strlen(names[i]) == nlen && strncasecmp(s, names[i], nlen) == 0)
			m = (int)i;
	if (m < 0)
		return send_err(errstr, SEND_EINVAL, "spf: unknown mechanism \"%.40s\"", s);
	t->mech = (enum send_spf_mech)m;
	t->cidr4 = 32;
	t->cidr6 = 128;
	switch (t->mech) {
	case SEND_SPF_ALL:
		if (*arg != '\0')
			return send_err(errstr, SEND_EINVAL, "spf: \"all\" takes no argument");
		return SEND_OK;
	case SEND_SPF_IP4:
	case SEND_SPF_IP6:
		if (*arg != ':')
			return send_err(errstr, SEND_EINVAL, "spf: %s needs an address", names[m]);
		slash = strchr(arg + 1, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (!parse_cidr(slash + 1, t->mech == SEND_SPF_IP4 ? 32 : 128,
					t->mech == SEND_SPF_IP4 ? &t->cidr4 : &t->cidr6))
				return send_err(errstr, SEND_EINVAL, "spf: bad prefix length");
		}
		if (inet_pton(t->mech == SEND_SPF_IP4 ? AF_INET : AF_INET6, arg + 1, t->addr) != 1)
			return send_err(errstr, SEND_EINVAL, "spf: bad address in %s:%.45s",
					names[m], arg + 1);
		return SEND_OK;
	case SEND_SPF_INCLUDE:
	case SEND_SPF_EXISTS:
	case SEND_SPF_A:
	case SEND_SPF_MX:
	case SEND_SPF_PTR:
		break;
	}
	slash = NULL;
	if (*arg == ':') {
		arg++;
		if (t->mech == SEND_SPF_A || t->mech == SEND_SPF_MX) {
			slash = strchr(arg, '/');
			if (slash != NULL) {
				char *cidr = strdup(slash);
				bool ok = cidr != NULL && parse_dual_cidr(cidr, t);

				free(cidr);
				if (!ok)
					return send_err(errstr, SEND_EINVAL,
							"spf: bad prefix length");
				*slash = '\0';
			}
		}
		if (!domain_spec_ok(arg, macros))
			return send_err(errstr, SEND_EINVAL, "spf: bad domain in %s", names[m]);
		t->domain = strdup(arg);
		return t->domain != NULL ? SEND_OK : SEND_ENOMEM;
	}
	if (t->mech == SEND_SPF_INCLUDE || t->mech == SEND_SPF_EXISTS)
		return send_err(errstr, SEND_EINVAL, "spf: %s needs a domain", names[m]);
	if (*arg == '/' && (t->mech == SEND_SPF_A || t->mech == SEND_SPF_MX) &&
	    parse_dual_cidr(arg, t))
		return SEND_OK;
	if (*arg != '\0')
		return send_err(errstr, SEND_EINVAL, "spf: bad argument to %s", names[m]);
	return SEND_OK;
}

static enum send_status parse_term(struct send_spf *s, char *term, char **errstr)
{
	size_t nlen = strcspn(term, "=:/");
	struct send_spf_term *t;

	if (term[nlen] == '=') { /* a modifier */
		bool macros = false;

		if (nlen == 0 || !isalpha((unsigned char)term[0]))
			return send_err(errstr, SEND_EINVAL, "spf: bad modifier \"%.40s\"", term);
		/* RFC 7208 6: each of redirect= and exp= at most once, or permerror. */
		if (nlen == 3 && strncasecmp(term, "exp", 3) == 0) {
			if (s->has_exp)
				return send_err(errstr, SEND_EINVAL, "spf: exp= appears twice");
			s->has_exp = true;
			return SEND_OK;
		}
		if (nlen != 8 || strncasecmp(term, "redirect", 8) != 0)
			return SEND_OK; /* unknown modifiers do not matter here */
		if (s->redirect != NULL)
			return send_err(errstr, SEND_EINVAL, "spf: redirect= appears twice");
		if (!domain_spec_ok(term + 9, &macros))
			return send_err(errstr, SEND_EINVAL, "spf: bad redirect= domain");
		s->macros |= macros;
		s->redirect = strdup(term + 9);
		return s->redirect != NULL ? SEND_OK : SEND_ENOMEM;
	}
	if (s->nterms == SPF_TERMS_MAX)
		return send_err(errstr, SEND_EINVAL, "spf: more than %d terms", SPF_TERMS_MAX);
	t = &s->terms[s->nterms++];
	memset(t, 0, sizeof(*t));
	t->qual = '+';
	if (strchr("+-~?", term[0]) != NULL && term[0] != '\0')
		t->qual = *term++;
	return parse_mech(term, t, &s->macros, errstr);
}

enum send_status send_spf_parse(const char *txt, struct send_spf **out, char **errstr)
{
	struct send_spf *s = NULL;
	char *copy = NULL, *p, *end;
	enum send_status st = SEND_OK;

	if (txt == NULL || out == NULL) {
		st = send_err(errstr, SEND_EUSAGE, "spf: bad arguments");
		goto done;
	}
	*out = NULL;
	if (!send_spf_is_record(txt)) {
		st = send_err(errstr, SEND_EINVAL, "spf: the record does not start with v=spf1");
		goto done;
	}
	s = calloc(1, sizeof(*s));
	copy = strdup(txt + 6);
	if (s == NULL || copy == NULL ||
	    (s->terms = calloc(SPF_TERMS_MAX, sizeof(*s->terms))) == NULL) {
		st = SEND_ENOMEM;
		goto done;
	}
	for (p = copy; *p != '\0' && st == SEND_OK;) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 0)
			break;
		end = p + len;
		if (*end != '\0')
			*end++ = '\0';
		st = parse_term(s, p, errstr);
		p = end;
	}
	if (st != SEND_OK)
		goto done;
	*out = s;
	s = NULL;
done:
	free(copy);
	send_spf_free(&s);
	return st;
}

int send_spf_lookups(const struct send_spf *s)
{
	int n = s->redirect != NULL;

	for (size_t i = 0; i < s->nterms; i++) {
		switch (s->terms[i].mech) {
		case SEND_SPF_INCLUDE:
		case SEND_SPF_A:
		case SEND_SPF_MX:
		case SEND_SPF_PTR:
		case SEND_SPF_EXISTS:
			n++;
			break;
		case SEND_SPF_ALL:
		case SEND_SPF_IP4:
		case SEND_SPF_IP6:
			break;
		}
	}
	return n;
}
