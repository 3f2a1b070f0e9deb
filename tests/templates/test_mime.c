/*
 * test_mime.c: the messages parse with Python's email package (a parser we did
 * not write): structure, decoded Japanese headers and bodies, line lengths,
 * header injection at every length, quoted local parts and ISO-2022-JP.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "templates/helpers.h"

static const char *const std_names =
    "[\"From\",\"To\",\"Subject\",\"Date\",\"Message-ID\",\"MIME-Version\",\"Content-Type\"]";

static void json_open(struct tpl_buf *j)
{
	tpl_buf_reset(j);
	tpl_buf_appendc(j, '{');
}

static void json_close(struct tpl_buf *j)
{
	tpl_buf_appendc(j, '}');
}

static void json_raw(struct tpl_buf *j, const char *k, const char *raw)
{
	tpl_buf_appendf(j, "%s\"%s\":%s", j->len > 1 ? "," : "", k, raw);
}

static void test_japanese_message(void **state)
{
	static const char subject[] =
	    "【ご案内】春のキャンペーンのお知らせ：全品20%オフ！この機会をお見逃しなく 🌸 "
	    "Spring sale for members only, with a long English tail to fold";
	static const char text[] =
	    "山田様\n\nいつもご利用ありがとうございます。今回は春のキャンペーンのお知らせです。"
	    "長い行は76文字以内に折り返されなければなりません。=記号も含みます。\n"
	    "trailing space \nand tab\t\n.leading dot\n"
	    "x=y\n";
	static const char html[] = "<p>山田様</p>\n<p style=\"color:red\">いつもご利用"
				   "ありがとうございます。a=b&amp;c</p>\n";
	static const struct tpl_header extra[] = {
	    {"List-Unsubscribe",
	     "<https://hato.example/u/"
	     "AQAAAAAAAAAqAAAAAAAAAAdDa1SmNlNfSKwzZ6T1Y5n7S0n0QG8h1ArBs8mE2h0ZFg>, "
	     "<mailto:unsubscribe@hato.example?subject=unsubscribe>"},
	    {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
	    {"List-Id", "ハト通信 <news.hato.example>"},
	    {"Feedback-ID", "c42:l7:hato"},
	};
	struct tpl_message m = {
	    .from = {"ハト通信 編集部", "news@hato.example"},
	    .to = {"山田 太郎", "a..b@docomo.ne.jp"},
	    .subject = subject,
	    .headers = extra,
	    .nheaders = 4,
	    .text = text,
	    .text_len = strlen(text),
	    .html = html,
	    .html_len = strlen(html),
	};
	struct tpl_buf msg = {0}, j = {0}, h = {0};
	bool jis = true;
	char *err = NULL;

	(void)state;
	assert_int_equal(tpl_message_build(&m, &msg, &jis, &err), TPL_OK);
	assert_false(jis);
	assert_non_null(strstr(msg.data, "<\"a..b\"@docomo.ne.jp>\r\n"));
	assert_null(strstr(msg.data, "=?UTF-8?B?ImEuLmIi")); /* no encoded-word in an address */
	json_open(&j);
	json_key(&j, "subject", subject);
	json_key(&j, "from_name", "ハト通信 編集部");
	json_key(&j, "from_local", "news");
	json_key(&j, "to_name", "山田 太郎");
	json_key(&j, "to_local", "a..b");
	json_key(&j, "to_domain", "docomo.ne.jp");
	json_key(&j, "text", text);
	json_key(&j, "html", html);
	json_key(&j, "charset", "utf-8");
	json_key(&j, "cte", "quoted-printable");
	json_raw(&j, "header_line_max", "160");
	json_raw(&j, "header_names",
		 "[\"From\",\"To\",\"Subject\",\"Date\",\"Message-ID\",\"List-Unsubscribe\","
		 "\"List-Unsubscribe-Post\",\"List-Id\",\"Feedback-ID\",\"MIME-Version\","
		 "\"Content-Type\"]");
	json_open(&h);
	json_key(&h, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
	json_key(&h, "Feedback-ID", "c42:l7:hato");
	json_key(&h, "List-Id", "ハト通信 <news.hato.example>");
	json_key(&h, "List-Unsubscribe", extra[0].value);
	json_close(&h);
	json_raw(&j, "headers", h.data);
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
	tpl_buf_free(&h);
}

