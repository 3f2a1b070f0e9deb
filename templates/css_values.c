/*
 * css_values.c: the CSS values that take text out of a reader's sight
 * without display:none, for css.c: text moved far off the page, scaled or
 * zoomed to nothing, filtered or drawn transparent, clipped away or drawn
 * in the colour of its background. Like the
 * rest of the reader it errs towards "hidden": a hiding property whose value
 * is a variable (var(--x)) is taken as hiding.
 *
 * Values come lower-cased, comments out and blanks single (css_clean).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "templates/private.h"

double tpl_css_number(const char *v, const char **end)
{
	double x = 0, scale = 1;
	bool neg = *v == '-', digit = false;

	if (*v == '-' || *v == '+')
		v++;
	for (; isdigit((unsigned char)*v); v++, digit = true)
		x = x * 10 + (*v - '0');
	if (*v == '.')
		for (v++; isdigit((unsigned char)*v); v++, digit = true)
			x += (*v - '0') * (scale /= 10);
	*end = digit ? v : NULL;
	return neg ? -x : x;
}

/* A length that puts text far off the page: at least 100px (or pt, %) to the left
 * or top, or 10 of a unit the size of a letter (em, rem, ch...). */
static bool far_off(const char *v)
{
	const char *unit;
	double x = tpl_css_number(v, &unit);

	if (unit == NULL || x >= 0)
		return false;
	if (strncmp(unit, "px", 2) == 0 || strncmp(unit, "pt", 2) == 0 || *unit == '%')
		return x <= -100;
	return x <= -10;
}

/* A factor too small to read: under a tenth (0.09, or 9%). */
static bool tiny(const char *v)
{
	const char *unit;
	double x = tpl_css_number(v, &unit);

	if (unit == NULL)
		return false;
	if (*unit == '%')
		x /= 100;
	return x > -0.1 && x < 0.1;
}

/*
 * A transform that takes the text away: a scale under a tenth (scale(0),
 * scalex(0.001), scale(1, 0)...), or a translation far off the page
 * (translatex(-9999px), translate(-200%, 0)...).
 */
static bool transformed_away(const char *v)
{
	static const char *const fns[] = {"scale", "translate", NULL};
	const char *p, *end;
	size_t f;
	bool scale;

	for (f = 0; fns[f] != NULL; f++) {
		scale = f == 0;
		for (p = v; (p = strstr(p, fns[f])) != NULL;) {
			p += strlen(fns[f]);
			while (*p == 'x' || *p == 'y' || *p == 'z' || *p == '3' || *p == 'd')
				p++;
			if (*p++ != '(')
				continue;
			for (;;) {
				while (*p == ' ')
					p++;
				if (scale ? tiny(p) : far_off(p))
					return true;
				tpl_css_number(p, &end);
				if (end == NULL)
					break;
				for (p = end; *p == ' ' || isalpha((unsigned char)*p) || *p == '%';
				     p++)
					;
				if (*p != ',')
					break;
				p++;
			}
		}
	}
	return false;
}

/* filter: opacity(0) or another opacity under a tenth, among other filters. */
static bool filtered_away(const char *v)
{
	const char *p = v;

	while ((p = strstr(p, "opacity(")) != NULL) {
		p += 8;
		while (*p == ' ')
			p++;
		if (tiny(p))
			return true;
	}
	return false;
}

/*
 * A colour's alpha, 0 to 1: rgba(0,0,0,0.5), rgb(0 0 0 / 50%), hsla(...),
 * #rgba, #rrggbbaa; 1 when it gives none.
 */
static double alpha_of(const char *v)
{
	size_t n = strcspn(v, " !"), k;
	const char *close, *last, *end;
	unsigned x = 0;
	double a;

	if (*v == '#' && (n == 5 || n == 9) && strspn(v + 1, "0123456789abcdef") == n - 1) {
		sscanf(v + (n == 5 ? 4 : 7), n == 5 ? "%1x" : "%2x", &x);
		return n == 5 ? x * 17 / 255.0 : x / 255.0;
	}
	if (strncmp(v, "rgb", 3) != 0 && strncmp(v, "hsl", 3) != 0)
		return 1;
	close = strchr(v, ')');
	if (close == NULL)
		return 1;
	/* The alpha is the fourth value, after a ',' or a '/'. */
	for (k = 0, last = v; last < close; last++)
		k += *last == ',' || *last == '/';
	if (k < 1 || (k < 3 && memchr(v, '/', (size_t)(close - v)) == NULL))
		return 1;
	for (last = close; last > v && last[-1] != ',' && last[-1] != '/'; last--)
		;
	while (*last == ' ')
		last++;
	a = tpl_css_number(last, &end);
	if (end == NULL)
		return 1;
	if (*end == '%')
		a /= 100;
	return a < 0 ? 0 : a > 1 ? 1 : a;
}

/* A colour too faint to see: an alpha under a tenth. */
static bool alpha_zero(const char *v)
{
	return alpha_of(v) < 0.1;
}

