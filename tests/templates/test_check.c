/*
 * test_check.c: each pre-send check fires on a template made to trip it, at
 * the right place, and a clean campaign gets no finding at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "templates/helpers.h"

static const char *const known[] = {"name", "email", "unsubscribe_url", "attr.", "list.name"};

static const struct kv sample[] = {
    {"name", "田中"},	   {"email", "tanaka@example.jp"},
    {"attr.city", "大阪"}, {"unsubscribe_url", "https://hato.example/u/TOKEN"},
    {NULL, NULL},
};

static const char clean_md[] =
    "# {{name|お客様}}様\n"
    "\n"
    "{{attr.city}}店の[セール](https://shop.example/sale)のお知らせです。\n"
    "[shop.example](https://www.shop.example/top) もご覧ください。\n"
    "\n"
    "![セールのバナー](https://shop.example/banner.png)\n";

static struct tpl_check_input clean(void)
{
	struct tpl_check_input in = {
	    .subject = "{{name|お客様}}様へ 春のセールのお知らせ",
	    .kind = TPL_KIND_MARKDOWN,
	    .src = clean_md,
	    .src_len = strlen(clean_md),
	    .layout = "plain",
	    .known = known,
	    .nknown = sizeof(known) / sizeof(known[0]),
	    .sample = kv_lookup,
	    .sample_arg = (void *)sample,
	    .sender_name = "株式会社ハト",
	    .sender_postal_address = "東京都千代田区千代田1-1",
	    .sender_contact = "support@hato.example",
	    .from_has_dkim = true,
	};
	return in;
}

static struct tpl_findings *run(const struct tpl_check_input *in)
{
	struct tpl_findings *f = NULL;

	assert_int_equal(tpl_check(in, &f), TPL_OK);
	assert_non_null(f);
	return f;
}

/* The one finding with code, which must exist exactly n times. */
static const struct tpl_finding *find(const struct tpl_findings *f, const char *code, size_t n)
{
	const struct tpl_finding *hit = NULL;
	size_t i, count = 0;

	for (i = 0; i < tpl_findings_count(f); i++) {
		const struct tpl_finding *x = tpl_findings_get(f, i);

		if (strcmp(x->code, code) == 0) {
			count++;
			if (hit == NULL)
				hit = x;
		}
	}
	if (count != n) {
		for (i = 0; i < tpl_findings_count(f); i++)
			fprintf(stderr, "  %s %s %u:%u %s\n", tpl_findings_get(f, i)->code,
				tpl_findings_get(f, i)->where, tpl_findings_get(f, i)->line,
				tpl_findings_get(f, i)->col, tpl_findings_get(f, i)->message);
		fprintf(stderr, "%s: %zu findings, expected %zu\n", code, count, n);
		fail();
	}
	return hit;
}

static void test_clean(void **state)
{
	struct tpl_check_input in = clean();
	struct tpl_findings *f;
	size_t i;

	(void)state;
	f = run(&in);
	for (i = 0; i < tpl_findings_count(f); i++)
		fprintf(stderr, "unexpected: %s %s\n", tpl_findings_get(f, i)->code,
			tpl_findings_get(f, i)->message);
	assert_int_equal(tpl_findings_count(f), 0);
	assert_null(tpl_findings_get(f, 0));
	tpl_findings_free(&f);
	assert_null(f);
	tpl_findings_free(&f);
	/* the newsletter layout and ISO-2022-JP-clean text are clean too */
	in = clean();
	in.layout = "newsletter";
	in.iso2022jp = true;
	f = run(&in);
	assert_int_equal(tpl_findings_count(f), 0);
	tpl_findings_free(&f);
}

static void test_tags(void **state)
{
	static const char md[] = "Hi {{name}}\n\n{{nmae}} from {{attr.city}} {{attr.zip}}, "
				 "{{attr.zip|-}}\n";
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;

	(void)state;
	in.src = md;
	in.src_len = strlen(md);
	in.subject = "{{subject.bad}} hi";
	f = run(&in);
	find(f, "unknown-tag", 2);
	x = tpl_findings_get(f, 0);
	assert_string_equal(x->code, "unknown-tag");
	assert_string_equal(x->where, "subject");
	assert_int_equal(x->severity, TPL_SEV_ERROR);
	x = tpl_findings_get(f, 1);
	assert_string_equal(x->where, "body");
	assert_int_equal(x->line, 3);
	assert_int_equal(x->col, 1);
	assert_non_null(strstr(x->message, "{{nmae}}"));
	/* attr.zip has no value for the sample and no fallback, once */
	x = find(f, "unresolved-tag", 1);
	assert_int_equal(x->severity, TPL_SEV_WARNING);
	assert_int_equal(x->line, 3);
	assert_int_equal(x->col, 29);
	tpl_findings_free(&f);
}