static void test_addresses(void **state)
{
	static const struct {
		const char *name, *addr, *want, *local;
	} cases[] = {
	    {"", "abc.@ezweb.ne.jp", "To: \"abc.\"@ezweb.ne.jp\r\n", "abc."},
	    {NULL, "x.y+z@example.com", "To: x.y+z@example.com\r\n", "x.y+z"},
	    {"Tanaka, Taro (Sales) \"TT\"", "t@example.com",
	     "To: \"Tanaka, Taro (Sales) \\\"TT\\\"\" <t@example.com>\r\n", "t"},
	    {"Plain Name", "a\"b\\c@example.com",
	     "To: Plain Name <\"a\\\"b\\\\c\"@example.com>\r\n", "a\"b\\c"},
	    /* Quoted already, as the store keeps such an address: not quoted again. */
	    {NULL, "\"a@b\"@example.net", "To: \"a@b\"@example.net\r\n", "a@b"},
	    {NULL, "\"a\\\"b\"@example.net", "To: \"a\\\"b\"@example.net\r\n", "a\"b"},
	    /* Quotes that don't make a quoted string are escaped. */
	    {NULL, "\"a\\\"@example.net", "To: \"\\\"a\\\\\\\"\"@example.net\r\n", "\"a\\\""},
	};
	struct tpl_buf b = {0}, msg = {0}, j = {0};
	struct tpl_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tpl_message m = {.from = {"ハト", "news@hato.example"},
					.subject = "s",
					.text = "t",
					.text_len = 1,
					.html = "h",
					.html_len = 1};

		tpl_buf_reset(&b);
		a.name = cases[i].name;
		a.addr = cases[i].addr;
		assert_int_equal(tpl_header_address(&b, "To", &a, false, NULL), TPL_OK);
		assert_string_equal(b.data, cases[i].want);
		m.to = a;
		tpl_buf_reset(&msg);
		assert_int_equal(tpl_message_build(&m, &msg, NULL, NULL), TPL_OK);
		json_open(&j);
		json_key(&j, "to_local", cases[i].local);
		if (cases[i].name != NULL && cases[i].name[0] != '\0')
			json_key(&j, "to_name", cases[i].name);
		json_close(&j);
		assert_int_equal(mime_check(&msg, &j), 0);
	}
	/* malformed addresses and names are refused, with a reason */
	{
		static const char *const bad[] = {"no-at-sign",	    "a@b..c", "a\r\n@x.jp",
						  "@x.jp",	    "a@",     "日本@x.jp",
						  "a@exa mple.com", NULL};
		char *err = NULL;

		for (i = 0; bad[i] != NULL; i++) {
			a.name = "x";
			a.addr = bad[i];
			assert_int_equal(tpl_header_address(&b, "To", &a, false, &err), TPL_EINVAL);
			assert_non_null(err);
			free(err);
			err = NULL;
		}
		a.addr = "ok@example.com";
		assert_int_equal(tpl_header_address(&b, "Bad Name", &a, false, NULL), TPL_EINVAL);
	}
	tpl_buf_free(&b);
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
}

static void test_reserved_and_bad_headers(void **state)
{
	struct tpl_header h[1] = {{"Content-Type", "text/plain"}};
	struct tpl_message m = {.from = {"", "news@hato.example"},
				.to = {"", "u@example.com"},
				.subject = "s",
				.headers = h,
				.nheaders = 1};
	struct tpl_buf msg = {0};
	char *err = NULL;

	(void)state;
	assert_int_equal(tpl_message_build(&m, &msg, NULL, &err), TPL_EINVAL);
	assert_string_equal(err, "the header \"Content-Type\" can't be given as an extra header");
	free(err);
	err = NULL;
	h[0].name = "X-Bad: Name";
	assert_int_equal(tpl_message_build(&m, &msg, NULL, &err), TPL_EINVAL);
	free(err);
	err = NULL;
	m.nheaders = 0;
	m.text = "bad \xff utf8";
	m.text_len = strlen(m.text);
	assert_int_equal(tpl_message_build(&m, &msg, NULL, &err), TPL_EENCODING);
	free(err);
	tpl_buf_free(&msg);
}