bool tpl_css_value_hides(const char *name, const char *value)
{
	static const char *const shown_by[] = {"display", "visibility", "opacity", NULL};
	static const char *const offsets[] = {"text-indent", "left",	    "top",	  "right",
					      "bottom",	     "margin-left", "margin-top", NULL};

	if (tpl_name_in(name, shown_by))
		return strstr(value, "var(") != NULL;
	if (tpl_name_in(name, offsets))
		return far_off(value);
	if (strcmp(name, "transform") == 0)
		return transformed_away(value);
	if (strcmp(name, "zoom") == 0)
		return tiny(value);
	if (strcmp(name, "filter") == 0)
		return filtered_away(value);
	if (strcmp(name, "clip-path") == 0)
		return strcmp(value, "none") != 0;
	if (strcmp(name, "clip") == 0)
		return strcmp(value, "auto") != 0;
	if (strcmp(name, "content-visibility") == 0)
		return strcmp(value, "hidden") == 0;
	if (strcmp(name, "color") == 0 || strcmp(name, "-webkit-text-fill-color") == 0)
		return strcmp(value, "transparent") == 0 || alpha_zero(value);
	return false;
}

/* An rgb() component: 0..255, or a percentage of it. -1 when it is not one. */
static int component(const char **p)
{
	const char *end;
	double x;

	while (**p == ' ' || **p == ',')
		(*p)++;
	x = tpl_css_number(*p, &end);
	if (end == NULL || x < 0)
		return -1;
	if (*end == '%') {
		x = x * 255 / 100;
		end++;
	}
	*p = end;
	return x > 255 ? 255 : (int)(x + 0.5);
}

bool tpl_css_color(const char *v, char out[8])
{
	static const char *const named[][2] = {
	    {"white", "#ffffff"}, {"black", "#000000"}, {"red", "#ff0000"},   {"blue", "#0000ff"},
	    {"gray", "#808080"},  {"grey", "#808080"},	{"silver", "#c0c0c0"}};
	size_t i, n = strcspn(v, " !");
	unsigned rgb[3];
	int r, g, b;
	double a = alpha_of(v);
	const char *p;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strlen(named[i][0]) == n && strncmp(v, named[i][0], n) == 0) {
			memcpy(out, named[i][1], 8);
			return true;
		}
	if (*v == '#' && (n == 4 || n == 5 || n == 7 || n == 9) &&
	    strspn(v + 1, "0123456789abcdef") == n - 1) {
		for (i = 0; i < 3; i++) {
			sscanf(v + 1 + (n < 7 ? i : 2 * i), n < 7 ? "%1x" : "%2x", &rgb[i]);
			rgb[i] *= n < 7 ? 17 : 1;
		}
		r = (int)rgb[0];
		g = (int)rgb[1];
		b = (int)rgb[2];
	} else if (strncmp(v, "rgb(", 4) == 0 || strncmp(v, "rgba(", 5) == 0) {
		p = strchr(v, '(') + 1;
		r = component(&p);
		g = component(&p);
		b = component(&p);
		if (r < 0 || g < 0 || b < 0)
			return false;
	} else {
		return false;
	}
	/* Seen over the white of the page: what shows through a translucent colour. */
	r = (int)(a * r + (1 - a) * 255 + 0.5);
	g = (int)(a * g + (1 - a) * 255 + 0.5);
	b = (int)(a * b + (1 - a) * 255 + 0.5);
	snprintf(out, 8, "#%02x%02x%02x", r, g, b);
	return true;
}

void tpl_css_paint(const char *value, bool background, char out[8])
{
	static const char *const parents[] = {"inherit", "initial",	"unset", "currentcolor",
					      "none",	 "transparent", NULL};
	size_t n = strcspn(value, " !");
	int i;

	for (i = 0; parents[i] != NULL; i++)
		if (strlen(parents[i]) == n && strncmp(value, parents[i], n) == 0)
			return; /* the parent's shows through */
	if (background && (strstr(value, "url(") != NULL || strstr(value, "gradient(") != NULL))
		snprintf(out, 8, "?"); /* an image under the text: its colours are unknown */
	else if (!tpl_css_color(value, out))
		snprintf(out, 8, "?");
}

/* The relative luminance of "#rrggbb" (WCAG 2). */
static double luminance(const char *c)
{
	double l = 0, ch;
	const double weight[3] = {0.2126, 0.7152, 0.0722};
	unsigned v;
	int i;

	for (i = 0; i < 3; i++) {
		if (sscanf(c + 1 + 2 * i, "%2x", &v) != 1)
			return 0;
		ch = v / 255.0;
		ch = ch <= 0.04045 ? ch / 12.92 : pow((ch + 0.055) / 1.055, 2.4);
		l += weight[i] * ch;
	}
	return l;
}

/*
 * A contrast ratio under 1.5 (WCAG asks 4.5 of body text): #ddd on white is
 * 1.36 and counts as hidden; light grey footers, #999 (2.85) or #ccc (1.61)
 * on white, still count as shown.
 */
bool tpl_css_unreadable(const char *fg, const char *bg)
{
	double a, b;

	if (fg[0] != '#' || bg[0] != '#')
		return false;
	a = luminance(fg);
	b = luminance(bg);
	return (a > b ? (a + 0.05) / (b + 0.05) : (b + 0.05) / (a + 0.05)) < 1.5;
}
