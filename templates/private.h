/*
 * templates/private.h: what only the templates/ files share.
 */
#ifndef HATO_TEMPLATES_PRIVATE_H
#define HATO_TEMPLATES_PRIVATE_H

#include "templates/templates.h"

/* A compiled template is a flat program: no recursion at render time. */
enum tpl_op_type {
	TPL_OP_TEXT,	 /* arena[off, off+len) */
	TPL_OP_VAR,	 /* name at arena[off] (NUL-terminated, len bytes) */
	TPL_OP_SECTION,	 /* name as VAR; jump = index of the matching END */
	TPL_OP_INVERTED, /* likewise */
	TPL_OP_END,
	/*
	 * The underline of a heading in a text part: the character at arena[off]
	 * (NUL-terminated, len 1), as many times as the line above is wide as
	 * rendered, less what the underline's own line holds already (a quote's
	 * "> "): merged values count, at their display width.
	 */
	TPL_OP_UNDERLINE,
};

struct tpl_op {
	enum tpl_op_type type;
	bool raw;    /* VAR: never escape */
	bool html;   /* VAR: raw HTML in a text part: shown as text (tpl_html_to_text) */
	bool has_fb; /* VAR: fallback at arena[fb_off, fb_off+fb_len), NUL-terminated */
	size_t off, len;
	size_t fb_off, fb_len;
	size_t jump;
	unsigned line, col;
};

struct tpl {
	struct tpl_op *ops;
	size_t nops, cap;
	struct tpl_buf arena;
};

/* tpl_compile; standalone: a section or comment tag alone on its line takes
 * the line with it (Mustache's rule; off for Markdown, where the line breaks
 * shape paragraphs). */
enum tpl_status tpl_compile_ex(const char *src, size_t len, bool standalone, struct tpl **out,
			       char **errstr);

/* Builders shared by merge.c and markdown.c. Each returns TPL_OK or
 * TPL_ENOMEM. */
struct tpl *tpl_new(void);
enum tpl_status tpl_add_text(struct tpl *t, const char *p, size_t n);
/* Copies op from src (a VAR, SECTION, INVERTED or END) into t, its strings
 * included; jump is left for the caller to fix. */
enum tpl_status tpl_add_op_from(struct tpl *t, const struct tpl *src, const struct tpl_op *op);
/* Appends a TPL_OP_UNDERLINE of the character c. */
enum tpl_status tpl_add_underline(struct tpl *t, char c);
/* Recomputes the jump of every section from the END ops, in order. Returns
 * false when sections do not nest (an END closes another name, or is missing). */
bool tpl_link_sections(struct tpl *t, char **errstr);
/* A new template: layout with body spliced in at its {{{body}}} tag(s). In
 * the layout, a line of '=' alone underlines the line above it, as wide as
 * that line once merged (TPL_OP_UNDERLINE). */
enum tpl_status tpl_splice(const struct tpl *layout, const struct tpl *body, struct tpl **out);

/* The truth of a section value. */
bool tpl_truthy(const char *v);

/* Decodes one UTF-8 character at s (n bytes left). Returns its length (1..4)
 * and stores the code point, or returns 0 for an invalid sequence. */
size_t tpl_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/*
 * Decodes the HTML character reference at s (after its '&'; n bytes left)
 * into UTF-8 in out: &#233; &#xE9; and HTML's Latin-1 and common typographic
 * names (entity.c). Returns the bytes it took, or 0 (and *olen 0) when it is
 * none of those, to be left as text.
 */
size_t tpl_html_entity(const char *s, size_t n, char out[8], size_t *olen);
/* The same in an attribute value, where HTML reads a numeric reference
 * without its ';' too (&#58 is a colon). */
size_t tpl_html_attr_entity(const char *s, size_t n, char out[8], size_t *olen);
/* Writes the code point cp in UTF-8 to out; returns its length (1..4). */
size_t tpl_utf8_put(uint32_t cp, char out[8]);
/* Display width of the UTF-8 text s[0..n): East Asian wide characters count 2. */
size_t tpl_text_width(const char *s, size_t n);
/* Finds the line and column (in characters, from 1) of byte off in s. */
void tpl_linecol(const char *s, size_t len, size_t off, unsigned *line, unsigned *col);