/* The expected form of a header value after cleaning: controls gone, tabs
 * and line breaks (CRLF as one) made spaces, ends trimmed. */
static char *cleaned(const char *s)
{
	struct tpl_buf b = {0};
	size_t i, start;
	char *r;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' && s[i + 1] == '\n')
			continue;
		if (c == '\t' || c == '\r' || c == '\n')
			tpl_buf_appendc(&b, ' ');
		else if (c >= 0x20 && c != 0x7f)
			tpl_buf_appendc(&b, (char)c);
	}
	tpl_buf_appendc(&b, '\0');
	while (b.len > 1 && b.data[b.len - 2] == ' ')
		b.data[--b.len - 1] = '\0';
	for (start = 0; b.data[start] == ' '; start++)
		;
	r = strdup(b.data + start);
	tpl_buf_free(&b);
	return r;
}

static void test_header_injection(void **state)
{
	static const char *const patterns[] = {
	    "Eve\r\nBcc: x@evil.example\r\n",
	    "\n\rBcc: y@evil.example\n",
	    "名前\r\nBcc: z@evil.example\x01\x1b\x7f\t",
	    "a\r\n\r\nbody injection\r\n.\r\n",
	};
	static const size_t lens[] = {1,  2,   3,   7,	 10,  60,  75,	 76,   77,    78,
				      79, 100, 500, 997, 998, 999, 1000, 4000, 100000};
	struct tpl_buf msg = {0}, j = {0}, v = {0};
	size_t p, l, i;

	(void)state;
	for (p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct tpl_message m = {
			    .text = "t\n", .text_len = 2, .html = "h", .html_len = 1};
			char *want;

			/* whole repetitions of the pattern, then ASCII padding: the
			 * value stays valid UTF-8 */
			tpl_buf_reset(&v);
			while (v.len + strlen(patterns[p]) <= lens[l])
				tpl_buf_appends(&v, patterns[p]);
			for (i = v.len; i < lens[l]; i++)
				tpl_buf_appendc(&v, (char)('a' + i % 26));
			m.from.name = v.data;
			m.from.addr = "news@hato.example";
			m.to.name = v.data;
			m.to.addr = "user@example.com";
			m.subject = v.data;
			tpl_buf_reset(&msg);
			assert_int_equal(tpl_message_build(&m, &msg, NULL, NULL), TPL_OK);
			want = cleaned(v.data);
			json_open(&j);
			json_key(&j, "subject", want);
			json_key(&j, "to_local", "user");
			json_key(&j, "from_local", "news");
			if (want[0] != '\0') {
				json_key(&j, "from_name", want);
				json_key(&j, "to_name", want);
			}
			json_raw(&j, "header_names", std_names);
			json_close(&j);
			if (mime_check(&msg, &j) != 0) {
				fprintf(stderr, "pattern %zu, length %zu\n", p, lens[l]);
				fail();
			}
			free(want);
		}
	}
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
	tpl_buf_free(&v);
}

static void test_long_japanese_subject(void **state)
{
	struct tpl_buf s = {0}, msg = {0}, j = {0};
	struct tpl_message m = {.from = {"配信", "news@hato.example"},
				.to = {"", "u@example.com"},
				.text = "",
				.html = ""};
	size_t i;

	(void)state;
	for (i = 0; i < 20000; i++)
		tpl_buf_appends(&s, i % 7 == 0 ? "🕊" : i % 3 ? "あ" : "x");
	m.subject = s.data;
	assert_int_equal(tpl_message_build(&m, &msg, NULL, NULL), TPL_OK);
	json_open(&j);
	json_key(&j, "subject", s.data);
	json_key(&j, "text", "");
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);
	tpl_buf_free(&s);
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
}

