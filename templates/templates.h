/*
 * templates: turning a template and a subscriber into a message.
 *
 * A campaign's body is written in Markdown or HTML with Mustache-style merge
 * tags. The module compiles it once and then renders it many times, once per
 * subscriber, into a complete MIME message (multipart/alternative, text/plain
 * then text/html, quoted-printable UTF-8 or, when asked and lossless, 7bit
 * ISO-2022-JP). It also wraps the body in a layout that carries the footer
 * that Japan's Act on Specified Electronic Mail requires, mints and checks the
 * unsubscribe tokens, and runs the pre-send checks.
 *
 * Merge tags (a Mustache subset):
 *   {{name}}  {{attr.city}}        a value, HTML-escaped in HTML mode only
 *   {{name|お客様}}                 with a fallback for an unset or empty value
 *   {{{raw}}}                      a value never escaped
 *   {{#attr.vip}}…{{/attr.vip}}    shown when the value is set, non-empty and
 *                                  not "0" or "false" (any case)
 *   {{^attr.vip}}…{{/attr.vip}}    shown otherwise
 *   {{! comment }}                 dropped
 * A name is one or more dot-separated parts of [A-Za-z0-9_-]. Sources are
 * UTF-8, at most TPL_MAX_SOURCE bytes, at most TPL_MAX_DEPTH sections deep.
 * Compiling never recurses and rendering walks a flat program, so hostile
 * input gets an error, never a crash.
 *
 * Markdown: the source is compiled as a template first (so errors point at the
 * source), each tag is swapped for an alphanumeric placeholder, the result is
 * rendered once with libcmark into HTML and into plain text, and the
 * placeholders are turned back into merge operations. Rendering a subscriber
 * therefore never parses Markdown, and values are inserted after Markdown:
 * a subscriber's name can't inject Markdown or HTML (values are HTML-escaped
 * in the HTML part and left as they are in the text part). Raw HTML inside
 * Markdown is dropped (libcmark's safe mode, which also blanks javascript: and
 * similar links); write an HTML template when raw HTML is needed. A tag in an
 * autolink (<{{url}}>) is not supported: write [text]({{url}}).
 *
 * Files:
 *   templates.h  this header: the public API
 *   private.h    what only the files of templates/ share
 *   buf.c        struct tpl_buf, the growable byte buffer; status strings
 *   merge.c      the merge-tag compiler and renderer
 *   markdown.c   Markdown and HTML bodies: placeholders, libcmark, text part
 *   text.c       plain text from a Markdown tree and from HTML
 *   entity.c     HTML character references (&#233; &eacute;) for that text
 *   layouts.c    the built-in layouts and their legal footer
 *   campaign.c   body + layout + subject compiled once, rendered per subscriber
 *   header.c     header encoding: RFC 2047, folding, addresses, Date, Message-ID
 *   mime.c       quoted-printable and the multipart/alternative message
 *   jis.c        ISO-2022-JP conversion through iconv
 *   token.c      unsubscribe tokens
 *   check.c      pre-send checks
 *   visible.c    what a reader sees: blank text, the HTML part as shown
 *   css.c        what a style attribute or a <style> rule says about showing
 *
 * Depends on: libcmark, libsodium, iconv (glibc). No other hato module.
 *
 * Error contract: functions that can fail return enum tpl_status and, where
 * words help, fill *errstr with a malloc'd sentence the caller frees; errstr
 * may be NULL. Destructors take T **, accept NULL and set it to NULL.
 * Every function is safe to call from several threads on distinct objects; a
 * compiled struct tpl or struct tpl_campaign may be rendered from several
 * threads at once. Call sodium_init() before any function that draws random
 * bytes (the message builder and the token functions).
 */
#ifndef HATO_TEMPLATES_H
#define HATO_TEMPLATES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum tpl_status {
	TPL_OK = 0,
	TPL_ESYNTAX,   /* a template does not parse; errstr says line:column */
	TPL_EINVAL,    /* a malformed argument: a bad address, header name, token */
	TPL_ETOOBIG,   /* over a size or depth limit */
	TPL_EENCODING, /* not valid UTF-8, or a conversion failed */
	TPL_ENOTFOUND, /* no such layout */
	TPL_ENOMEM,
};