static void test_syntax(void **state)
{
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;

	(void)state;
	in.src = "ok\n\n  {{#a}} never closed";
	in.src_len = strlen(in.src);
	in.subject = "{{bad";
	f = run(&in);
	x = find(f, "syntax", 2);
	assert_string_equal(x->where, "subject");
	assert_int_equal(x->line, 1);
	assert_int_equal(x->col, 6);
	x = tpl_findings_get(f, tpl_findings_count(f) - 1);
	x = NULL;
	for (size_t i = 0; i < tpl_findings_count(f); i++) {
		if (strcmp(tpl_findings_get(f, i)->where, "body") == 0)
			x = tpl_findings_get(f, i);
	}
	assert_non_null(x);
	assert_string_equal(x->code, "syntax");
	assert_int_equal(x->line, 3);
	assert_int_equal(x->col, 22);
	tpl_findings_free(&f);
}

static void test_unsubscribe_and_footer(void **state)
{
	struct tpl_check_input in = clean();
	struct tpl_findings *f;
	const struct tpl_finding *x;

	(void)state;
	in.layout = "none";
	f = run(&in);
	find(f, "no-unsubscribe", 1);
	find(f, "footer-missing", 3);
	tpl_findings_free(&f);
	/* the body's own link and footer satisfy both */
	{
		static const char md[] = "Body\n\n{{sender.name}} {{sender.postal_address}} "
					 "{{sender.contact}} [配信停止]({{unsubscribe_url}})\n";
		static const char *const k2[] = {"sender.", "unsubscribe_url", "name"};

		in.src = md;
		in.src_len = strlen(md);
		in.known = k2;
		in.nknown = 3;
		f = run(&in);
		assert_int_equal(tpl_findings_count(f), 0);
		tpl_findings_free(&f);
	}
	in = clean();
	in.sender_postal_address = "";
	in.sender_contact = NULL;
	f = run(&in);
	x = find(f, "sender-empty", 2);
	assert_string_equal(x->where, "sender");
	assert_int_equal(x->severity, TPL_SEV_ERROR);
	tpl_findings_free(&f);
}

/*
 * A sender identity of blanks shows nothing: sender-empty, as an unset one.
 * Spaces, a tab and a line break, an ideographic space (U+3000), no-break
 * and zero-width spaces, and the characters that render as nothing: the
 * Hangul fillers, the Braille blank, a soft hyphen, the Mongolian vowel
 * separator, word joiner and invisible operators, the combining grapheme
 * joiner, the Khmer inherent vowels, variation selectors and tags. A name
 * with a blank in it is fine.
 */
static void test_sender_blank(void **state)
{
	static const char *const blanks[] = {
	    " ",
	    "  \t\r\n",
	    "\u3000\u3000",
	    "\u00a0",
	    "\u200b \ufeff",
	    "\u3164",
	    "\u2800",
	    "\u00ad",
	    "\u180e",
	    "\u115f\u1160",
	    "\uffa0",
	    "\u2060\u2064",
	    "\u2061\u2062\u2063",
	    "\u034f",
	    "\u17b4\u17b5",
	    "\ufe00\ufe0f",
	    "\U000e0000\U000e0041\U000e007f",
	};
	struct tpl_check_input in;
	const struct tpl_finding *x;
	struct tpl_findings *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++) {
		in = clean();
		in.sender_name = blanks[i];
		in.sender_postal_address = blanks[i];
		in.sender_contact = blanks[i];
		f = run(&in);
		x = find(f, "sender-empty", 3);
		assert_int_equal(x->severity, TPL_SEV_ERROR);
		assert_non_null(strstr(x->message, "only blanks"));
		tpl_findings_free(&f);
	}
	in = clean();
	in.sender_name = "\u3000株式会社 ハト ";
	f = run(&in);
	assert_int_equal(tpl_findings_count(f), 0);
	tpl_findings_free(&f);
	assert_true(tpl_is_blank(NULL));
	assert_true(tpl_is_blank(""));
	assert_false(tpl_is_blank(" x "));
	assert_false(tpl_is_blank("\xff")); /* not UTF-8: not known to be blank */
}