static void test_body_edges(void **state)
{
	static const char text[] =
	    "=\n \n\t\nend with spaces   \n"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\r\ncrlf line\r\n\x01\x7f ctl\nno final newline";
	struct tpl_message m = {.from = {"", "news@hato.example"},
				.to = {"", "u@example.com"},
				.subject = "edges",
				.text = text,
				.text_len = sizeof(text) - 1,
				.html = "lone\rcr and a NUL \0 inside",
				.html_len = 26};
	struct tpl_buf msg = {0}, j = {0};

	(void)state;
	assert_int_equal(tpl_message_build(&m, &msg, NULL, NULL), TPL_OK);
	json_open(&j);
	json_key(&j, "text", text);
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);
	assert_non_null(strstr(msg.data, "lone\r\ncr and a NUL =00 inside"));
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
}

/*
 * QA's case: "From " starting a line of the quoted-printable body, also one
 * a soft line break starts, is written "=46rom ": a mailbox would rewrite
 * it, and the DKIM body hash with it. An independent parser reads it back.
 */
static void test_from_at_line_start(void **state)
{
	char text[400];
	struct tpl_message m = {.from = {"", "news@hato.example"},
				.to = {"", "u@example.com"},
				.subject = "from",
				.html = "<p>h</p>",
				.html_len = 8};
	struct tpl_buf msg = {0}, j = {0};

	(void)state;
	snprintf(text, sizeof(text),
		 "From the start\nand From the middle\n%075dFrom a soft break\n", 0);
	m.text = text;
	m.text_len = strlen(text);
	assert_int_equal(tpl_message_build(&m, &msg, NULL, NULL), TPL_OK);
	assert_null(strstr(msg.data, "\nFrom "));
	assert_non_null(strstr(msg.data, "\r\n=46rom the start\r\n"));
	assert_non_null(strstr(msg.data, "=\r\n=46rom a soft break"));
	json_open(&j);
	json_key(&j, "text", text);
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
}

/* From ハト通信 to 山田 太郎 at a carrier address, ISO-2022-JP asked for. */
static struct tpl_message jis_message(const char *to, const char *subject, const char *text,
				      const char *html)
{
	return (struct tpl_message){.from = {"ハト通信", "news@hato.example"},
				    .to = {"山田 太郎", to},
				    .subject = subject,
				    .text = text,
				    .text_len = strlen(text),
				    .html = html,
				    .html_len = strlen(html),
				    .iso2022jp = true};
}

static void *build_jis(void *arg)
{
	struct tpl_message m =
	    jis_message("hanako@docomo.ne.jp", "お知らせ", "山田様\n", "<p>山田様</p>");
	struct tpl_buf msg = {0};
	bool jis = false;

	(void)arg;
	if (tpl_message_build(&m, &msg, &jis, NULL) != TPL_OK || !jis)
		jis = false;
	tpl_buf_free(&msg);
	return jis ? arg : NULL;
}

/*
 * Threads that compose in ISO-2022-JP and end, as the worker's compose
 * threads do with each campaign: each closes its conversion descriptors as
 * it ends (without, LeakSanitizer fails this test, 64 KiB a thread).
 */
static void test_iso2022jp_threads(void **state)
{
	pthread_t t;
	void *ok = NULL;
	int i, tag;

	(void)state;
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_create(&t, NULL, build_jis, &tag), 0);
		assert_int_equal(pthread_join(t, &ok), 0);
		assert_ptr_equal(ok, &tag);
	}
}

/* One Japanese sentence pair with no space in it, to make a long line of. */
#define PARA                                                                                                                                \
	"年末年始の営業についてお知らせします。十二月二十九日から一月三日までお休みをいただきま" \
	"す。"

/*
 * A text part in ISO-2022-JP with lines over 78 bytes (docomo asks for short
 * lines): wrapped as format=flowed with DelSp=yes, every line at most 78
 * bytes, and the text, as a reader of flowed text joins it (mime_check.py),
 * the same but for trailing spaces; lines starting with a space, ">" or
 * "From " space-stuffed.
 */
