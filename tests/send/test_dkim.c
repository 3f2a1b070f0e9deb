/*
 * tests/send/test_dkim.c: DKIM keys, TXT records and signatures. Every
 * signature is checked by dkimpy (tests/send/dkim_verify.py), a verifier we
 * did not write. Run from the top of the tree, or set HATO_SRCDIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "send/send.h"

struct keys {
	char *rsa_pem, *rsa_txt, *ed_pem, *ed_txt;
	char dir[64];
};

static struct keys K;

/* A realistic campaign message: RFC 2047 Japanese subject, multipart/alternative, QP. */
static const char MSG[] =
    "Return-Path: <b+tok123@bounce.example.com>\r\n"
    "Received: from localhost by mx.example.com; Sat, 28 Nov 2026 09:00:00 +0900\r\n"
    "From: =?UTF-8?B?44OP44OI44K344On44OD44OX?= <news@example.com>\r\n"
    "To: taro@example.jp\r\n"
    "Subject: =?UTF-8?B?44CQ44GK55+l44KJ44Gb44CR5pil44Gu?=\r\n"
    " =?UTF-8?B?44K744O844Or44KS6ZaL5YKs44GX44G+44GZ?=\r\n"
    "Date: Sat, 28 Nov 2026 09:00:00 +0900\r\n"
    "Message-ID: <3f9a1c2e7b@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "List-Unsubscribe: <https://example.com/u/AbC123>,\r\n"
    " <mailto:unsubscribe@example.com?subject=unsubscribe>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "List-Id: Spring news <news.example.com>\r\n"
    "Feedback-ID: c42:news:hato\r\n"
    "Content-Type: multipart/alternative; boundary=\"b1_hato\"\r\n"
    "\r\n"
    "--b1_hato\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "=E3=81=84=E3=81=A4=E3=82=82=E3=81=94=E5=88=A9=E7=94=A8=E3=81=82=E3=82=8A=E3=\r\n"
    "=81=8C=E3=81=A8=E3=81=86=E3=81=94=E3=81=96=E3=81=84=E3=81=BE=E3=81=99=E3=80=\r\n"
    "=82=E6=98=A5=E3=81=AE=E3=82=BB=E3=83=BC=E3=83=AB=E3=82=923=E6=9C=8831=E6=97=\r\n"
    "=A5=E3=81=BE=E3=81=A7=E9=96=8B=E5=82=AC=E3=81=97=E3=81=A6=E3=81=84=E3=81=BE=\r\n"
    "=E3=81=99=E3=80=82\r\n"
    "\r\n"
    "https://example.com/u/AbC123\r\n"
    "\r\n"
    "--b1_hato\r\n"
    "Content-Type: text/html; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<html><body><p>=E6=98=A5=E3=81=AE=E3=82=BB=E3=83=BC=E3=83=AB</p>\r\n"
    "<p><a href=3D\"https://example.com/u/AbC123\">unsubscribe</a></p></body></html>\r\n"
    "\r\n"
    "--b1_hato--\r\n";

