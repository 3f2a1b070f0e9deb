/*
 * store/address.c: checking and normalising email addresses.
 *
 * The local part is an RFC 5321 dot-atom or quoted string and keeps its case;
 * the domain is lower-cased, and an internationalised domain is checked and
 * converted to A-labels with libidn2. Control characters are never accepted.
 * The old addresses of Japanese mobile carriers (a..b@docomo.ne.jp,
 * abc.@ezweb.ne.jp) break the dot-atom rule; they are accepted for those
 * carriers' domains only.
 */
#include <ctype.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers_private.h"

static const char *const carriers[] = {
    "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp",
};

bool store_address_is_carrier(const char *domain)
{
	size_t i;

	for (i = 0; i < sizeof(carriers) / sizeof(carriers[0]); i++)
		if (strcasecmp(domain, carriers[i]) == 0)
			return true;
	return false;
}

static int is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Is s[0..n) a dot-atom? `carrier` allows the dots the carriers allowed. */
static int dot_atom(const char *s, size_t n, int carrier)
{
	size_t i;

	if (n == 0 || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (carrier)
				continue;
			if (i + 1 == n || s[i + 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* Checks an ASCII, lower-case domain of n bytes. */
static const char *check_domain(const char *d, size_t n)
{
	size_t i, label = 0;
	int labels = 1, alpha_tld = 0;

	if (n == 0)
		return "the domain is missing";
	if (n > 253)
		return "the domain is longer than 253 characters";
	if (d[0] == '[')
		return "address literals such as [192.0.2.1] are not accepted";
	for (i = 0; i < n; i++) {
		char c = d[i];
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return "the domain has an empty label or a label ending in '-'";
			label = 0;
			labels++;
			alpha_tld = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return "the domain holds a character that domains may not hold";
		if (label == 0 && c == '-')
			return "a domain label may not start with '-'";
		if (++label > 63)
			return "a domain label is longer than 63 characters";
		if (c < '0' || c > '9')
			alpha_tld = 1;
	}
	if (label == 0 || d[n - 1] == '-')
		return "the domain ends in '.' or '-'";
	if (labels < 2)
		return "the domain has no dot";
	if (!alpha_tld)
		return "the top-level domain is all digits";
	return NULL;
}

/* Writes the domain in ASCII lower case to out (room for 254 bytes). */
static const char *norm_domain(const char *d, size_t n, char *out, size_t *outlen)
{
	size_t i;
	int ascii = 1, ace = 0;
	const char *why;

	for (i = 0; i < n; i++)
		if ((unsigned char)d[i] >= 0x80)
			ascii = 0;
	if (ascii) {
		if (n > 253)
			return "the domain is longer than 253 characters";
		for (i = 0; i < n; i++)
			out[i] = (d[i] >= 'A' && d[i] <= 'Z') ? (char)(d[i] - 'A' + 'a') : d[i];
		out[n] = '\0';
		*outlen = n;
		why = check_domain(out, n);
		if (why != NULL)
			return why;
		ace = strncmp(out, "xn--", 4) == 0 || strstr(out, ".xn--") != NULL;
		if (!ace)
			return NULL;
	}
	{
		char *in = strndup(d, n);
		uint8_t *res = NULL;
		int rc;

		if (in == NULL)
			return "out of memory";
		rc = idn2_lookup_u8((const uint8_t *)in, &res,
				    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		free(in);
		if (rc != IDN2_OK) {
			idn2_free(res);
			return "the internationalised domain is not valid (IDNA2008)";
		}
		n = strlen((char *)res);
		if (n > 253) {
			idn2_free(res);
			return "the domain is longer than 253 characters";
		}
		for (i = 0; i < n; i++)
			out[i] = (res[i] >= 'A' && res[i] <= 'Z') ? (char)(res[i] - 'A' + 'a')
								  : (char)res[i];
		out[n] = '\0';
		*outlen = n;
		idn2_free(res);
	}
	return check_domain(out, *outlen);
}

/* Checks a quoted local part "..." of n bytes (quotes included). */
static const char *check_quoted(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || s[n - 1] != '"')
		return "the quoted local part has no closing quote before '@'";
	if (n == 2)
		return "the quoted local part is empty";
	for (i = 1; i + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			i++;
			if (i + 1 >= n)
				return "the quoted local part ends in a lone backslash";
			c = (unsigned char)s[i];
			if (c < 0x20 || c > 0x7e)
				return "the quoted local part holds a character that needs "
				       "SMTPUTF8";
			continue;
		}
		if (c == '"')
			return "the quoted local part holds an unescaped quote";
		if (c < 0x20 || c > 0x7e)
			return "the quoted local part holds a character that needs SMTPUTF8";
	}
	return NULL;
}

/* Why an unquoted local part is refused. */
static const char *local_why(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '@')
			return "the local part holds a quote or '@' outside quotes";
		if (s[i] != '.' && !is_atext((unsigned char)s[i]))
			return "the local part holds a character that needs quoting";
	}
	return "the local part has a leading, trailing or double dot";
}

/*
 * The one form of a checked quoted local part "..." (quotes included), so
 * that one mailbox has one key: "a\b" is ab, and "a..b" at a carrier is
 * a..b, which is how carrier addresses are kept (quoted again when sent).
 * Writes the content without its quotes and escapes when that is a
 * dot-atom (the carriers' dots allowed when `carrier`), else quoted again
 * with only '"' and '\' escaped. Returns the length written: out must hold
 * n bytes (the form is never longer than the original).
 */
static size_t unquote(const char *s, size_t n, int carrier, char *out)
{
	size_t i, k = 0, j;

	for (i = 1; i + 1 < n; i++) {
		if (s[i] == '\\')
			i++;
		out[k++] = s[i];
	}
	if (dot_atom(out, k, 0) || (carrier && dot_atom(out, k, 1)))
		return k;
	memmove(out + 1, out, k);
	out[0] = '"';
	for (i = 1, j = k + 1; i < j; i++) {
		if (out[i] != '"' && out[i] != '\\')
			continue;
		memmove(out + i + 1, out + i, j - i);
		out[i++] = '\\';
		j++;
	}
	out[j] = '"';
	return j + 1;
}

enum store_status store_address_normalise(const char *in, size_t len,
					  char out[STORE_ADDRESS_MAX + 1], const char **reason)
{
	const char *at = NULL, *why = NULL;
	char dom[256];
	size_t i, local_len, dom_len = 0, k;

	out[0] = '\0';
	while (len > 0 && (in[0] == ' ' || in[0] == '\t'))
		in++, len--;
	while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t'))
		len--;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c == 0x7f) {
			why = c == '\r' || c == '\n' ? "the address holds a line break"
						     : "the address holds a control character";
			goto fail;
		}
		if (c == '@')
			at = in + i;
	}
	if (len == 0) {
		why = "the address is empty";
		goto fail;
	}
	if (at == NULL) {
		why = "the address has no '@'";
		goto fail;
	}
	local_len = (size_t)(at - in);
	if (local_len == 0) {
		why = "the address has nothing before '@'";
		goto fail;
	}
	if (local_len > 64) {
		why = "the local part is longer than 64 characters";
		goto fail;
	}
	why = norm_domain(at + 1, len - local_len - 1, dom, &dom_len);
	if (why != NULL)
		goto fail;
	if (in[0] == '"') {
		why = check_quoted(in, local_len);
		if (why != NULL)
			goto fail;
		k = unquote(in, local_len, store_address_is_carrier(dom), out);
	} else {
		for (i = 0; i < local_len; i++)
			if ((unsigned char)in[i] >= 0x80) {
				why = "the local part is not ASCII (that needs SMTPUTF8)";
				goto fail;
			}
		if (!dot_atom(in, local_len, 0)) {
			if (!store_address_is_carrier(dom) || !dot_atom(in, local_len, 1)) {
				why = local_why(in, local_len);
				goto fail;
			}
		}
		memcpy(out, in, local_len);
		k = local_len;
	}
	if (k + 1 + dom_len > STORE_ADDRESS_MAX) {
		why = "the address is longer than 254 characters";
		goto fail;
	}
	out[k] = '@';
	memcpy(out + k + 1, dom, dom_len + 1);
	if (reason != NULL)
		*reason = NULL;
	return STORE_OK;