static void test_iso2022jp_wrapped(void **state)
{
	/* A tag whose attributes make a long line: broken between them. */
	static const char html[] =
	    "<table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" "
	    "border=\"0\" align=\"center\" class=\"wrapper\" style=\"max-width:600px;\" "
	    "data-note='a \"quoted\" value with spaces'><tr><td "
	    "style=\"padding:24px;color:#222222;\" valign=\"top\">山田様、年末のお知らせです。"
	    "</td></tr></table>\n<p>" PARA PARA PARA PARA PARA PARA PARA PARA PARA PARA "</p>\n";
	/* Text that is not HTML's, and a comment: never broken with a comment. */
	static const char raw[] =
	    "<html><head><title>"
	    "年末年始の営業についてお知らせします。十二月二十九日から一月三日まで"
	    "お休みをいただきます。年末年始の営業についてお知らせします。</"
	    "title><style>p{color:#333}"
	    "</style></head><body><!-- 年末年始の営業についてお知らせします。十二月二十九日から一月"
	    "三日までお休みをいただきます。年末年始の営業についてお知らせします。 "
	    "--><pre>年末年始の"
	    "営業についてお知らせします。十二月二十九日から一月三日までお休みをいただきます。年末年"
	    "始"
	    "の営業についてお知らせします。</pre></body></html>\n";
	struct tpl_buf text = {0}, want = {0}, msg = {0}, j = {0};
	struct tpl_message m;
	bool jis = false;
	int i;

	(void)state;
	tpl_buf_appends(&text, "山田様\n\n");
	for (i = 0; i < 30; i++)
		tpl_buf_appends(&text, "年末のお知らせです。");
	tpl_buf_appends(&text, "\nThe quick brown fox jumps over the lazy dog, and then it jumps "
			       "over the lazy dog again and again.\n");
	tpl_buf_appends(&text, "From the editor: 春のセールは3月1日から3月31日まで、全品20%"
			       "オフでご提供いたします。詳しくはウェブサイトをご覧ください。\n");
	tpl_buf_appends(&text, "> 引用です\n  二つの空白で始まる行\n-- \n署名\n");
	tpl_buf_appends(&want, text.data);
	tpl_buf_appends(&text, "末尾の空白   \n");
	tpl_buf_appends(&want, "末尾の空白\n");
	tpl_buf_appends(&text,
			"https://example.com/a/very/long/path/that/has/no/space/in/it/at/all/"
			"and/goes/on/for/a/while/yet\n");
	tpl_buf_appends(&want,
			"https://example.com/a/very/long/path/that/has/no/space/in/it/at/all/"
			"and/goes/on/for/a/while/yet\n");
	m = jis_message("hanako@docomo.ne.jp", "お知らせ", text.data, html);
	assert_int_equal(tpl_message_build(&m, &msg, &jis, NULL), TPL_OK);
	assert_true(jis);
	assert_non_null(strstr(msg.data, "charset=ISO-2022-JP;\r\n format=flowed; delsp=yes\r\n"));
	json_open(&j);
	json_key(&j, "text", want.data);
	json_key(&j, "html", html);
	json_key(&j, "charset", "iso-2022-jp");
	json_key(&j, "cte", "7bit");
	tpl_buf_appends(&j, ",\"flowed\":true,\"text_line_max\":78,\"html_line_max\":78,"
			    "\"html_as_parsed\":true");
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);
	m.html = raw;
	m.html_len = strlen(raw);
	tpl_buf_reset(&msg);
	assert_int_equal(tpl_message_build(&m, &msg, &jis, NULL), TPL_OK);
	assert_true(jis);
	tpl_buf_reset(&j);
	json_open(&j);
	json_key(&j, "html", raw);
	tpl_buf_appends(&j, ",\"html_as_parsed\":true");
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);
	tpl_buf_free(&text);
	tpl_buf_free(&want);
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
}

