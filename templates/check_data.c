/*
 * check_data.c: the subscriber's own data (name, email, attributes) where it
 * could change the HTML it goes in. Merge tags are HTML-escaped, but
 * {{{tag}}} is not: a name holding an open comment or a hidden <div> would
 * hide the rest of that subscriber's message, the legal footer too. And an
 * escaped value is still any address when it is a link's: a
 * "javascript:" one too. Both are warnings, for the reviewer to weigh.
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
	if (len - i < 2 || src[i] != '{' || src[i + 1] != '{')
		return false;
	for (i += 2; i < len && (src[i] == '{' || src[i] == '&' || src[i] == ' '); i++)
		;
	*name = src + i;
	for (*n = 0; i < len && (isalnum((unsigned char)src[i]) || strchr("._-", src[i])); i++)
		++*n;
	return own_data(*name, *n);
}

void tpl_check_data(struct tpl_findings *f, const struct tpl *t, const char *src, size_t len)
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
}