fail:
	out[0] = '\0';
	if (reason != NULL)
		*reason = why;
	return STORE_EINVAL;
}

const char *store_address_domain(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL ? at + 1 : address + strlen(address);
}

int address_alabels(const char *in, size_t n, char *out, size_t cap)
{
	const char *at = memrchr(in, '@', n);
	size_t o = at != NULL ? (size_t)(at - in) + 1 : 0, i, j, k;
	int r = 0;

	if (o >= cap)
		return -1;
	memcpy(out, in, o);
	for (i = o; r == 0 && i <= n; i = j + 1) {
		uint8_t *res = NULL;
		char *label;
		size_t len;
		int ascii = 1;

		for (j = i; j < n && in[j] != '.'; j++)
			ascii &= (unsigned char)in[j] < 0x80;
		label = strndup(in + i, j - i);
		if (label == NULL)
			return -1;
		if (!ascii && idn2_lookup_u8((const uint8_t *)label, &res,
					     IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
			idn2_free(res);
			res = NULL;
		}
		len = strlen(res != NULL ? (char *)res : label);
		if (o + len + 2 > cap)
			r = -1;
		for (k = 0; r == 0 && k < len; k++)
			out[o++] = res != NULL ? (char)tolower(res[k]) : label[k];
		if (r == 0 && j < n)
			out[o++] = '.';
		idn2_free(res);
		free(label);
	}
	out[o] = '\0';
	return r;
}
