/*
 * tests/send/test_report.c: the reader of bounce and complaint reports
 * (send/report.c) and the checks `bounce read` makes of what it read: a DSN
 * whose recipients failed with 5.1.1 and were delayed with 4.2.2, a 5.7.1
 * block, an ARF complaint, VERP tokens with good and bad MACs, folded
 * headers, a base64 report part, and input that is no report at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "send/send.h"
#include "templates/templates.h"
#include "store/store.h"

static struct send_report *parse_ok(const char *msg)
{
	struct send_report *r = NULL;
	char *err = NULL;

	assert_int_equal(send_report_parse(msg, strlen(msg), &r, &err), SEND_OK);
	assert_null(err);
	assert_non_null(r);
	return r;
}

static void parse_bad(const char *msg, size_t n)
{
	struct send_report *r = NULL;
	char *err = NULL;

	assert_int_equal(send_report_parse(msg, n, &r, &err), SEND_EINVAL);
	assert_null(r);
	assert_non_null(err);
	free(err);
}

#define DSN_HEAD                                                                                   \
	"Return-Path: <>\r\n"                                                                      \
	"Delivered-To: b+3.17.0123456789abcdef@bounce.example.com\r\n"                             \
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"                            \
	"To: b+3.17.0123456789abcdef@bounce.example.com\r\n"                                       \
	"Subject: Undelivered Mail Returned to Sender\r\n"                                         \
	"MIME-Version: 1.0\r\n"

static const char dsn_two[] =
    DSN_HEAD "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	     "\tboundary=\"=_b1 x\"\r\n"
	     "\r\n"
	     "This is a MIME message.\r\n"
	     "--=_b1 x\r\n"
	     "Content-Type: text/plain\r\n"
	     "\r\n"
	     "Final-Recipient: rfc822; not-this@example.org\r\n"
	     "--=_b1 x\r\n"
	     "Content-Type: message/delivery-status\r\n"
	     "\r\n"
	     "Reporting-MTA: dns; mx.example.net\r\n"
	     "\r\n"
	     "Final-Recipient: rfc822; gone@example.org\r\n"
	     "Original-Recipient: rfc822;Gone@Example.org\r\n"
	     "Action: Failed\r\n"
	     "Status: 5.1.1 (no such user)\r\n"
	     "\r\n"
	     "Final-Recipient: rfc822;\r\n"
	     " full@example.org\r\n"
	     "Action: delayed\r\n"
	     "Status: 4.2.2\r\n"
	     "--=_b1 x\r\n"
	     "Content-Type: text/rfc822-headers\r\n"
	     "\r\n"
	     "Return-Path: <b+3.17.fedcba9876543210@bounce.example.com>\r\n"
	     "To: gone@example.org\r\n"
	     "--=_b1 x--\r\n"
	     "epilogue\r\n";

static void test_dsn_two_recipients(void **state)
{
	struct send_report *r = parse_ok(dsn_two);

	(void)state;
	assert_int_equal(r->kind, SEND_REPORT_DSN);
	assert_int_equal(r->nrcpts, 2);
	assert_string_equal(r->rcpts[0].final_recipient, "gone@example.org");
	assert_string_equal(r->rcpts[0].original_recipient, "Gone@Example.org");
	assert_string_equal(r->rcpts[0].action, "failed");
	assert_string_equal(r->rcpts[0].status, "5.1.1");
	assert_true(send_report_bad_address(r->rcpts[0].status));
	/* A folded Final-Recipient, unfolded. */
	assert_string_equal(r->rcpts[1].final_recipient, "full@example.org");
	assert_string_equal(r->rcpts[1].action, "delayed");
	assert_string_equal(r->rcpts[1].status, "4.2.2");
	assert_false(send_report_bad_address(r->rcpts[1].status));
	/* VERP candidates: Delivered-To, To, then the returned message's Return-Path. */
	assert_int_equal(r->nverp, 3);
	assert_string_equal(r->verp[2], "b+3.17.fedcba9876543210@bounce.example.com");
	assert_string_equal(r->returned_to, "gone@example.org");
	send_report_free(&r);
	assert_null(r);
}

static void test_status_rule(void **state)
{
	(void)state;
	/* The rule of the synchronous path (store_reply_bad_address). */
	assert_true(send_report_bad_address("5.1.1"));
	assert_true(send_report_bad_address("5.1.10"));
	assert_false(send_report_bad_address("5.1.7"));
	assert_false(send_report_bad_address("5.1.8"));
	assert_false(send_report_bad_address("5.7.1"));
	assert_false(send_report_bad_address("4.1.1"));
	assert_false(send_report_bad_address("5.2.2"));
	assert_false(send_report_bad_address("5.1.1x"));
	assert_false(send_report_bad_address(""));
	assert_false(send_report_bad_address(NULL));
}