static const char full_text[] = "Body\n\n{{sender.name}}\n{{sender.postal_address}}\n"
				"{{sender.contact}}\nUnsubscribe: {{unsubscribe_url}}\n";
static const char *const html_known[] = {"sender.", "unsubscribe_url", "name"};

/* An HTML body without a layout, and its text part. */
static struct tpl_check_input html_input(const char *html, const char *text)
{
	struct tpl_check_input in = clean();

	in.kind = TPL_KIND_HTML;
	in.layout = "none";
	in.src = html;
	in.src_len = strlen(html);
	in.known = html_known;
	in.nknown = sizeof(html_known) / sizeof(html_known[0]);
	in.text_src = text;
	return in;
}

/*
 * An HTML template with its own footer and a --text part: the text part
 * must show the sender's identity too, not only the unsubscribe link.
 */
static void test_text_part_footer(void **state)
{
	static const char html[] =
	    "<p>Body</p><p>{{sender.name}} {{sender.postal_address}} "
	    "{{sender.contact}} <a href=\"{{unsubscribe_url}}\">配信停止</a></p>";
	static const char bare[] = "Body\n\nUnsubscribe: {{unsubscribe_url}}\n";
	struct tpl_check_input in = html_input(html, bare);
	struct tpl_findings *f;
	const struct tpl_finding *x;
	size_t i;

	(void)state;
	f = run(&in);
	x = find(f, "footer-missing", 3);
	assert_string_equal(x->where, "text");
	assert_int_equal(x->severity, TPL_SEV_ERROR);
	for (i = 0; i < tpl_findings_count(f); i++)
		assert_string_equal(tpl_findings_get(f, i)->where, "text");
	assert_non_null(strstr(x->message, "the sender's name"));
	assert_non_null(strstr(x->message, "Act on Specified Electronic Mail"));
	find(f, "no-unsubscribe", 0);
	tpl_findings_free(&f);
	in.text_src = full_text;
	f = run(&in);
	assert_int_equal(tpl_findings_count(f), 0);
	tpl_findings_free(&f);
}

/*
 * A footer or an unsubscribe link inside a section ({{#name}}, {{^name}})
 * is left out of some messages, whatever the sample subscriber has: an
 * error in either part.
 */
static void test_footer_in_section(void **state)
{
	static const char html[] =
	    "<p>Body</p>{{#name}}<p>{{sender.name}} {{sender.postal_address}} "
	    "{{sender.contact}} <a href=\"{{unsubscribe_url}}\">配信停止</a></p>{{/name}}";
	static const char text[] =
	    "Body\n{{^name}}\n{{sender.name}}\n{{sender.postal_address}}\n"
	    "{{sender.contact}}\nUnsubscribe: {{unsubscribe_url}}\n{{/name}}\n";
	struct tpl_check_input in = html_input(html, full_text);
	struct tpl_findings *f;
	const struct tpl_finding *x;

	(void)state;
	f = run(&in);
	x = find(f, "footer-missing", 3);
	assert_string_equal(x->where, "body");
	assert_non_null(strstr(x->message, "only inside sections"));
	x = find(f, "no-unsubscribe", 1);
	assert_string_equal(x->where, "body");
	tpl_findings_free(&f);
	in = html_input("<p>{{sender.name}} {{sender.postal_address}} {{sender.contact}} "
			"<a href=\"{{unsubscribe_url}}\">配信停止</a></p>",
			text);
	f = run(&in);
	x = find(f, "footer-missing", 3);
	assert_string_equal(x->where, "text");
	assert_non_null(strstr(x->message, "the text part has the sender's name"));
	x = find(f, "no-unsubscribe", 1);
	assert_string_equal(x->where, "text");
	tpl_findings_free(&f);
}

/* html (its text part whole) gets exactly `missing` footer-missing errors in the body, and
 * no-unsubscribe or not. */
