/*
 * tui/password.c: reading passwords and secret values from a file, stdin or
 * the terminal, never echoed, kept in locked memory and wiped after use.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "tui/cli.h"

#define PW_MAX 1024
#define VALUE_MAX 4095

/* What is being read, for the prompts and the messages. */
struct line_kind {
	const char *what; /* "password", "value" */
	size_t max;	  /* bytes at the most */
};

static const struct line_kind password_kind = {"password", PW_MAX};
static const struct line_kind value_kind = {"value", VALUE_MAX};

void cli_password_free(char **pw)
{
	if (pw != NULL && *pw != NULL) {
		sodium_free(*pw);
		*pw = NULL;
	}
}

/*
 * Reads the first line of fd into buf (k->max + 2 bytes). `prep` and `from`
 * say where it comes from ("in", FILE; "on", "stdin"). Returns 0 or prints why.
 */
static int read_line(int fd, char *buf, const struct line_kind *k, const char *prep,
		     const char *from)
{
	size_t len = 0;
	ssize_t got;
	char c;

	for (;;) {
		got = read(fd, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cli_error("cannot read the %s %s %s: %s", k->what, prep, from,
				  strerror(errno));
			return -1;
		}
		if (got == 0 || c == '\n')
			break;
		if (c == '\0') {
			cli_error("the %s %s %s holds a NUL byte; write it as text", k->what, prep,
				  from);
			return -1;
		}
		if (len == k->max) {
			cli_error("the %s %s %s is longer than %zu bytes", k->what, prep, from,
				  k->max);
			return -1;
		}
		buf[len++] = c;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len == 0) {
		cli_error("no %s %s %s: its first line is empty", k->what, prep, from);
		return -1;
	}
	return 0;
}

static int prompt_tty(int fd, const char *prompt, char *buf, const struct line_kind *k)
{
	struct termios old, quiet;
	int rc;

	if (tcgetattr(fd, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		return -1;
	rc = read_line(fd, buf, k, "from", "the terminal");
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		rc = -1;
	return rc;
}

/*
 * Asks on the terminal, without echo, into buf (k->max + 2 bytes); `confirm`
 * asks twice. 0, -1 after printing why, or -2 when there is no terminal.
 */
static int ask_tty(const char *prompt, char *buf, const struct line_kind *k, int confirm)
{
	char *again = NULL, repeat[32];
	int fd, ok;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -2;
	ok = prompt_tty(fd, prompt, buf, k);
	if (ok == 0 && confirm) {
		snprintf(repeat, sizeof(repeat), "Repeat the %s: ", k->what);
		again = sodium_malloc(k->max + 2);
		ok = again ? prompt_tty(fd, repeat, again, k) : -1;
		if (ok == 0 && strcmp(buf, again) != 0) {
			cli_error("the two %ss differ", k->what);
			ok = -1;
		}
	}
	close(fd);
	cli_password_free(&again);
	return ok;
}

char *cli_password_read(const char *file, const char *how, const char *prompt, int confirm, int *rc)
{
	char *pw = sodium_malloc(PW_MAX + 2);
	int fd = -1, ok = -1, fail = EX_DATAERR;

	if (pw == NULL) {
		cli_error("out of memory");
		fail = EX_OSERR;
		goto done;
	}
	if (file != NULL) {
		struct stat sb;

		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("cannot read the password file %s: %s", file, strerror(errno));
			fail = EX_NOINPUT;
			goto done;
		}
		if (fstat(fd, &sb) != 0)
			memset(&sb, 0, sizeof(sb));
		if (S_ISDIR(sb.st_mode)) {
			cli_error("the password file %s is a directory, not a file", file);
			fail = EX_NOINPUT; /* as a missing one, and as import does */
			goto done;
		}
		/* A pipe or a terminal is private; a file others may read is not. */
		if (S_ISREG(sb.st_mode) && (sb.st_mode & (S_IRGRP | S_IROTH)))
			cli_error("warning: other users can read the password file %s "
				  "(chmod 600 %s)",
				  file, file);
		ok = read_line(fd, pw, &password_kind, "in", file);
		goto done;
	}
	ok = ask_tty(prompt, pw, &password_kind, confirm);
	if (ok == -2)
		cli_error("no %spassword given: use %s, or run in a terminal",
			  how != NULL ? "new " : "",
			  how != NULL ? how : "--password-file FILE or HATO_PASSWORD_FILE");
done:
	if (fd >= 0)
		close(fd);
	if (ok != 0)
		cli_password_free(&pw);
	if (pw == NULL && rc != NULL)
		*rc = fail;
	return pw;
}

char *cli_value_read(const char *prompt)
{
	char *v = sodium_malloc(VALUE_MAX + 2);
	int ok;

	if (v == NULL)
		return NULL;
	if (isatty(STDIN_FILENO)) {
		ok = ask_tty(prompt, v, &value_kind, 1);
		if (ok == -2)
			cli_error("stdin is a terminal, but hato cannot open it (/dev/tty)");
	} else {
		ok = read_line(STDIN_FILENO, v, &value_kind, "on", "stdin");
	}
	if (ok != 0)
		cli_password_free(&v);
	return v;
}