static void test_dsn_policy_block(void **state)
{
	const char *msg =
	    "To: postmaster@example.com\n"
	    "Content-Type: Multipart/Report; boundary=XYZ; Report-Type=\"delivery-status\"\n"
	    "\n"
	    "--XYZ\n"
	    "Content-Type: message/delivery-status; charset=us-ascii\n"
	    "\n"
	    "Reporting-MTA: dns; mx.example.net\n"
	    "\n"
	    "Final-Recipient: RFC822; blocked@example.org\n"
	    "Action: failed\n"
	    "Status: 5.7.1\n"
	    "--XYZ--\n";
	struct send_report *r = parse_ok(msg);

	(void)state;
	assert_int_equal(r->nrcpts, 1);
	assert_string_equal(r->rcpts[0].status, "5.7.1");
	assert_false(send_report_bad_address(r->rcpts[0].status));
	send_report_free(&r);
}

static const char arf[] = "From: <abuse@isp.example>\r\n"
			  "To: b+4.22.0011223344556677@bounce.example.com\r\n"
			  "Subject: FW: Newsletter\r\n"
			  "MIME-Version: 1.0\r\n"
			  "Content-Type: multipart/report; report-type=feedback-report;\r\n"
			  "     boundary=\"part1_13d.2e68ed54_boundary\"\r\n"
			  "\r\n"
			  "--part1_13d.2e68ed54_boundary\r\n"
			  "Content-Type: text/plain; charset=\"US-ASCII\"\r\n"
			  "\r\n"
			  "This is an email abuse report.\r\n"
			  "--part1_13d.2e68ed54_boundary\r\n"
			  "Content-Type: message/feedback-report\r\n"
			  "\r\n"
			  "Feedback-Type: abuse\r\n"
			  "User-Agent: SomeGenerator/1.0\r\n"
			  "Version: 1\r\n"
			  "Original-Mail-From: <b+4.22.8899aabbccddeeff@bounce.example.com>\r\n"
			  "Original-Rcpt-To: <angry@example.org>\r\n"
			  "\r\n"
			  "--part1_13d.2e68ed54_boundary\r\n"
			  "Content-Type: message/rfc822\r\n"
			  "Content-Disposition: inline\r\n"
			  "\r\n"
			  "Return-Path: <b+4.22.8899aabbccddeeff@bounce.example.com>\r\n"
			  "From: News <news@example.com>\r\n"
			  "To: Angry Person <angry@example.org>\r\n"
			  "Subject: News\r\n"
			  "\r\n"
			  "Hello.\r\n"
			  "--part1_13d.2e68ed54_boundary--\r\n";

static void test_arf(void **state)
{
	struct send_report *r = parse_ok(arf);

	(void)state;
	assert_int_equal(r->kind, SEND_REPORT_ARF);
	assert_string_equal(r->feedback_type, "abuse");
	assert_string_equal(r->arf_rcpt, "angry@example.org");
	assert_string_equal(r->returned_to, "angry@example.org");
	assert_int_equal(r->nrcpts, 0);
	/* To, Original-Mail-From, the returned Return-Path. */
	assert_int_equal(r->nverp, 3);
	assert_string_equal(r->verp[1], "b+4.22.8899aabbccddeeff@bounce.example.com");
	send_report_free(&r);
}

static void test_verp_mac(void **state)
{
	unsigned char key[32], other[32];
	char verp[300], bad[300];
	int64_t c = 0, s = 0;
	size_t at;

	(void)state;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(other, sizeof(other));
	send_verp(key, "bounce.example.com", 12, 345, verp, sizeof(verp));
	assert_true(send_verp_check(key, verp, &c, &s));
	assert_int_equal(c, 12);
	assert_int_equal(s, 345);
	/* The MAC in upper case is the same MAC. */
	snprintf(bad, sizeof(bad), "%s", verp);
	for (at = 0; bad[at] != '@'; at++)
		if (bad[at] >= 'a' && bad[at] <= 'f')
			bad[at] = (char)(bad[at] - 'a' + 'A');
	assert_true(send_verp_check(key, bad, &c, &s));
	/* Another key's token, one changed MAC digit, another subscriber's id. */
	c = s = 0;
	assert_false(send_verp_check(other, verp, &c, &s));
	snprintf(bad, sizeof(bad), "%s", verp);
	at = (size_t)(strchr(bad, '@') - bad) - 1;
	bad[at] = bad[at] == '0' ? '1' : '0';
	assert_false(send_verp_check(key, bad, &c, &s));
	snprintf(bad, sizeof(bad), "b+12.346.%s", strchr(verp, '.') + 5);
	assert_false(send_verp_check(key, bad, &c, &s));
	assert_int_equal(c, 0);
	assert_int_equal(s, 0);
	assert_false(send_verp_check(key, "b+12.345.0011@x", &c, &s));
	assert_false(send_verp_check(key, "b+1.-2.0011223344556677@x", &c, &s));
	assert_false(send_verp_check(key, "news@example.com", &c, &s));
	assert_false(send_verp_check(key, NULL, &c, &s));
}