static int setup(void **state)
{
	(void)state;
	if (send_dkim_keygen(SEND_DKIM_RSA_SHA256, 0, &K.rsa_pem, &K.rsa_txt, NULL) != SEND_OK)
		return -1;
	if (send_dkim_keygen(SEND_DKIM_ED25519_SHA256, 0, &K.ed_pem, &K.ed_txt, NULL) != SEND_OK)
		return -1;
	snprintf(K.dir, sizeof(K.dir), "/tmp/hato-dkim-XXXXXX");
	if (mkdtemp(K.dir) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	send_secret_free(&K.rsa_pem);
	send_secret_free(&K.ed_pem);
	free(K.rsa_txt);
	free(K.ed_txt);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", K.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Runs dkim_verify.py on a message; returns its exit status. */
static int verify(const char *msg, size_t len, const char *algs)
{
	char mpath[128], rpath[128], script[512], *recs = NULL;
	const char *srcdir = getenv("HATO_SRCDIR");
	int status = -1;
	pid_t pid;

	snprintf(mpath, sizeof(mpath), "%s/msg.eml", K.dir);
	snprintf(rpath, sizeof(rpath), "%s/records", K.dir);
	snprintf(script, sizeof(script), "%s/tests/send/dkim_verify.py",
		 srcdir != NULL ? srcdir : ".");
	assert_int_equal(access(script, R_OK), 0);
	write_file(mpath, msg, len);
	assert_true(asprintf(&recs,
			     "rsa._domainkey.example.com\t%s\ned._domainkey.example.com\t%s\n",
			     K.rsa_txt, K.ed_txt) > 0);
	write_file(rpath, recs, strlen(recs));
	free(recs);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		if (algs != NULL)
			execl("/usr/bin/python3", "python3", script, mpath, rpath, "--algs", algs,
			      (char *)NULL);
		else
			execl("/usr/bin/python3", "python3", script, mpath, rpath, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static struct send_dkim *signer(int which)
{
	struct send_dkim_key keys[2], *k = keys;
	struct send_dkim *d = NULL;
	char *err = NULL;

	if (which & 1)
		*k++ =
		    (struct send_dkim_key){"example.com", "rsa", SEND_DKIM_RSA_SHA256, K.rsa_pem};
	if (which & 2)
		*k++ =
		    (struct send_dkim_key){"example.com", "ed", SEND_DKIM_ED25519_SHA256, K.ed_pem};
	assert_int_equal(send_dkim_new(keys, (size_t)(k - keys), &d, &err), SEND_OK);
	assert_null(err);
	return d;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_keygen_rsa(void **state)
{
	char *txt = NULL;
	enum send_dkim_alg alg = SEND_DKIM_ED25519_SHA256;
	const char *p;
	unsigned char der[600];
	const unsigned char *dp = der;
	EVP_PKEY *pub;
	int n;

	(void)state;
	assert_true(strncmp(K.rsa_pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	assert_true(strncmp(K.rsa_txt, "v=DKIM1; k=rsa; p=", 18) == 0);
	/* the TXT value can be derived again from the stored private key */
	assert_int_equal(send_dkim_public_txt(K.rsa_pem, &alg, &txt, NULL), SEND_OK);
	assert_string_equal(txt, K.rsa_txt);
	assert_int_equal(alg, SEND_DKIM_RSA_SHA256);
	free(txt);
	/* p= is a base64 SubjectPublicKeyInfo of a 2048-bit RSA key */
	p = K.rsa_txt + 18;
	n = EVP_DecodeBlock(der, (const unsigned char *)p, (int)strlen(p));
	assert_true(n > 270);
	pub = d2i_PUBKEY(NULL, &dp, n - (p[strlen(p) - 1] == '=') - (p[strlen(p) - 2] == '='));
	assert_non_null(pub);
	assert_true(EVP_PKEY_is_a(pub, "RSA"));
	assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
	EVP_PKEY_free(pub);
}

static void test_keygen_ed25519(void **state)
{
	unsigned char raw[48];
	const char *p = K.ed_txt + strlen("v=DKIM1; k=ed25519; p=");
	char *txt = NULL;

	(void)state;
	assert_true(strncmp(K.ed_pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	assert_true(strncmp(K.ed_txt, "v=DKIM1; k=ed25519; p=", 22) == 0);
	/* 32 raw bytes: 44 base64 characters ending in one '=' */
	assert_int_equal(strlen(p), 44);
	assert_int_equal(EVP_DecodeBlock(raw, (const unsigned char *)p, 44), 33);
	assert_int_equal(send_dkim_public_txt(K.ed_pem, NULL, &txt, NULL), SEND_OK);
	assert_string_equal(txt, K.ed_txt);
	free(txt);
}

static void test_keygen_refuses_weak_rsa(void **state)
{
	char *pem = NULL, *txt = NULL, *err = NULL;

	(void)state;
	assert_int_equal(send_dkim_keygen(SEND_DKIM_RSA_SHA256, 512, &pem, &txt, &err),
			 SEND_EINVAL);
	assert_null(pem);
	assert_null(txt);
	assert_non_null(strstr(err, "1024"));
	free(err);
	err = NULL;
	assert_int_equal(send_dkim_keygen(SEND_DKIM_RSA_SHA256, 1023, &pem, &txt, NULL),
			 SEND_EINVAL);
	assert_int_equal(send_dkim_keygen(SEND_DKIM_RSA_SHA256, 1024, &pem, &txt, &err), SEND_OK);
	assert_null(err);
	send_secret_free(&pem);
	assert_null(pem);
	free(txt);
}

static void test_dns_record_split(void **state)
{
	char *name = NULL, *value = NULL, **parts = NULL, joined[1024] = "";
	size_t n;

	(void)state;
	assert_int_equal(send_txt_split(K.rsa_txt, 0, &parts, NULL), SEND_OK);
	n = 0;
	for (; parts[n] != NULL; n++) {
		assert_true(strlen(parts[n]) <= 255);
		strncat(joined, parts[n], sizeof(joined) - strlen(joined) - 1);
	}
	assert_int_equal(n, 2); /* a 2048-bit key needs two strings */
	assert_int_equal(strlen(parts[0]), 255);
	assert_string_equal(joined, K.rsa_txt);
	send_strv_free(&parts);
	assert_null(parts);

	assert_int_equal(send_dkim_dns_record("rsa", "example.com", K.rsa_txt, &name, &value, NULL),
			 SEND_OK);
	assert_string_equal(name, "rsa._domainkey.example.com");
	assert_true(value[0] == '"' && value[strlen(value) - 1] == '"');
	assert_non_null(strstr(value, "\" \""));
	assert_int_equal(count(value, "\""), 4);
	assert_int_equal(strlen(value), strlen(K.rsa_txt) + 5);
	free(name);
	free(value);

	/* an Ed25519 key fits one string; quotes and backslashes are escaped */
	assert_int_equal(send_dkim_dns_record("ed", "example.com", "a\"b\\c", &name, &value, NULL),
			 SEND_OK);
	assert_string_equal(value, "\"a\\\"b\\\\c\"");
	free(name);
	free(value);

	assert_int_equal(send_txt_split("abcdefg", 3, &parts, NULL), SEND_OK);
	assert_string_equal(parts[0], "abc");
	assert_string_equal(parts[1], "def");
	assert_string_equal(parts[2], "g");
	assert_null(parts[3]);
	send_strv_free(&parts);
	assert_int_equal(send_txt_split("bad\nvalue", 0, &parts, NULL), SEND_EINVAL);
	assert_int_equal(
	    send_dkim_dns_record("bad_sel", "example.com", "v=DKIM1", &name, &value, NULL),
	    SEND_EINVAL);
	assert_null(name);
}

static void test_name_check(void **state)
{
	static const char *good[] = {"example.com", "a.b-c.example.co.jp", "s2026", "xn--wgv71a.jp",
				     "sel.sub"};
	static const char *bad[] = {"",	      "-a.com",	      "a-.com",	      "a..com",	 "a.com.",
				    ".a.com", "exa_mple.com", "ex ample.com", "例え.jp", "a.com\n"};
	char label[80];
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_int_equal(send_name_check("domain", good[i], NULL), SEND_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(send_name_check("domain", bad[i], NULL), SEND_EINVAL);
	memset(label, 'a', 64);
	memcpy(label + 64, ".com", 5);
	assert_int_equal(send_name_check("domain", label, &err), SEND_EINVAL);
	assert_non_null(strstr(err, "63"));
	free(err);
	label[63] = '\0';
	assert_int_equal(send_name_check("selector", label, NULL), SEND_OK);
}

static void sign_and_check(int which, const char *algs, size_t nsig)
{
	struct send_dkim *d = signer(which);
	char *out = NULL, *err = NULL;
	size_t len = 0;

	assert_int_equal(send_dkim_sign(d, MSG, sizeof(MSG) - 1, &out, &len, &err), SEND_OK);
	assert_null(err);
	assert_int_equal(strlen(out), len);
	assert_int_equal(count(out, "DKIM-Signature: "), nsig);
	assert_true(strncmp(out, "DKIM-Signature: v=1; a=", 23) == 0);
	/* the message follows the signatures unchanged */
	assert_string_equal(out + len - (sizeof(MSG) - 1), MSG);
	assert_null(strstr(out, "; l="));
	assert_int_equal(verify(out, len, algs), 0);
	free(out);
	send_dkim_free(&d);
	assert_null(d);
}

static void test_sign_rsa(void **state)
{
	(void)state;
	sign_and_check(1, "rsa-sha256", 1);
}

static void test_sign_ed25519(void **state)
{
	(void)state;
	sign_and_check(2, "ed25519-sha256", 1);
}

static void test_sign_dual(void **state)
{
	(void)state;
	sign_and_check(3, "rsa-sha256,ed25519-sha256", 2);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *r = NULL;

	assert_non_null(p);
	assert_true(asprintf(&r, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from)) > 0);
	return r;
}

static void test_tampering_fails(void **state)
{
	struct send_dkim *d = signer(3);
	char *out = NULL, *bad;
	size_t len = 0;

	(void)state;
	assert_int_equal(send_dkim_sign(d, MSG, sizeof(MSG) - 1, &out, &len, NULL), SEND_OK);
	assert_int_equal(verify(out, len, NULL), 0);

	/* one character of the body changed */
	bad = replace(out, "https://example.com/u/AbC123\r\n\r\n--b1",
		      "https://evil.example/u/AbC123\r\n\r\n--b1");
	assert_int_equal(verify(bad, strlen(bad), NULL), 1);
	free(bad);

	/* a second Subject added above the signed one: oversigning catches it */
	bad = replace(out, "Return-Path:", "Subject: You won a prize\r\nReturn-Path:");
	assert_int_equal(verify(bad, strlen(bad), NULL), 1);
	free(bad);

	/* ... and one added at the bottom of the header */
	bad = replace(out, "Content-Type: multipart/alternative; boundary=\"b1_hato\"\r\n\r\n",
		      "Content-Type: multipart/alternative; boundary=\"b1_hato\"\r\n"
		      "Subject: You won a prize\r\n\r\n");
	assert_int_equal(verify(bad, strlen(bad), NULL), 1);
	free(bad);

	/* a Reply-To added afterwards (the message had none) */
	bad = replace(out, "Return-Path:", "Reply-To: thief@evil.example\r\nReturn-Path:");
	assert_int_equal(verify(bad, strlen(bad), NULL), 1);
	free(bad);

	/* the List-Unsubscribe-Post header removed */
	bad = replace(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", "");
	assert_int_equal(verify(bad, strlen(bad), NULL), 1);
	free(bad);

	/* a Received header added in transit does not break anything */
	bad = replace(out, "Return-Path:", "Received: from relay.example.net\r\nReturn-Path:");
	assert_int_equal(verify(bad, strlen(bad), NULL), 0);
	free(bad);
	free(out);
	send_dkim_free(&d);
}

static void test_lf_input_and_reuse(void **state)
{
	struct send_dkim *d = signer(3);
	char *lf = malloc(sizeof(MSG)), *out = NULL;
	size_t j = 0, len = 0;

	(void)state;
	assert_non_null(lf);
	for (size_t i = 0; MSG[i] != '\0'; i++)
		if (MSG[i] != '\r')
			lf[j++] = MSG[i];
	/* the signer is reused: three messages, each verifies */
	for (int round = 0; round < 3; round++) {
		assert_int_equal(send_dkim_sign(d, lf, j, &out, &len, NULL), SEND_OK);
		for (size_t i = 0; i < len; i++)
			if (out[i] == '\n')
				assert_int_equal(out[i - 1], '\r');
		assert_string_equal(out + len - (sizeof(MSG) - 1), MSG);
		assert_int_equal(verify(out, len, "rsa-sha256,ed25519-sha256"), 0);
		free(out);
	}
	free(lf);
	send_dkim_free(&d);
}

static void test_sign_errors(void **state)
{
	struct send_dkim *d = NULL;
	struct send_dkim_key k = {"example.com", "rsa", SEND_DKIM_ED25519_SHA256, NULL};
	char *err = NULL, *out = NULL;
	const char *msg;
	size_t len;

	(void)state;
	/* an RSA key declared as Ed25519 */
	k.private_pem = K.rsa_pem;
	assert_int_equal(send_dkim_new(&k, 1, &d, &err), SEND_EINVAL);
	assert_null(d);
	assert_non_null(strstr(err, "rsa-sha256"));
	assert_null(strstr(err, K.rsa_pem + 28)); /* never the key itself */
	free(err);
	err = NULL;
	/* a damaged key: the error names the problem, not the bytes */
	k.alg = SEND_DKIM_RSA_SHA256;
	k.private_pem =
	    "-----BEGIN PRIVATE KEY-----\nMIIsecretsecretsecret\n-----END PRIVATE KEY-----\n";
	assert_int_equal(send_dkim_new(&k, 1, &d, &err), SEND_EINVAL);
	assert_null(strstr(err, "secret"));
	free(err);
	err = NULL;
	k.private_pem = K.rsa_pem;
	k.selector = "bad selector";
	assert_int_equal(send_dkim_new(&k, 1, &d, NULL), SEND_EINVAL);
	/* a message without From cannot be signed */
	d = signer(1);
	msg = "To: a@b.example\r\n\r\nhi\r\n";
	assert_int_equal(send_dkim_sign(d, msg, strlen(msg), &out, &len, &err), SEND_EINVAL);
	assert_null(out);
	assert_non_null(strstr(err, "From"));
	free(err);
	err = NULL;
	msg = "From a@b.example\r\n\r\nhi\r\n";
	assert_int_equal(send_dkim_sign(d, msg, strlen(msg), &out, &len, &err), SEND_EINVAL);
	assert_non_null(strstr(err, "malformed"));
	free(err);
	send_dkim_free(&d);
	send_dkim_free(&d); /* NULL is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keygen_rsa),
	    cmocka_unit_test(test_keygen_ed25519),
	    cmocka_unit_test(test_keygen_refuses_weak_rsa),
	    cmocka_unit_test(test_dns_record_split),
	    cmocka_unit_test(test_name_check),
	    cmocka_unit_test(test_sign_rsa),
	    cmocka_unit_test(test_sign_ed25519),
	    cmocka_unit_test(test_sign_dual),
	    cmocka_unit_test(test_tampering_fails),
	    cmocka_unit_test(test_lf_input_and_reuse),
	    cmocka_unit_test(test_sign_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
