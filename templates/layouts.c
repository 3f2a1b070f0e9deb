/*
 * layouts.c: the built-in layouts, generated once from readable HTML and kept
 * here as C strings.
 *
 * Each layout other than "none" is responsive table-based HTML with inline
 * CSS (600px at most, a viewport meta tag) and a text twin. Both carry the
 * footer that Japan's Act on Specified Electronic Mail requires: the sender's
 * name, postal address and contact, and the unsubscribe link with a sentence
 * saying the recipient may opt out, in Japanese and English. The body goes in
 * the {{{body}}} slot.
 */
#include <string.h>

#include "templates/private.h"

/*
 * The footer Japan's Act on Specified Electronic Mail requires, and the end of
 * the page: the same in every HTML layout, so the legal wording lives once.
 */
#define LEGAL_FOOTER_HTML                                                                          \
	"<p style=\"margin:0 0 8px 0;\">{{sender.name}}<br>\n"                                     \
	"{{sender.postal_address}}<br>\n"                                                          \
	"お問い合わせ / Contact: {{sender.contact}}</p>\n"                                   \
	"<p style=\"margin:0;\">このメールの配信を希望されない場合は、<a "      \
	"href=\"{{unsubscribe_url}}\" "                                                            \
	"style=\"color:#555555;\">こちらから配信停止</a>できます。<br>\n"            \
	"You can opt out of these emails at any time: <a href=\"{{unsubscribe_url}}\" "            \
	"style=\"color:#555555;\">unsubscribe</a>.</p>\n"                                          \
	"</td></tr>\n"                                                                             \
	"</table>\n"                                                                               \
	"</td></tr>\n"                                                                             \
	"</table>\n"                                                                               \
	"</body>\n"                                                                                \
	"</html>\n"

/* The same footer in every text part. */
#define LEGAL_FOOTER_TEXT                                                                                       \
	"\n"                                                                                                    \
	"-- \n"                                                                                                 \
	"{{sender.name}}\n"                                                                                     \
	"{{sender.postal_address}}\n"                                                                           \
	"お問い合わせ / Contact: {{sender.contact}}\n"                                                    \
	"\n"                                                                                                    \
	"配信停止 / Unsubscribe:\n"                                                                         \
	"このメールの配信を希望されない場合は、次のURLから配信停止できます。\n" \
	"You can opt out of these emails at any time here:\n"                                                   \
	"{{unsubscribe_url}}\n"

static const char plain_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"ja\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"x-apple-disable-message-reformatting\">\n"
    "<title></title>\n"
    "</head>\n"
    "<body style=\"margin:0;padding:0;background-color:#ffffff;\">\n"
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
    "style=\"border-collapse:collapse;\">\n"
    "<tr><td align=\"center\" style=\"padding:16px;\">\n"
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
    "style=\"max-width:600px;border-collapse:collapse;\">\n"
    "<tr><td style=\"font-family:-apple-system,BlinkMacSystemFont,'Hiragino Sans','Hiragino Kaku "
    "Gothic ProN',Meiryo,'Segoe "
    "UI',Arial,sans-serif;font-size:16px;line-height:1.7;color:#222222;\">\n"
    "{{{body}}}\n"
    "</td></tr>\n"
    "<tr><td style=\"font-family:-apple-system,BlinkMacSystemFont,'Hiragino Sans','Hiragino Kaku "
    "Gothic ProN',Meiryo,'Segoe UI',Arial,sans-serif;padding-top:24px;border-top:1px solid "
    "#dddddd;font-size:12px;line-height:1.6;color:#555555;\">\n" LEGAL_FOOTER_HTML;

static const char plain_text[] = "{{{body}}}\n" LEGAL_FOOTER_TEXT;

static const char news_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"ja\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"x-apple-disable-message-reformatting\">\n"
    "<title></title>\n"
    "</head>\n"
    "<body style=\"margin:0;padding:0;background-color:#f2f3f5;\">\n"
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
    "style=\"border-collapse:collapse;background-color:#f2f3f5;\">\n"
    "<tr><td align=\"center\" style=\"padding:24px 12px;\">\n"
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
    "style=\"max-width:600px;border-collapse:collapse;\">\n"
    "{{#list.name}}\n"
    "<tr><td style=\"font-family:-apple-system,BlinkMacSystemFont,'Hiragino Sans','Hiragino Kaku "
    "Gothic ProN',Meiryo,'Segoe UI',Arial,sans-serif;padding:16px "
    "24px;background-color:#1f3a5f;color:#ffffff;font-size:20px;font-weight:bold;\">{{list.name}}</"
    "td></tr>\n"
    "{{/list.name}}\n"
    "<tr><td style=\"font-family:-apple-system,BlinkMacSystemFont,'Hiragino Sans','Hiragino Kaku "
    "Gothic ProN',Meiryo,'Segoe "
    "UI',Arial,sans-serif;padding:24px;background-color:#ffffff;font-size:16px;line-height:1.7;"
    "color:#222222;\">\n"
    "{{{body}}}\n"
    "</td></tr>\n"
    "<tr><td style=\"font-family:-apple-system,BlinkMacSystemFont,'Hiragino Sans','Hiragino Kaku "
    "Gothic ProN',Meiryo,'Segoe UI',Arial,sans-serif;padding:16px "
    "24px;font-size:12px;line-height:1.6;color:#555555;\">\n" LEGAL_FOOTER_HTML;

/* The banner's underline, a line of '=' alone, is as wide as the list's name (tpl_splice). */
static const char news_text[] = "{{#list.name}}\n"
				"{{list.name}}\n"
				"==========\n"
				"\n"
				"{{/list.name}}\n"
				"{{{body}}}\n" LEGAL_FOOTER_TEXT;

static const struct tpl_layout layouts[] = {
    {"none", "the body alone, without the legal footer", "{{{body}}}", "{{{body}}}"},
    {"plain", "white page, body and footer", plain_html, plain_text},
    {"newsletter", "grey page, white card, list name banner, footer", news_html, news_text},
};

const struct tpl_layout *tpl_layout_find(const char *name)
{
	size_t i;

	if (name == NULL)
		name = "none";
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (strcmp(layouts[i].name, name) == 0)
			return &layouts[i];
	}
	return NULL;
}

const struct tpl_layout *tpl_layout_at(size_t i)
{
	return i < sizeof(layouts) / sizeof(layouts[0]) ? &layouts[i] : NULL;
}