static void test_base64_report_part(void **state)
{
	const char *body = "Reporting-MTA: dns; mx.example.net\r\n"
			   "\r\n"
			   "Final-Recipient: rfc822; b64@example.org\r\n"
			   "Action: failed\r\n"
			   "Status: 5.1.1\r\n";
	char b64[512], msg[2048];
	struct send_report *r;

	(void)state;
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)body, strlen(body),
			  sodium_base64_VARIANT_ORIGINAL);
	/* Split into lines of 76, as a mailer writes it. */
	snprintf(msg, sizeof(msg),
		 "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n"
		 "\n--b\nContent-Type: message/delivery-status\n"
		 "Content-Transfer-Encoding: BASE64\n\n%.76s\n%s\n--b--\n",
		 b64, b64 + 76);
	r = parse_ok(msg);
	assert_int_equal(r->nrcpts, 1);
	assert_string_equal(r->rcpts[0].final_recipient, "b64@example.org");
	assert_string_equal(r->rcpts[0].status, "5.1.1");
	send_report_free(&r);
	/* Quoted-printable too. */
	r = parse_ok("Content-Type: multipart/report; report-type=delivery-status; boundary=b\n"
		     "\n--b\nContent-Type: message/delivery-status\n"
		     "Content-Transfer-Encoding: quoted-printable\n\n"
		     "Final-Recipient: rfc822; qp=40example.org\n"
		     "Action: fai=\nled\nStatus: 5.1.1\n--b--\n");
	assert_string_equal(r->rcpts[0].final_recipient, "qp@example.org");
	assert_string_equal(r->rcpts[0].action, "failed");
	send_report_free(&r);
	/* QA's case: a folded X- field of 10 KB (Exchange's come close) is cut, not fatal. */
	{
		struct tpl_buf big = {0};

		tpl_buf_appends(&big, "X-Long: a");
		for (int i = 0; i < 200; i++)
			tpl_buf_appends(&big,
					"\n xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		tpl_buf_appends(&big,
				"\nContent-Type: multipart/report; report-type=delivery-status; "
				"boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n"
				"Final-Recipient: rfc822; long@example.org\nAction: failed\n"
				"Status: 5.1.1\n--b--\n");
		r = parse_ok(big.data);
		assert_string_equal(r->rcpts[0].final_recipient, "long@example.org");
		send_report_free(&r);
		tpl_buf_free(&big);
	}
	/* RFC 6533's form, for mail to a Unicode address: read as the classic one. */
	r = parse_ok("Content-Type: multipart/report; report-type=global-delivery-status; "
		     "boundary=b\n\n--b\nContent-Type: message/global-delivery-status\n\n"
		     "Final-Recipient: utf-8; 山田@example.org\nAction: failed\nStatus: 5.1.1\n"
		     "--b\nContent-Type: message/global-headers\n\n"
		     "Return-Path: <b+3.17.0123456789abcdef@bounce.example.com>\n--b--\n");
	assert_int_equal(r->kind, SEND_REPORT_DSN);
	assert_int_equal(r->nrcpts, 1);
	assert_string_equal(r->rcpts[0].final_recipient, "山田@example.org");
	assert_string_equal(r->rcpts[0].status, "5.1.1");
	send_report_free(&r);
}

static void test_not_a_report(void **state)
{
	static const char nul[] = "Content-Type: multipart/report; report-type=delivery-status; "
				  "boundary=b\n\n--b\0\n";
	char *big;

	(void)state;
	parse_bad("", 0);
	parse_bad("garbage\x01\xff\n\n", 12);
	parse_bad("Subject: hello\n\nHello.\n", 23);
	/* multipart/mixed, no report-type, no boundary, another report-type. */
	parse_bad("Content-Type: multipart/mixed; boundary=b\n\n--b\n\n--b--\n", 54);
	parse_bad("Content-Type: multipart/report; boundary=b\n\n--b--\n", 49);
	parse_bad("Content-Type: multipart/report; report-type=delivery-status\n\nx\n", 63);
	parse_bad("Content-Type: multipart/report; report-type=disposition-notification; "
		  "boundary=b\n\n--b--\n",
		  88);
	/* A report without its report part; a bad base64 report part. */
	parse_bad("Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
		  "--b\nContent-Type: text/plain\n\nhi\n--b--\n",
		  109);
	parse_bad(
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
	    "--b\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
	    "!!!!\n--b--\n",
	    146);
	parse_bad(nul, sizeof(nul) - 1);
	/* Over the limit. */
	big = malloc(SEND_REPORT_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', SEND_REPORT_MAX + 1);
	parse_bad(big, SEND_REPORT_MAX + 1);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dsn_two_recipients), cmocka_unit_test(test_status_rule),
	    cmocka_unit_test(test_dsn_policy_block),   cmocka_unit_test(test_arf),
	    cmocka_unit_test(test_verp_mac),	       cmocka_unit_test(test_base64_report_part),
	    cmocka_unit_test(test_not_a_report),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