static void shown_case(const char *html, size_t missing, bool no_unsub)
{
	struct tpl_check_input in = html_input(html, full_text);
	struct tpl_findings *f = run(&in);
	const struct tpl_finding *x;
	size_t i;

	x = find(f, "footer-missing", missing);
	if (x != NULL) {
		assert_string_equal(x->where, "body");
		assert_int_equal(x->severity, TPL_SEV_ERROR);
		assert_non_null(strstr(x->message, "only where a reader does not see it"));
	}
	x = find(f, "no-unsubscribe", no_unsub ? 1 : 0);
	if (x != NULL) {
		assert_int_equal(x->severity, TPL_SEV_ERROR);
		assert_non_null(strstr(x->message, "is not shown"));
	}
	for (i = 0; i < tpl_findings_count(f); i++)
		if (strcmp(tpl_findings_get(f, i)->code, "footer-missing") != 0 &&
		    strcmp(tpl_findings_get(f, i)->code, "no-unsubscribe") != 0)
			fail_msg("unexpected %s: %s", tpl_findings_get(f, i)->code,
				 tpl_findings_get(f, i)->message);
	tpl_findings_free(&f);
}

/*
 * The law wants the sender's identity and the opt-out displayed: not in an
 * HTML comment, an image's alt text or a hidden element, and the opt-out a
 * link with visible text. What a reader does see passes.
 */
static void test_footer_shown(void **state)
{
	(void)state;
	/* In a comment. */
	shown_case("<p>Body</p><!-- {{sender.name}} {{sender.postal_address}} {{sender.contact}} "
		   "<a href=\"{{unsubscribe_url}}\">unsubscribe</a> -->",
		   3, true);
	/* In an element hidden with display:none, the link empty too. */
	shown_case("<p>Body</p><div style=\"color: red; DISPLAY : none !important\">"
		   "{{sender.name}} {{sender.postal_address}} {{sender.contact}}</div>"
		   "<p><a href=\"{{unsubscribe_url}}\"></a></p>",
		   3, true);
	/* An empty link alone, or one around an image or blanks only. */
	shown_case("<p>{{sender.name}} {{sender.postal_address}} {{sender.contact}}</p>"
		   "<a href=\"{{unsubscribe_url}}\"></a>",
		   0, true);
	shown_case("<p>{{sender.name}} {{sender.postal_address}} {{sender.contact}}</p>"
		   "<a href=\"{{unsubscribe_url}}\"><img src=\"https://x.example/u.png\" "
		   "alt=\"unsubscribe\"> &nbsp; </a>",
		   0, true);
	/* The identity only in an image's alt text, or a title. */
	shown_case("<p><img src=\"https://x.example/logo.png\" alt=\"{{sender.name}}\">"
		   "<span title=\"{{sender.contact}}\">Contact us</span> "
		   "{{sender.postal_address}} <a href=\"{{unsubscribe_url}}\">unsubscribe</a></p>",
		   2, false);
	/* Hidden by the hidden attribute, visibility:hidden, opacity:0, mso-hide:all. */
	shown_case("<p hidden>{{sender.name}}</p><p style=\"visibility:hidden\">"
		   "{{sender.postal_address}}</p><span style='opacity:0'>{{sender.contact}}</span>"
		   "<p style=\"mso-hide:all\"><a href=\"{{unsubscribe_url}}\">x</a></p>",
		   3, true);
	/* In <head> or <style>, or an element left open after a hidden one. */
	shown_case("<html><head><title>{{sender.name}}</title></head><body><style>"
		   "/* {{sender.contact}} */</style><p>{{sender.postal_address}}</p>"
		   "<div style=\"display:none\"><p>{{sender.contact}} "
		   "<a href=\"{{unsubscribe_url}}\">unsubscribe</a></p></body></html>",
		   2, true);
	/* Shown: a hidden preheader, a child made visible again, character references, an
	 * Outlook-only comment around nothing legal, unclosed paragraphs, and the opt-out URL
	 * written out as text. */
	shown_case("<div style=\"display:none;max-height:0;overflow:hidden\">Preheader</div>"
		   "<!--[if mso]><p>Outlook</p><![endif]-->"
		   "<div style=\"visibility:hidden\"><p style=\"visibility: visible\">"
		   "{{sender.name}}</p></div><p>&#12306;{{sender.postal_address}}"
		   "<p>Contact:&nbsp;{{sender.contact}}<p>Opt out: {{unsubscribe_url}}",
		   0, false);
	shown_case("<table><tr><td style=\"display:none\">x<td>{{sender.name}}</table>"
		   "<ul><li hidden>a<li>{{sender.postal_address}}</ul><p>{{sender.contact}} "
		   "<a href='{{unsubscribe_url}}' style=\"color:#555\"><b>配信停止</b></a></p>",
		   0, false);
	/* A start tag the body ends in, without its '>' (found by fuzz_template). */
	shown_case("<p>{{sender.name}} {{sender.postal_address}} {{sender.contact}} "
		   "<a href=\"{{unsubscribe_url}}\">unsubscribe</a></p><style/\n",
		   0, false);
}

