/*
 * test_check_footer.c: the pre-send checks of what the law wants in every
 * message, the sender's identity and the opt-out link: in each part, outside
 * sections, and displayed in the HTML part, whatever hides it; and the
 * subscriber's own data where it could change the HTML.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check_fixture.h"

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

/* The subscriber's own data unescaped, as a link's address or in CSS: a warning each;
 * in a tag outside quotes, an error. */
static void test_subscriber_data(void **state)
{
	static const struct {
		bool html;
		const char *body, *code;
		size_t n;
	} cases[] = {
	    {true, "<p>Hi {{{name}}}</p>", "raw-data", 1},
	    {true, "<p>Hi {{name}} {{{sender.name}}}</p>", "raw-data", 0},
	    {true, "<a href=\"{{attr.site}}\">site</a> <a HREF = '{{ email }}'>me</a>",
	     "link-from-data", 2},
	    {true, "<a href=\"https://shop.example/{{attr.id}}\">shop</a>", "link-from-data", 0},
	    {false, "Hi {{{attr.note}}}, see [your page]({{attr.site}})", "link-from-data", 1},
	    {false, "Hi {{{attr.note}}}", "raw-data", 1},
	    /* QA's cases: outside quotes in a tag (an error), in CSS (a warning) */
	    {true, "<p class={{attr.plan}}>Hi</p><div {{attr.x}}>x</div>", "data-unquoted", 2},
	    {true, "<p class=\"{{attr.plan}}\" title='{{name}}'>Hi {{name}}</p>", "data-unquoted",
	     0},
	    {true,
	     "<p style=\"color:{{attr.color}}\">Hi</p><style>.x{color:{{attr.c}}}</style>"
	     "<p title=\"style\">{{name}}</p><!-- <p class={{name}}> -->",
	     "data-in-css", 2},
	    {true, "<p class={{attr.plan}}>Hi</p>", "data-in-css", 0},
	    {true, "<p>Your plan: <{{attr.plan}}></p>", "data-unquoted", 1},
	    /* Markdown: a "<" in text is no tag (and raw HTML is dropped anyway) */
	    {false, "Price<Tax for {{name}}", "data-unquoted", 0},
	};
	struct tpl_check_input in;
	struct tpl_findings *f;
	const struct tpl_finding *x;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = cases[i].html ? html_input(cases[i].body, full_text) : clean();
		if (!cases[i].html) {
			in.src = cases[i].body;
			in.src_len = strlen(cases[i].body);
		}
		f = run(&in);
		x = find(f, cases[i].code, cases[i].n);
		if (x != NULL)
			assert_int_equal(x->severity, strcmp(x->code, "data-unquoted") == 0
							  ? TPL_SEV_ERROR
							  : TPL_SEV_WARNING);
		tpl_findings_free(&f);
	}
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
	    /* QA's second list */
	    {"<div style=\"position:absolute;right:-9999px\">", "</div>"},
	    {"<div style=\"position:relative;bottom:-200em\">", "</div>"},
	    {"<div style=\"transform:translateX(-9999px)\">", "</div>"},
	    {"<div style=\"transform:translate(-200%, 0)\">", "</div>"},
	    {"<div style=\"transform:scale(0.001)\">", "</div>"},
	    {"<div style=\"zoom:0.01\">", "</div>"},
	    {"<div style=\"zoom:5%\">", "</div>"},
	    {"<div style=\"filter:blur(1px) opacity(0)\">", "</div>"},
	    {"<div style=\"color:rgba(0,0,0,0)\">", "</div>"},
	    {"<div style=\"color:rgb(0 0 0 / 0%)\">", "</div>"},
	    {"<div style=\"color:hsla(0, 0%, 0%, 0.02)\">", "</div>"},
	    {"<div style=\"color:#0000\">", "</div>"},
	    {"<div style=\"color:#11223300\">", "</div>"},
	    {"<div style=\"color:#00000010\">", "</div>"},
	    {"<div style=\"color:#0001\">", "</div>"},
	    {"<div style=\"-webkit-text-fill-color:transparent\">", "</div>"},
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
		   "text-indent:-5px;left:-10px;transform:scale(1.0);width:100%;right:-20px;"
		   "transform:translateY(-50%) scale(0.5);zoom:1.2;filter:opacity(0.8);"
		   "color:rgba(0,0,0,0.87);color:rgb(0 0 0 / 60%);color:#000000ff\">"
		   "<details open>{{sender.name}}</details><details><summary>"
		   "{{sender.postal_address}}</summary>x</details><p class=\"a-b\" id=\"cc\">"
		   "{{sender.contact}} <a href=\"{{unsubscribe_url}}\">unsubscribe</a></p></div>",
		   0, false);
	/* QA's case: a faint tint behind the footer, the usual grey band, leaves it in sight,
	 * however the colour is written. */
	shown_case("<div style=\"background-color:rgba(0, 0, 0, 0.03)\"><p>{{sender.name}} "
		   "{{sender.postal_address}}</p></div><div style=\"background:rgb(0 0 0 / 3%)\">"
		   "{{sender.contact}}</div><div style=\"background:#00000008\"><a href=\""
		   "{{unsubscribe_url}}\">unsubscribe</a></div>",
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

/*
 * Text in about the colour of the background under it, wherever that
 * background is set: on the element, on a parent (style, a rule, bgcolor),
 * or nowhere, the white page most clients show. Light grey on white, and
 * white on an image or on a dark band of its own, stay shown.
 */
static void test_footer_colour_of_background(void **state)
{
	static const char *const away[][2] = {
	    {"<div style=\"background:#000\"><p style=\"color:#000\">", "</p></div>"},
	    {"<div style=\"background-color:#1a1a1a\"><div><span style=\"color:rgb(26,26,26)\">",
	     "</span></div></div>"},
	    {"<p style=\"color:#ffffff\">", "</p>"},
	    {"<p style=\"color:#f8f8f8\">", "</p>"},
	    {"<table bgcolor=\"#000000\"><tr><td><font color=\"black\">",
	     "</font></td></tr></table>"},
	    {"<table bgcolor=\"333\"><tr><td style=\"color:#333333\">", "</td></tr></table>"},
	    {"<div class=\"dark\"><p class=\"ink\">", "</p></div>"},
	    {"<div class=\"dark\"><p style=\"color:#999\"><span style=\"color:inherit\">",
	     "</span></p></div><p style=\"color:#999\">"},
	};
	char html[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(away) / sizeof(away[0]); i++) {
		snprintf(html, sizeof(html),
			 "<style>.dark{background:#999999} .ink{color:#999}</style><p>Body</p>"
			 "%s{{sender.name}} {{sender.postal_address}} {{sender.contact}} "
			 "<a href=\"{{unsubscribe_url}}\">unsubscribe</a>%s",
			 away[i][0], away[i][1]);
		shown_case(html, 3, true);
	}
	/* White on a dark page, on a dark cell, on an image; grey on white; a descendant
	 * rule's colours (".band p") left to the elements under .band. */
	shown_case("<body style=\"background:#000;color:#fff\"><p>{{sender.name}}</p>"
		   "<table bgcolor=\"222222\"><tr><td><font color=\"#ffffff\">"
		   "{{sender.postal_address}}</font></td></tr></table>"
		   "<td style=\"background:url(x.png);color:#000\">{{sender.contact}} "
		   "<a href=\"{{unsubscribe_url}}\">unsubscribe</a></td></body>",
		   0, false);
	shown_case("<style>.band{background:#000} .band p{color:#fff}</style>"
		   "<div class=\"band\"><p>Hello</p></div>"
		   "<p style=\"color:#999\">{{sender.name}}</p><p style=\"color:#cccccc\">"
		   "{{sender.postal_address}}</p><td background=\"bg.png\" bgcolor=\"#fff\">"
		   "<p style=\"color:#fff\">{{sender.contact}} <a href=\"{{unsubscribe_url}}\" "
		   "style=\"color:navy\">unsubscribe</a></p></td>",
		   0, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_part_footer),
	    cmocka_unit_test(test_footer_in_section),
	    cmocka_unit_test(test_subscriber_data),
	    cmocka_unit_test(test_footer_shown),
	    cmocka_unit_test(test_footer_styled_away),
	    cmocka_unit_test(test_footer_colour_of_background),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