static void test_iso2022jp(void **state)
{
	static const char text[] =
	    "山田様\n\nいつもありがとうございます。\n春のセールのお知らせです。\n";
	static const char html[] = "<p>山田様</p>\n<p>春のセールのお知らせです。</p>\n";
	struct tpl_message m =
	    jis_message("abc.@ezweb.ne.jp", "【ハト通信】春のセールのお知らせ", text, html);
	struct tpl_buf msg = {0}, j = {0};
	bool jis = false;
	size_t offs[4];

	(void)state;
	assert_true(tpl_jis_lossless(text, strlen(text)));
	assert_int_equal(tpl_message_build(&m, &msg, &jis, NULL), TPL_OK);
	assert_true(jis);
	assert_non_null(strstr(msg.data, "=?ISO-2022-JP?B?"));
	assert_non_null(strstr(msg.data, "charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit"));
	json_open(&j);
	json_key(&j, "subject", m.subject);
	json_key(&j, "from_name", "ハト通信");
	json_key(&j, "to_name", "山田 太郎");
	json_key(&j, "to_local", "abc.");
	json_key(&j, "text", text);
	json_key(&j, "html", html);
	json_key(&j, "charset", "iso-2022-jp");
	json_key(&j, "cte", "7bit");
	tpl_buf_appends(&j, ",\"flowed\":false,\"text_line_max\":78");
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);

	/* ① in the body: not lossless, so UTF-8 */
	m.text = "会員番号①のお客様へ\n";
	m.text_len = strlen(m.text);
	tpl_buf_reset(&msg);
	assert_int_equal(tpl_message_build(&m, &msg, &jis, NULL), TPL_OK);
	assert_false(jis);
	assert_null(strstr(msg.data, "ISO-2022-JP"));
	json_open(&j);
	json_key(&j, "subject", m.subject);
	json_key(&j, "text", m.text);
	json_key(&j, "charset", "utf-8");
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);

	/* ㈱ in the sender's name alone is enough to fall back */
	m.text = text;
	m.text_len = strlen(text);
	m.from.name = "㈱ハト";
	tpl_buf_reset(&msg);
	assert_int_equal(tpl_message_build(&m, &msg, &jis, NULL), TPL_OK);
	assert_false(jis);
	json_open(&j);
	json_key(&j, "from_name", "㈱ハト");
	json_key(&j, "text", text);
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);

	assert_int_equal(tpl_jis_unencodable("A①B㈱C", strlen("A①B㈱C"), offs, 4), 2);
	assert_int_equal(offs[0], 1);
	assert_int_equal(offs[1], 5);
	assert_int_equal(
	    tpl_jis_unencodable("漢字かなカナ ABC", strlen("漢字かなカナ ABC"), offs, 4), 0);
	assert_int_equal(tpl_jis_unencodable("ｶﾀｶﾅ", strlen("ｶﾀｶﾅ"), offs, 1), 4);
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
}

/* Builds m: ISO-2022-JP or not as want_jis says, and Python's parser finds
 * html in the HTML part, in charset. */
static void html_is(const struct tpl_message *m, bool want_jis, const char *charset,
		    const char *html)
{
	struct tpl_buf msg = {0}, j = {0};
	bool jis = !want_jis;

	assert_int_equal(tpl_message_build(m, &msg, &jis, NULL), TPL_OK);
	assert_int_equal(jis, want_jis);
	json_open(&j);
	json_key(&j, "charset", charset);
	json_key(&j, "html", html);
	json_close(&j);
	assert_int_equal(mime_check(&msg, &j), 0);
	tpl_buf_free(&msg);
	tpl_buf_free(&j);
}

/* The HTML's <meta> charset says what its MIME part's charset says, however
 * the template wrote it: ISO-2022-JP when the part is, UTF-8 otherwise. */
static void test_meta_charset(void **state)
{
	static const char text[] = "山田様\n春のセールです。\n";
	static const char html[] =
	    "<!DOCTYPE html>\n<html><head>\n<meta charset=\"utf-8\">\n"
	    "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=utf-8\">\n"
	    "</head><body><p>山田様</p><p>charset=utf-8 in the text stays</p></body></html>\n";
	static const char want_jis[] =
	    "<!DOCTYPE html>\n<html><head>\n<meta charset=\"ISO-2022-JP\">\n"
	    "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=ISO-2022-JP\">\n"
	    "</head><body><p>山田様</p><p>charset=utf-8 in the text stays</p></body></html>\n";
	struct tpl_message m = jis_message("a..b@docomo.ne.jp", "春のセール", text, html);

	(void)state;
	html_is(&m, true, "iso-2022-jp", want_jis);
	/* Not lossless (①): UTF-8, and the meta stays as it was. */
	m.subject = "①のお知らせ";
	html_is(&m, false, "utf-8", html);
	/* A template that says another charset is made to say UTF-8. */
	m.html = "<html><head><meta charset='iso-8859-1'></head><body>x</body></html>";
	m.html_len = strlen(m.html);
	m.iso2022jp = false;
	html_is(&m, false, "utf-8",
		"<html><head><meta charset='UTF-8'></head><body>x</body></html>");
}