/*
 * Other common ways to hide the footer: a <style> rule (by class, type,
 * type and class, id, a list of them, inside @media too), a font size of
 * zero, a zero height clipped, a style written with character references,
 * and an opt-out link in a font size of zero.
 */
static void test_footer_styled_away(void **state)
{
	/* Before and after the footer (QA's list of tricks). */
	static const char *const away[][2] = {
	    {"<div style=\"color:#ffffff;background-color:#fff\">", "</div>"},
	    {"<div style=\"color:rgb(255, 255, 255);background:white\">", "</div>"},
	    {"<div style=\"color:transparent\">", "</div>"},
	    {"<div class=\"a\">", "</div>"},
	    {"<div class=\"x b\">", "</div>"},
	    {"<div id=\"c\">", "</div>"},
	    {"<div style=\"display:var(--h)\">", "</div>"},
	    {"<details><summary>.</summary>", "</details>"},
	    {"<div style=\"position:absolute;left:-9999px\">", "</div>"},
	    {"<div style=\"text-indent:-9999px;overflow:hidden\">", "</div>"},
	    {"<div style=\"font-size:1px;color:#fefefe\">", "</div>"},
	    {"<div style=\"font-size:0.2em\">", "</div>"},
	    {"<iframe>", "</iframe>"},
	    {"<svg><desc>", "</desc></svg>"},
	    {"<div style=\"content-visibility:hidden\">", "</div>"},
	    {"<div style=\"clip-path:inset(100%)\">", "</div>"},
	    {"<div style=\"transform:scale(0)\">", "</div>"},
	    {"<div style=\"transform:translate(1px) scaleY(0.0)\">", "</div>"},
	    {"<div style=\"width:0;overflow:hidden\">", "</div>"},
	};
	char many[40000];
	size_t i, n = 0;

	(void)state;
	/* The whole footer in an element hidden by a class rule. */
	shown_case("<style>.h{display:none}</style><p>Body</p><div class=\"h\">{{sender.name}} "
		   "{{sender.postal_address}} {{sender.contact}} "
		   "<a href=\"{{unsubscribe_url}}\">unsubscribe</a></div>",
		   3, true);
	/* Rules by type and class, id, type (the last of a selector's compounds), in a list,
	 * in @media, in <head> or after the footer, with comments, escapes, !important and
	 * old HTML comment marks. */
	shown_case("<html><head><style><!-- p.x, #F { display : none !important } --></style>"
		   "</head><body><p class=\"y x\">{{sender.name}}</p><div id=\"f\">"
		   "{{sender.postal_address}}</div><address>{{sender.contact}}</address>"
		   "<p class=m><a href=\"{{unsubscribe_url}}\">unsubscribe</a></p><style>"
		   "body > address{visibility:/* */hidden} @media screen and (max-width:600px) "
		   "{ .\\6d {font-size:0} }</style></body></html>",
		   3, true);
	/* A rule Outlook reads in its conditional comment; a type-and-class rule. */
	shown_case("<!--[if mso]><style>.k{mso-hide:all}</style><![endif]-->"
		   "<style>span.o{opacity:0}</style>"
		   "<span class=\"o\">{{sender.name}}</span><span>{{sender.postal_address}}</span> "
		   "{{sender.contact}} <a class=\"k\" href=\"{{unsubscribe_url}}\">unsubscribe</a>",
		   1, true);
	/* A font size of zero in any unit, the font shorthand, and a child whose size is
	 * its parent's (1em of zero is zero). */
	shown_case("<p style=\"font-size:0\">{{sender.name}}</p><p style=\"font-size:0px\">"
		   "{{sender.postal_address}}</p><p style=\"font-size:0pt\">{{sender.contact}}</p>"
		   "<p style=\"font-size:0em\"><a href=\"{{unsubscribe_url}}\">unsubscribe</a></p>",
		   3, true);
	shown_case("<p style=\"font:0/0 a\">{{sender.name}}</p><div style=\"line-height:0;"
		   "font-size:0\"><p style=\"font-size:1em\">{{sender.postal_address}}</p></div>"
		   "<div style=\"max-height:0;overflow:hidden\">{{sender.contact}}</div>"
		   "<a href=\"{{unsubscribe_url}}\">unsubscribe</a>",
		   3, false);
	/* Styles written with character references, with and without the ';'. */
	shown_case(
	    "<div style=\"display&#58;none\">{{sender.name}}</div><div style=\"display"
	    "&colon;none\">{{sender.postal_address}}</div><div style=\"&#x64;isplay:"
	    "none\">{{sender.contact}}</div><p class=\"&#104;\"><a href=\"{{unsubscribe_url}}"
	    "\">unsubscribe</a></p><style>.h{display:none}</style>",
	    3, true);
	shown_case("<p>{{sender.name}} {{sender.postal_address}} {{sender.contact}}</p>"
		   "<div style=\"display&#58none\"><a href=\"{{unsubscribe_url}}\">x</a></div>",
		   0, true);
	/* The opt-out link in a font size of zero. */
	shown_case("<p>{{sender.name}} {{sender.postal_address}} {{sender.contact}}</p>"
		   "<a href=\"{{unsubscribe_url}}\" style=\"font-size:0\">unsubscribe</a>",
		   0, true);
	/* Shown: rules that do not match, or do not hide as the message opens (a state,
	 * a pseudo-element, a rule in a comment), a child with a font size of its own,
	 * and a hidden preheader. A control character escaped in a name is a name no
	 * element has. */
	shown_case(
	    "<style>.h\\\x02{display:none} #\\\x01 {display:none}</style>"
	    "<style>.h, p.x, #g { display:none } a:hover{opacity:0} "
	    ".y::before{display:none} [hidden]{display:none} .z{color:red}</style>"
	    "<!-- <style>.y{display:none}</style> --><div class=\"h\">Preheader</div>"
	    "<p class=\"hx\">{{sender.name}}</p><div class=\"x y z\">{{sender.postal_address}}"
	    "</div><td style=\"font-size:0\"><div style=\"font-size:14px\">"
	    "{{sender.contact}}</div></td><p id=\"f\"><a href=\"{{unsubscribe_url}}\">"
	    "unsubscribe</a></p>",
	    0, false);
	/* Other ways to take the footer out of sight: each hides it all. */
	for (i = 0; i < sizeof(away) / sizeof(away[0]); i++) {
		snprintf(
		    many, sizeof(many),
		    "<style>:is(.a){display:none} [class~=b]{display:none} [id=\"c\"]"
		    "{display:none} :root{--h:none}</style><p>Body</p>%s{{sender.name}} "
		    "{{sender.postal_address}} {{sender.contact}} <a href=\"{{unsubscribe_url}}"
		    "\">unsubscribe</a>%s",
		    away[i][0], away[i][1]);
		shown_case(many, 3, true);
	}
	/* Styles near those that leave it in sight. */
	shown_case("<div style=\"color:#333;background-color:#fff;font-size:12px;"
		   "text-indent:-5px;left:-10px;transform:scale(1.0);width:100%\">"
		   "<details open>{{sender.name}}</details><details><summary>"
		   "{{sender.postal_address}}</summary>x</details><p class=\"a-b\" id=\"cc\">"
		   "{{sender.contact}} <a href=\"{{unsubscribe_url}}\">unsubscribe</a></p></div>",
		   0, false);
	/* More rules than the reader keeps: nothing counts as shown. */
	n += (size_t)snprintf(many, sizeof(many), "<style>");
	for (i = 0; i < 1100; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, ".c%zu{display:none}", i);
	snprintf(many + n, sizeof(many) - n,
		 "</style><p>{{sender.name}} {{sender.postal_address}} {{sender.contact}} "
		 "<a href=\"{{unsubscribe_url}}\">unsubscribe</a></p>");
	shown_case(many, 3, true);
}