/* Formats a malloc'd string into *errstr when errstr is not NULL. */
void tpl_seterr(char **errstr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Markdown/HTML body: compiles src into the HTML body and the text body. */
enum tpl_status tpl_body_compile(enum tpl_kind kind, const char *src, size_t len, struct tpl **html,
				 struct tpl **text, char **errstr);
/* The Markdown parse options shared by rendering and checks. */
int tpl_cmark_options(void);

/* Plain text from HTML (for HTML bodies without a text source): block tags
 * become line breaks, links get numbered references at the end. */
enum tpl_status tpl_html_to_text(const char *html, size_t len, struct tpl_buf *out);
/* Copies the value of attribute name from the tag text tag[0..n) (without
 * the angle brackets) into out ("" when absent; character references
 * decoded; cut between characters when longer). Returns whether the
 * attribute is there. */
bool tpl_html_attr(const char *tag, size_t n, const char *name, char *out, size_t outsz);
/* The value of attribute `name` of the tag, whole, its character references
 * decoded; malloc'd. NULL when the tag has none (or out of memory). */
char *tpl_html_attr_dup(const char *tag, size_t n, const char *name);
/* Is name one of set (NULL-terminated)? */
bool tpl_name_in(const char *name, const char *const *set);

/* What CSS says about showing an element (css.c). Start from
 * {.visibility = -1, .font = -1}. */
struct tpl_css_show {
	bool gone;	/* display:none, opacity:0, mso-hide:all, or a zero height clipped */
	int visibility; /* -1 not said, 0 hidden, 1 visible */
	int font; /* -1 not said or the parent's, 0 a font size of zero, 1 a size of its own */
	bool zero_height; /* height, max-height, width or max-width 0 */
	bool clipped;	  /* overflow:hidden */
	/* The text and background colours it sets: "#rrggbb", "" when it sets none, "?"
	 * when it sets one this reader can't compare (a name it does not know, an image). */
	char fg[8], bg[8];
};
/* Adds to *h what the declarations s[0..n) say (a style attribute's value, its
 * character references decoded); false when out of memory. */
bool tpl_css_declarations(const char *s, size_t n, struct tpl_css_show *h);
/* Adds a finding (check.c). */
struct tpl_findings;
void tpl_check_add(struct tpl_findings *f, enum tpl_severity sev, const char *code,
		   const char *where, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/*
 * The subscriber's own data where it could change the HTML body it goes in
 * (check_data.c): a {{{tag}}} of it, unescaped, and a link whose address
 * is it. Warnings on the body's template t, whose source is src[0..len);
 * when it is HTML (html), own data in a tag outside quotes (an error) or
 * in CSS too (Markdown drops raw HTML).
 */
void tpl_check_data(struct tpl_findings *f, const struct tpl *t, const char *src, size_t len,
		    bool html);
/* Findings of one kind past this many are not listed (check.c and the others). */
#define MAX_PER_KIND 20u
/* What in s[0..len) can't be written in ISO-2022-JP: a jis-unencodable warning
 * each, at its line and column when positions (check_jis.c). */
void tpl_check_jis(struct tpl_findings *f, const char *s, size_t len, const char *where,
		   bool positions);
/*
 * The HTML part html[0..hlen) as the composer writes it for a carrier
 * (tpl_html_wrap breaks long lines between attributes and Japanese
 * characters): a line still over 998 bytes in ISO-2022-JP (RFC 5322
 * 2.1.1) can't go in a 7bit part, so the message goes as UTF-8; a
 * jis-long-line warning (check_jis.c).
 */
void tpl_check_jis_lines(struct tpl_findings *f, const char *html, size_t hlen);
/* Does the declaration name: value (cleaned) take its element out of sight (css_values.c)? */
bool tpl_css_value_hides(const char *name, const char *value);
/* The number at v ("-9999px", ".5"), read without the C library's locale: *end
 * past it, or NULL when v starts with no number. */
double tpl_css_number(const char *v, const char **end);
/* A colour value as "#rrggbb" in out; false when it is not one this reader knows. */
bool tpl_css_color(const char *v, char out[8]);
/* What a colour or background declaration (cleaned) gives an element's fg or bg
 * (struct tpl_css_show): out unchanged when the value leaves the parent's. */
void tpl_css_paint(const char *value, bool background, char out[8]);
/* Is text in colour fg ("#rrggbb") too close to its background bg to be read? */
bool tpl_css_unreadable(const char *fg, const char *bg);

/* The rules of <style> elements that hide or show an element. Start from {0}. */
struct tpl_css_rule;
struct tpl_css_sheet {
	struct tpl_css_rule *rule;
	size_t n, cap;
	bool oom;
	bool overflow; /* too many rules or blocks too deep: every element counts as hidden */
};
/* An element as the rules see it: its name (lower-cased), and its id and class
 * attributes, decoded (NULL and 0 when absent). */
struct tpl_css_el {
	const char *tag, *id, *cls;
	size_t nid, ncls;
};
/* Adds the rules of the style sheet css[0..n) (a <style> element's text). */
void tpl_css_sheet_add(struct tpl_css_sheet *sh, const char *css, size_t n);
/* Adds to *h what the rules that match el say. */
void tpl_css_sheet_apply(const struct tpl_css_sheet *sh, const struct tpl_css_el *el,
			 struct tpl_css_show *h);
void tpl_css_sheet_free(struct tpl_css_sheet *sh);

/*
 * The HTML as a reader sees it (visible.c): the text outside tags, comments,
 * <head>, <style>, <script> and <title>, and outside elements hidden with
 * the hidden attribute, or by their style attribute or a <style> rule
 * (css.c): display:none, visibility:hidden, opacity:0, mso-hide:all, a font
 * size of zero (unless an element inside sets a size of its own) or a zero
 * height with overflow:hidden; character references decoded, in attribute
 * values too. Attributes (an image's alt, a title) are not shown.
 */
struct tpl_html_view {
	struct tpl_buf text;  /* the text shown */
	struct tpl_buf links; /* the href of each link shown with visible text, one a line */
};
/* Fills *v (tpl_html_view_free); TPL_ENOMEM leaves it empty. */
enum tpl_status tpl_html_view(const char *html, size_t len, struct tpl_html_view *v);
void tpl_html_view_free(struct tpl_html_view *v);
/* Does the shown text hold s? */
bool tpl_html_view_shows(const struct tpl_html_view *v, const char *s);
/* Does a link shown with visible text have an href that holds s? */
bool tpl_html_view_links_to(const struct tpl_html_view *v, const char *s);
struct cmark_node;
/*
 * Plain text from a Markdown tree, links as numbered references. prefix
 * starts the merge-tag placeholders; a heading's underline is written as
 * prefix, '=' or '-', and 'z', for unprotect() to turn into a
 * TPL_OP_UNDERLINE. With prefix NULL, it is written out, as wide as the
 * heading's text.
 */
enum tpl_status tpl_md_to_text(struct cmark_node *doc, const char *prefix, struct tpl_buf *out);

/* Header value sanitising: drops C0 controls and DEL, tabs and line breaks
 * (CRLF as one, U+2028, U+2029, U+0085) become spaces,
 * invalid UTF-8 becomes U+FFFD. */
enum tpl_status tpl_header_clean(const char *s, struct tpl_buf *out);

/* A header field. structured: an ASCII value keeps its words (up to 900
 * bytes) and any "=?" as they are, folded only at spaces; otherwise as
 * tpl_header_unstructured. */
enum tpl_status tpl_header_field(struct tpl_buf *out, const char *name, const char *value, bool jis,
				 bool structured);

/* Fills buf with n unpredictable bytes: a per-thread ChaCha20 stream seeded
 * from the system (libsodium randombytes), reseeded after fork. For
 * Message-IDs and boundaries, so no system call per message. */
void tpl_random(void *buf, size_t n);

/* Has the ISO-2022-JP text j[0..n) a line over 78 bytes (flowed.c)? */
bool tpl_jis_too_long(const char *j, size_t n);
/*
 * The text s[0..n) (UTF-8 that converts without loss) in 7bit ISO-2022-JP
 * with CRLF line ends, appended to out, wrapped as format=flowed, DelSp=yes
 * (RFC 3676), for a text whose lines are too long (tpl_jis_too_long). A
 * wrapped text's lines lose their trailing spaces, "-- " but (flowed.c).
 */
bool tpl_jis_flowed(const char *s, size_t n, struct tpl_buf *out);
/*
 * Appends the HTML s[0..n) to out with its lines of over 78 bytes in
 * ISO-2022-JP broken where that changes nothing it shows: in place of a
 * space between a tag's attributes, and between two Japanese characters of
 * its text with an empty comment around the break ("あ<!--LF-->い"); not
 * in comments, nor in script, style, title or textarea. False when out of
 * memory (flowed.c).
 */
bool tpl_html_wrap(const char *s, size_t n, struct tpl_buf *out);
/* iconv helpers (jis.c). tpl_jis_convert appends the ISO-2022-JP form of s;
 * false when a character does not convert. */
bool tpl_jis_convert(const char *s, size_t len, struct tpl_buf *out);

#endif
