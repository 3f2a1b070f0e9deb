/*
 * check_data.c: the subscriber's own data (name, email, attributes) where it
 * could change the HTML it goes in. Merge tags are HTML-escaped, but
 * {{{tag}}} is not: a name holding an open comment or a hidden <div> would
 * hide the rest of that subscriber's message, the legal footer too. And an
 * escaped value is still any address when it is a link's: a
 * "javascript:" one too. Both are warnings, for the reviewer to weigh. In a
 * tag outside quotes it is an error, and in CSS a warning (check_contexts).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "templates/private.h"

/* Is name one of the fields a subscriber's own data fills? */
static bool own_data(const char *name, size_t n)
{
	return (n == 4 && strncmp(name, "name", 4) == 0) ||
	       (n == 5 && strncmp(name, "email", 5) == 0) ||
	       (n > 5 && strncmp(name, "attr.", 5) == 0);
}

/* Is src[i] the "{{" of a tag of own data? Its name in *name, *n. */
static bool own_tag_at(const char *src, size_t len, size_t i, const char **name, size_t *n)
{
	if (len - i < 2 || src[i] != '{' || src[i + 1] != '{')
		return false;
	for (i += 2; i < len && (src[i] == '{' || src[i] == '&' || src[i] == ' '); i++)
		;
	*name = src + i;
	for (*n = 0; i < len && (isalnum((unsigned char)src[i]) || strchr("._-", src[i])); i++)
		++*n;
	return own_data(*name, *n);
}

/*
 * Does the link address at src[i] start with a tag of own data? Past "href"
 * (eq: an '=' comes first) or past Markdown's "](". Its name in *name, *n.
 */
static bool link_of_data(const char *src, size_t len, size_t i, bool eq, const char **name,
			 size_t *n)
{
	while (i < len && isspace((unsigned char)src[i]))
		i++;
	if (eq && (i >= len || src[i++] != '='))
		return false;
	while (i < len && isspace((unsigned char)src[i]))
		i++;
	if (i < len && (src[i] == '"' || src[i] == '\''))
		i++;
	return own_tag_at(src, len, i, name, n);
}

/* Is the attribute whose quoted value opens at src[q] named style? */
static bool style_value(const char *src, size_t q)
{
	size_t e;

	while (q > 0 && isspace((unsigned char)src[q - 1]))
		q--;
	if (q == 0 || src[--q] != '=')
		return false;
	while (q > 0 && isspace((unsigned char)src[q - 1]))
		q--;
	e = q;
	while (q > 0 && (isalnum((unsigned char)src[q - 1]) || src[q - 1] == '-'))
		q--;
	return e - q == 5 && strncasecmp(src + q, "style", 5) == 0;
}

/*
 * Own data where escaping does not keep it text. In a tag outside quotes
 * (class={{attr.plan}}), a space in the value starts another attribute:
 * "gold hidden" hides the element, the footer too; an error, as is own data
 * right after a "<" ("!--" opens a comment). In CSS (a
 * style attribute, a <style> element), "red;display:none" does the same;
 * a warning.
 */
static void check_contexts(struct tpl_findings *f, const char *src, size_t len)
{
	bool in_tag = false, style_attr = false, style_el = false;
	size_t i, tag = 0, n;
	const char *name, *end;
	unsigned line, col;
	char q = 0;

	for (i = 0; i < len; i++) {
		char c = src[i];

		if (!in_tag && len - i >= 4 && memcmp(src + i, "<!--", 4) == 0) {
			end = memmem(src + i + 4, len - i - 4, "-->", 3);
			i = end != NULL ? (size_t)(end - src) + 2 : len;
			continue;
		}
		if (!in_tag && c == '<' && i + 1 < len &&
		    (isalpha((unsigned char)src[i + 1]) || src[i + 1] == '/')) {
			style_el = style_el && strncasecmp(src + i, "</style", 7) != 0;
			in_tag = !style_el;
			tag = i + 1;
		} else if (in_tag && q != 0) {
			q = c == q ? 0 : q;
		} else if (in_tag && (c == '"' || c == '\'')) {
			q = c;
			style_attr = style_value(src, i);
		} else if (in_tag && c == '>') {
			in_tag = false;
			style_el = len - tag >= 5 && strncasecmp(src + tag, "style", 5) == 0 &&
				   (tag + 5 == len || !isalnum((unsigned char)src[tag + 5]));
		}
		if (c != '{' || !own_tag_at(src, len, i, &name, &n))
			continue;
		tpl_linecol(src, len, i, &line, &col);
		if (i > 0 && src[i - 1] == '<')
			tpl_check_add(
			    f, TPL_SEV_ERROR, "data-unquoted", "body", line, col,
			    "{{%.*s}}, the subscriber's own data, comes right after \"<\": "
			    "a value such as \"!--\" makes it a tag or a comment that hides "
			    "the rest, the footer too; write &lt; for the \"<\"",
			    (int)n, name);
		else if (in_tag && q == 0)
			tpl_check_add(f, TPL_SEV_ERROR, "data-unquoted", "body", line, col,
				      "{{%.*s}}, the subscriber's own data, is in a tag outside "
				      "quotes: a space in it starts another attribute (\"gold "
				      "hidden\" hides the element, the footer too); put the value "
				      "in quotes",
				      (int)n, name);
		else if ((in_tag && style_attr) || style_el)
			tpl_check_add(
			    f, TPL_SEV_WARNING, "data-in-css", "body", line, col,
			    "{{%.*s}}, the subscriber's own data, is in CSS: a value such "
			    "as \"red;display:none\" would hide that message's text, the "
			    "footer too",
			    (int)n, name);
		i++;
	}
}

void tpl_check_data(struct tpl_findings *f, const struct tpl *t, const char *src, size_t len,
		    bool html)
{
	struct tpl_tag g;
	const char *name;
	unsigned line, col;
	size_t i, n;

	for (i = 0; tpl_tag_get(t, i, &g); i++)
		if (g.kind == TPL_TAG_RAW && own_data(g.name, strlen(g.name)))
			tpl_check_add(f, TPL_SEV_WARNING, "raw-data", "body", g.line, g.col,
				      "{{{%s}}} puts the subscriber's own text into the HTML "
				      "unescaped: text holding HTML (an open comment, a hidden "
				      "element) would change that message, its footer too; write "
				      "{{%s}}",
				      g.name, g.name);
	for (i = 0; i + 4 < len; i++) {
		bool href = strncasecmp(src + i, "href", 4) == 0 &&
			    (i == 0 || !isalnum((unsigned char)src[i - 1]));
		bool md = src[i] == ']' && src[i + 1] == '(';

		if (!(href && link_of_data(src, len, i + 4, true, &name, &n)) &&
		    !(md && link_of_data(src, len, i + 2, false, &name, &n)))
			continue;
		tpl_linecol(src, len, i, &line, &col);
		tpl_check_add(f, TPL_SEV_WARNING, "link-from-data", "body", line, col,
			      "a link's address is {{%.*s}}, the subscriber's own data: it may be "
			      "any address, a javascript: one too; write the address and put the "
			      "data in it after that",
			      (int)n, name);
	}
	if (html)
		check_contexts(f, src, len);
}