static void test_subject(void **state)
{
	struct tpl_check_input in = clean();
	struct tpl_buf s = {0};
	struct tpl_findings *f;
	size_t i;

	static const struct {
		const char *subject;
		size_t empty;
	} cases[] = {
	    {"  ", 1},
	    /* Invisible: a full-width space, a zero-width space, a no-break space. */
	    {"\xe3\x80\x80\xe2\x80\x8b\xc2\xa0", 1},
	    /* Empty for a subscriber without the field, whatever the sample has. */
	    {"{{name}}", 1},
	    {" {{attr.city}} ", 1},
	    {"{{#name}}{{name}}様{{/name}}", 1},
	    {"{{name|お客様}}", 0},
	    {"{{name}}さん、12月号", 0},
	    {"{{sender.name}}より", 0},
	};

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in.subject = cases[i].subject;
		f = run(&in);
		find(f, "subject-empty", cases[i].empty);
		tpl_findings_free(&f);
	}
	/* 150 Japanese characters (450 bytes) are fine; 151 are not */
	for (i = 0; i < 150; i++)
		tpl_buf_appends(&s, "あ");
	in.subject = s.data;
	f = run(&in);
	find(f, "subject-long", 0);
	tpl_findings_free(&f);
	tpl_buf_appends(&s, "い");
	in.subject = s.data;
	f = run(&in);
	assert_string_equal(find(f, "subject-long", 1)->where, "subject");
	tpl_findings_free(&f);
	tpl_buf_free(&s);
}