/* A constant English name for the status. */
const char *tpl_strstatus(enum tpl_status s);

#define TPL_MAX_SOURCE (1024u * 1024u) /* bytes of template source */
#define TPL_MAX_DEPTH 100u	       /* nested sections */

/* ---- The growable byte buffer ------------------------------------------
 * Start from `struct tpl_buf b = {0};`. data is always NUL-terminated once
 * anything was appended (the NUL is not counted in len). On allocation
 * failure the append returns TPL_ENOMEM, sets oom, and every later append is
 * a no-op returning TPL_ENOMEM, so a caller may check once at the end. */
struct tpl_buf {
	char *data;
	size_t len, cap;
	bool oom;
};

enum tpl_status tpl_buf_append(struct tpl_buf *b, const void *p, size_t n);
enum tpl_status tpl_buf_appends(struct tpl_buf *b, const char *s);
enum tpl_status tpl_buf_appendc(struct tpl_buf *b, char c);
enum tpl_status tpl_buf_appendf(struct tpl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum tpl_status tpl_buf_vappendf(struct tpl_buf *b, const char *fmt, va_list ap);
/* Make room for n more bytes without changing len. */
enum tpl_status tpl_buf_reserve(struct tpl_buf *b, size_t n);
/* len = 0, keeping the memory (and clearing oom). */
void tpl_buf_reset(struct tpl_buf *b);
/* Hands the data to the caller (NUL-terminated, "" when empty; free() it) and
 * leaves b empty. Returns NULL only when b had run out of memory. */
char *tpl_buf_steal(struct tpl_buf *b);
/* Frees the data; b itself is the caller's and is left zeroed. */
void tpl_buf_free(struct tpl_buf *b);

/* ---- Merge templates ---------------------------------------------------- */

struct tpl;

enum tpl_mode {
	TPL_MODE_TEXT, /* values inserted as they are */
	TPL_MODE_HTML, /* values HTML-escaped: & < > " ' */
};

/* Returns the value for a dotted name, or NULL when it is unset. The string
 * is the callback's; it must stay valid until the callback is next called. */
typedef const char *(*tpl_lookup_fn)(const char *name, void *arg);

/* Compiles len bytes of src (need not be NUL-terminated). On success *out is
 * the caller's (tpl_free). On failure *errstr reads "LINE:COL: expected …"
 * (TPL_ESYNTAX, TPL_EENCODING, TPL_ETOOBIG for depth) or explains the size
 * limit (TPL_ETOOBIG). Columns count characters, from 1. */
enum tpl_status tpl_compile(const char *src, size_t len, struct tpl **out, char **errstr);
void tpl_free(struct tpl **t);

/* Appends the rendering to out. Fails only with TPL_ENOMEM. */
enum tpl_status tpl_render(const struct tpl *t, enum tpl_mode mode, tpl_lookup_fn lookup, void *arg,
			   struct tpl_buf *out);

/* The tags a template uses, in source order, one entry per occurrence
 * (sections once, at the opening tag). The strings belong to t. */
enum tpl_tag_kind { TPL_TAG_VAR, TPL_TAG_RAW, TPL_TAG_SECTION, TPL_TAG_INVERTED };
struct tpl_tag {
	const char *name;
	const char *fallback; /* NULL when there is none */
	enum tpl_tag_kind kind;
	unsigned line, col;
	unsigned depth; /* how many sections ({{#…}}, {{^…}}) it is inside */
};
size_t tpl_tag_count(const struct tpl *t);
/* i < tpl_tag_count(t); fills *tag and returns true, false past the end. */
bool tpl_tag_get(const struct tpl *t, size_t i, struct tpl_tag *tag);
/* True when name is in known[] or starts with an entry that ends in '.'
 * ("attr." knows "attr.city"). */
bool tpl_name_known(const char *name, const char *const *known, size_t nknown);

/* Appends s HTML-escaped (& < > " ') to out. */
enum tpl_status tpl_html_escape(struct tpl_buf *out, const char *s, size_t len);

/* ---- Layouts ------------------------------------------------------------
 * A layout is a pair of templates (HTML and text) with a {{{body}}} slot.
 * Built in: "none" (the body alone: no footer), "plain" and "newsletter".
 * "plain" and "newsletter" carry the legal footer: {{sender.name}},
 * {{sender.postal_address}}, {{sender.contact}} and {{unsubscribe_url}} with
 * an opt-out statement in English and Japanese. */
struct tpl_layout {
	const char *name;
	const char *description;
	const char *html; /* template source, NUL-terminated */
	const char *text;
};
/* The layout called name, or NULL. Static storage. */
const struct tpl_layout *tpl_layout_find(const char *name);
/* The i-th built-in layout, or NULL past the end. Static storage. */
const struct tpl_layout *tpl_layout_at(size_t i);

/* ---- Bodies and campaigns ----------------------------------------------- */

enum tpl_kind {
	TPL_KIND_MARKDOWN,
	TPL_KIND_HTML,
};

struct tpl_campaign;

/* What a campaign is made of. src is the body (Markdown or HTML). text_src,
 * when not NULL, is the text part's template; otherwise the text part is
 * derived from src (numbered link references at the end). layout is a layout
 * name (NULL means "none"). subject is a template rendered in text mode. */
struct tpl_campaign_src {
	enum tpl_kind kind;
	const char *src;
	size_t src_len;
	const char *text_src; /* NUL-terminated, or NULL */
	const char *layout;
	const char *subject; /* NUL-terminated */
};

/* Compiles everything once. *out is the caller's (tpl_campaign_free). Errors
 * name the part ("body: 3:5: expected …", "subject: …", "text: …"). */
enum tpl_status tpl_campaign_compile(const struct tpl_campaign_src *src, struct tpl_campaign **out,
				     char **errstr);
void tpl_campaign_free(struct tpl_campaign **c);

/* The compiled parts, owned by c: the subject, the full HTML (layout with the
 * body in it) and the full text. */
const struct tpl *tpl_campaign_subject(const struct tpl_campaign *c);
const struct tpl *tpl_campaign_html(const struct tpl_campaign *c);
const struct tpl *tpl_campaign_text(const struct tpl_campaign *c);

/* ---- Messages ------------------------------------------------------------ */

struct tpl_addr {
	const char *name; /* display name, UTF-8; NULL or "" for none */
	const char *addr; /* local@domain, ASCII */
};

struct tpl_header {
	const char *name;  /* a field name: printable ASCII, no ':' */
	const char *value; /* UTF-8; control characters are removed */
};

/* A message to build. The strings are the caller's. Extra headers come after
 * From, To, Subject, Date and Message-ID in the order given; a Date or
 * Message-ID among them replaces the generated one. They may not name From,
 * To, Subject, MIME-Version, Content-Type or Content-Transfer-Encoding. */
struct tpl_message {
	struct tpl_addr from, to;
	const char *subject;
	const struct tpl_header *headers;
	size_t nheaders;
	const char *text;
	size_t text_len;
	const char *html;
	size_t html_len;
	bool iso2022jp; /* try ISO-2022-JP, keeping UTF-8 unless lossless */
};

/* Appends the complete message (headers, blank line, body; CRLF throughout,
 * no line over 998 bytes, QP lines at most 76) to out. The charset that the
 * HTML's <meta> tags declare (in its first 1024 bytes) is made the HTML
 * part's charset, UTF-8 or ISO-2022-JP. Sets *used_jis, when
 * not NULL, to whether ISO-2022-JP was used. TPL_EINVAL for a bad address or
 * header name; text and html that aren't valid UTF-8 give TPL_EENCODING. */
enum tpl_status tpl_message_build(const struct tpl_message *m, struct tpl_buf *out, bool *used_jis,
				  char **errstr);

/* Appends "Name: value" CRLF for an unstructured header: control characters
 * removed, invalid UTF-8 replaced by U+FFFD, non-ASCII or very long words as
 * RFC 2047 encoded-words (at most 75 characters each, whole characters), folded
 * to lines of at most 78. jis: encode as =?ISO-2022-JP?B?…?= (the caller has
 * checked that the value converts). */
enum tpl_status tpl_header_unstructured(struct tpl_buf *out, const char *name, const char *value,
					bool jis);
/* Appends "Name: display <addr>" CRLF. The local part is quoted when it is not
 * a dot-atom ("a..b"@docomo.ne.jp). TPL_EINVAL for a malformed address. */
enum tpl_status tpl_header_address(struct tpl_buf *out, const char *name, const struct tpl_addr *a,
				   bool jis, char **errstr);
/* Appends addr as SMTP's envelope writes it (RFC 5321 4.1.2, MAIL FROM and
 * RCPT TO): the local part quoted when it is not a dot-atom. TPL_EINVAL for a
 * malformed address. */
enum tpl_status tpl_addr_spec(struct tpl_buf *out, const char *addr, char **errstr);
/*
 * Reads one mailbox as RFC 5322 writes it (3.4): "addr", "Name <addr>" or
 * "\"Hato, Inc.\" <addr>". A quoted display name is unquoted and unescaped
 * once, and the words of a name are joined by one space; UTF-8 is allowed in
 * the name (RFC 6532), and tpl_header_address encodes it again (RFC 2047).
 * The address needs a dot-atom local part and a domain. More than one
 * address ("\"Eve\" <a@b>, x@c": a comma outside quotes), a special
 * character outside quotes, a comment or anything after the address is
 * TPL_EINVAL, saying which. *name ("" for none) and *addr are allocated;
 * both are NULL on failure.
 */
enum tpl_status tpl_mailbox_parse(const char *s, char **name, char **addr, char **errstr);
/* Writes the RFC 5322 date of t in the local time zone,
 * "Sat, 28 Nov 2026 09:00:00 +0900", into out (at least 40 bytes). */
void tpl_date(time_t t, char out[40]);
/* Writes "<26 base32 chars of 128 random bits@domain>" into out (a buffer of
 * outsz bytes). TPL_EINVAL when the domain is malformed or does not fit. */
enum tpl_status tpl_message_id(const char *domain, char *out, size_t outsz);

/* Renders one subscriber's message. The subject, text and HTML come from c
 * and lookup; the rest of m (from, to, headers, iso2022jp) from the caller;
 * m->subject, text and html are ignored. Appends to out. */
enum tpl_status tpl_campaign_render(const struct tpl_campaign *c, tpl_lookup_fn lookup, void *arg,
				    const struct tpl_message *m, struct tpl_buf *out,
				    char **errstr);

/* ---- ISO-2022-JP --------------------------------------------------------- */

/* True when len bytes of UTF-8 s convert to ISO-2022-JP and back unchanged. */
bool tpl_jis_lossless(const char *s, size_t len);
/* Finds the characters of s that ISO-2022-JP can't encode (① ㈱ and so on):
 * stores up to max byte offsets in offs and returns how many there are in all
 * (which may exceed max). Invalid UTF-8 bytes count as unencodable. */
size_t tpl_jis_unencodable(const char *s, size_t len, size_t *offs, size_t max);

/* ---- Unsubscribe tokens --------------------------------------------------
 * token = base64url without padding of
 *     0x01 || subscriber_id (8 bytes, big-endian) || list_id (8 bytes, BE)
 *          || crypto_auth(HMAC-SHA-512-256) over those 17 bytes under key
 * 49 bytes, so always TPL_UNSUB_TOKEN_LEN (66) characters. */
#define TPL_UNSUB_TOKEN_LEN 66
#define TPL_UNSUB_KEY_LEN 32
void tpl_unsub_token(const unsigned char key[TPL_UNSUB_KEY_LEN], uint64_t subscriber_id,
		     uint64_t list_id, char out[TPL_UNSUB_TOKEN_LEN + 1]);
/* The same tokens, many of them under one key: the key's HMAC state is
 * computed once (in sodium_malloc'd memory, wiped when freed). */
struct tpl_unsub_mac;
enum tpl_status tpl_unsub_mac_new(const unsigned char key[TPL_UNSUB_KEY_LEN],
				  struct tpl_unsub_mac **out);
void tpl_unsub_mac_free(struct tpl_unsub_mac **m);
void tpl_unsub_mac_token(const struct tpl_unsub_mac *m, uint64_t subscriber_id, uint64_t list_id,
			 char out[TPL_UNSUB_TOKEN_LEN + 1]);
/* TPL_EINVAL unless token is well formed and its MAC verifies under key. */
enum tpl_status tpl_unsub_token_verify(const unsigned char key[TPL_UNSUB_KEY_LEN],
				       const char *token, uint64_t *subscriber_id,
				       uint64_t *list_id);

/* ---- Pre-send checks ----------------------------------------------------- */

enum tpl_severity { TPL_SEV_WARNING, TPL_SEV_ERROR };

struct tpl_finding {
	enum tpl_severity severity;
	const char *code;    /* short and stable: "unknown-tag", "no-unsubscribe", … */
	const char *message; /* an English sentence */
	const char *where;   /* "subject", "body", "text", "layout", "sender", "from" */
	unsigned line, col;  /* in where's source; 0 when not applicable */
};

struct tpl_findings;

struct tpl_check_input {
	const char *subject;
	enum tpl_kind kind;
	const char *src;
	size_t src_len;
	const char *text_src;	  /* or NULL */
	const char *layout;	  /* a layout name; NULL means "none" */
	const char *const *known; /* known tag names and "prefix." entries */
	size_t nknown;
	/* Optional: a sample subscriber, to flag tags that render empty. */
	tpl_lookup_fn sample;
	void *sample_arg;
	const char *sender_name, *sender_postal_address, *sender_contact;
	bool from_has_dkim;
	bool dkim_by_relay; /* send.dkim = relay: the SMTP relay signs, not hato */
	bool iso2022jp;
};

/* True when s (NULL too) holds nothing a reader sees: only white space
 * (Unicode's, such as U+3000 and no-break spaces), the characters Unicode
 * calls default-ignorable (zero-width and format characters, the soft hyphen,
 * the Hangul fillers, variation selectors, tags) and the Braille blank. */
bool tpl_is_blank(const char *s);
/* The same for s[0..n). */
bool tpl_is_blank_n(const char *s, size_t n);

/* Runs every check. *out is the caller's (tpl_findings_free), even when it
 * holds errors; the function itself fails only with TPL_ENOMEM. Codes:
 * syntax, unknown-tag, unresolved-tag, no-unsubscribe, footer-missing,
 * sender-empty, subject-empty, subject-long, http-link, link-mismatch,
 * html-too-big, img-no-alt, jis-unencodable, no-dkim, markdown-raw-html. */
enum tpl_status tpl_check(const struct tpl_check_input *in, struct tpl_findings **out);
size_t tpl_findings_count(const struct tpl_findings *f);
/* The i-th finding, owned by f, or NULL past the end. */
const struct tpl_finding *tpl_findings_get(const struct tpl_findings *f, size_t i);
/* Counts the findings of one severity. */
size_t tpl_findings_count_severity(const struct tpl_findings *f, enum tpl_severity s);
/* Adds a finding the caller made (a check of its own, such as a setting the
 * message needs). code and where must outlive f (string constants); the
 * message is copied. */
enum tpl_status tpl_findings_add(struct tpl_findings *f, enum tpl_severity sev, const char *code,
				 const char *where, const char *message);
void tpl_findings_free(struct tpl_findings **f);

#endif