static void test_date_and_message_id(void **state)
{
	struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 28, .tm_hour = 0};
	char date[40], id[128], id2[128];

	(void)state;
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	tpl_date(timegm(&tm), date);
	assert_string_equal(date, "Sat, 28 Nov 2026 09:00:00 +0900");
	setenv("TZ", "America/St_Johns", 1);
	tzset();
	tpl_date(timegm(&tm), date);
	assert_string_equal(date, "Fri, 27 Nov 2026 20:30:00 -0330");
	unsetenv("TZ");
	tzset();

	assert_int_equal(tpl_message_id("hato.example", id, sizeof(id)), TPL_OK);
	assert_int_equal(tpl_message_id("hato.example", id2, sizeof(id2)), TPL_OK);
	assert_string_not_equal(id, id2);
	assert_int_equal(strlen(id), 1 + 26 + 1 + strlen("hato.example") + 1);
	assert_int_equal(id[0], '<');
	assert_int_equal(id[27], '@');
	assert_int_equal(strspn(id + 1, "abcdefghijklmnopqrstuvwxyz234567"), 26);
	assert_string_equal(id + 27, "@hato.example>");
	assert_int_equal(tpl_message_id("bad domain", id, sizeof(id)), TPL_EINVAL);
	assert_int_equal(tpl_message_id("hato.example", id, 20), TPL_EINVAL);
}

/* A forked child (a worker started from the UI) must not repeat its parent's Message-IDs. */
static void test_message_id_after_fork(void **state)
{
	char parent[128], child[128] = {0};
	int fds[2], status = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(tpl_message_id("hato.example", parent, sizeof(parent)), TPL_OK);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char id[128];

		close(fds[0]);
		if (tpl_message_id("hato.example", id, sizeof(id)) != TPL_OK ||
		    write(fds[1], id, strlen(id)) != (ssize_t)strlen(id))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	assert_true(read(fds[0], child, sizeof(child) - 1) > 0);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(tpl_message_id("hato.example", parent, sizeof(parent)), TPL_OK);
	/* the parent's next identifier is not the child's */
	assert_string_not_equal(parent, child);
}

static void test_unstructured_folding(void **state)
{
	struct tpl_buf b = {0};
	const char *p;

	(void)state;
	assert_int_equal(tpl_header_unstructured(&b, "Subject",
						 "one two three four five six seven eight nine ten "
						 "eleven twelve thirteen fourteen fifteen sixteen",
						 false),
			 TPL_OK);
	assert_string_equal(b.data, "Subject: one two three four five six seven eight nine ten "
				    "eleven twelve\r\n thirteen fourteen fifteen sixteen\r\n");
	tpl_buf_reset(&b);
	/* something that looks like an encoded-word is encoded, not passed on */
	assert_int_equal(tpl_header_unstructured(&b, "Subject", "=?UTF-8?B?5pel?=", false), TPL_OK);
	assert_string_equal(b.data, "Subject: =?UTF-8?B?PT9VVEYtOD9CPzVwZWw/PQ==?=\r\n");
	for (p = b.data; *p != '\0'; p++)
		assert_true(*p != '\n' || p[-1] == '\r');
	tpl_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_japanese_message),
	    cmocka_unit_test(test_iso2022jp_threads),
	    cmocka_unit_test(test_iso2022jp_wrapped),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_reserved_and_bad_headers),
	    cmocka_unit_test(test_header_injection),
	    cmocka_unit_test(test_long_japanese_subject),
	    cmocka_unit_test(test_body_edges),
	    cmocka_unit_test(test_from_at_line_start),
	    cmocka_unit_test(test_iso2022jp),
	    cmocka_unit_test(test_meta_charset),
	    cmocka_unit_test(test_date_and_message_id),
	    cmocka_unit_test(test_message_id_after_fork),
	    cmocka_unit_test(test_unstructured_folding),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