static void test_links(void **state)
{
	static const char md[] = "Visit [our shop](http://shop.example/) today.\n\n"
				 "[https://bank.example/login](https://evil.example/login)\n\n"
				 "[www.shop.example](https://shop.example/) and "
				 "[sale.shop.example](https://shop.example/) and "
				 "[Read more](https://other.example/) are fine.\n";
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;

	(void)state;
	in.src = md;
	in.src_len = strlen(md);
	f = run(&in);
	x = find(f, "http-link", 1);
	assert_int_equal(x->line, 1);
	assert_int_equal(x->col, 18);
	x = find(f, "link-mismatch", 1);
	assert_int_equal(x->line, 3);
	assert_int_equal(x->col, 30);
	assert_non_null(strstr(x->message, "bank.example"));
	assert_non_null(strstr(x->message, "evil.example"));
	tpl_findings_free(&f);
}

/* The k-th (from 0) finding with code: its line:col as "L:C". */
static void expect_at(const struct tpl_findings *f, const char *code, size_t k, unsigned line,
		      unsigned col)
{
	size_t i;

	for (i = 0; i < tpl_findings_count(f); i++) {
		const struct tpl_finding *x = tpl_findings_get(f, i);

		if (strcmp(x->code, code) == 0 && k-- == 0) {
			if (x->line != line || x->col != col)
				fail_msg("%s: at %u:%u, wanted %u:%u", code, x->line, x->col, line,
					 col);
			return;
		}
	}
	fail_msg("too few %s findings", code);
}

/* A link or image used twice is placed where each use is, not twice at the first. */
static void test_repeated_places(void **state)
{
	static const char md[] =
	    "# T\n\n[paypal.com](https://evil.example)\n\nx\n\n"
	    "[bank.example](https://evil.example)\n\n"
	    "![](https://i.example/a.png) and ![](https://i.example/a.png)\n\n"
	    "[https://evil.example](https://evil.example) [paypal.com](https://"
	    "evil.example)\n";
	struct tpl_check_input in = clean();
	struct tpl_findings *f;

	(void)state;
	in.src = md;
	in.src_len = strlen(md);
	f = run(&in);
	find(f, "link-mismatch", 3);
	expect_at(f, "link-mismatch", 0, 3, 14);
	expect_at(f, "link-mismatch", 1, 7, 16);
	/* a link showing the URL itself is a use (not a mismatch); its text is no use */
	expect_at(f, "link-mismatch", 2, 11, 59);
	find(f, "img-no-alt", 2);
	expect_at(f, "img-no-alt", 0, 9, 5);
	expect_at(f, "img-no-alt", 1, 9, 38);
	tpl_findings_free(&f);
}

static void test_images_and_size(void **state)
{
	static const char html[] =
	    "<p>{{unsubscribe_url}}</p>\n<img src=\"https://x.example/a.png\">\n"
	    "<img src=\"https://x.example/b.png\" alt=\"\">\n"
	    "<img src=\"https://x.example/c.png\" alt=\"c\">\n";
	struct tpl_check_input in = clean();
	struct tpl_buf big = {0};
	const struct tpl_finding *x;
	struct tpl_findings *f;
	size_t i;

	(void)state;
	in.kind = TPL_KIND_HTML;
	in.src = html;
	in.src_len = strlen(html);
	f = run(&in);
	x = find(f, "img-no-alt", 2);
	assert_int_equal(x->line, 2);
	assert_int_equal(x->col, 11);
	find(f, "html-too-big", 0);
	tpl_findings_free(&f);
	/* Markdown images without alt text, too */
	in = clean();
	in.src = "![](https://x.example/a.png)\n";
	in.src_len = strlen(in.src);
	f = run(&in);
	find(f, "img-no-alt", 1);
	tpl_findings_free(&f);
	/* 110 KB of HTML: Gmail clips it */
	for (i = 0; i < 1100; i++)
		tpl_buf_appends(&big,
				"<p>0123456789012345678901234567890123456789012345678901234567890"
				"123456789012345678901234567890</p>\n");
	in.kind = TPL_KIND_HTML;
	in.src = big.data;
	in.src_len = big.len;
	f = run(&in);
	find(f, "html-too-big", 1);
	tpl_findings_free(&f);
	tpl_buf_free(&big);
}

static void test_jis_dkim_raw_html(void **state)
{
	static const char md[] = "会員番号①の{{name}}様\n\n㈱ハトより\n\n<div>raw</div>\n";
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;

	(void)state;
	in.src = md;
	in.src_len = strlen(md);
	in.subject = "①のお知らせ";
	in.from_has_dkim = false;
	f = run(&in);
	find(f, "jis-unencodable", 0); /* the option is off */
	x = find(f, "no-dkim", 1);
	assert_int_equal(x->severity, TPL_SEV_ERROR);
	assert_string_equal(x->where, "from");
	x = find(f, "markdown-raw-html", 1);
	assert_int_equal(x->line, 5);
	tpl_findings_free(&f);
	in.iso2022jp = true;
	in.from_has_dkim = true;
	f = run(&in);
	x = find(f, "jis-unencodable", 3);
	assert_string_equal(x->where, "subject");
	assert_non_null(strstr(x->message, "①"));
	assert_int_equal(tpl_findings_count_severity(f, TPL_SEV_ERROR), 0);
	for (size_t i = 0; i < tpl_findings_count(f); i++) {
		x = tpl_findings_get(f, i);
		if (strcmp(x->where, "body") == 0 && strcmp(x->code, "jis-unencodable") == 0 &&
		    x->line == 3)
			assert_int_equal(x->col, 1);
	}
	tpl_findings_free(&f);
}

/* A line too long for ISO-2022-JP's 7bit makes the message UTF-8: a warning says so. */
static void test_jis_long_line(void **state)
{
	struct tpl_check_input in = clean();
	const struct tpl_finding *x;
	struct tpl_findings *f;
	struct tpl_buf md = {0};
	int i;

	(void)state;
	tpl_buf_appends(&md, "こんにちは\n\n");
	for (i = 0; i < 400; i++) /* 1,200 bytes of UTF-8, 800 of ISO-2022-JP: fine */
		tpl_buf_appends(&md, "あ");
	tpl_buf_appends(&md, "\n\n");
	for (i = 0; i < 500; i++) /* 1,000 bytes and more of ISO-2022-JP */
		tpl_buf_appends(&md, "あ");
	tpl_buf_appends(&md, "\n\n{{unsubscribe_url}}\n");
	in.src = md.data;
	in.src_len = md.len;
	f = run(&in);
	find(f, "jis-long-line", 0); /* the option is off */
	tpl_findings_free(&f);
	in.iso2022jp = true;
	f = run(&in);
	x = find(f, "jis-long-line", 1);
	assert_string_equal(x->where, "body");
	assert_int_equal(x->line, 5);
	assert_non_null(strstr(x->message, "go out as UTF-8"));
	tpl_findings_free(&f);
	tpl_buf_free(&md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_jis_long_line),
	    cmocka_unit_test(test_tags),
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_unsubscribe_and_footer),
	    cmocka_unit_test(test_text_part_footer),
	    cmocka_unit_test(test_footer_in_section),
	    cmocka_unit_test(test_sender_blank),
	    cmocka_unit_test(test_footer_shown),
	    cmocka_unit_test(test_footer_styled_away),
	    cmocka_unit_test(test_subject),
	    cmocka_unit_test(test_links),
	    cmocka_unit_test(test_repeated_places),
	    cmocka_unit_test(test_images_and_size),
	    cmocka_unit_test(test_jis_dkim_raw_html),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
