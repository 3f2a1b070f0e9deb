/*
 * tui/password.c: reading passwords from a file or the terminal, never
 * echoed, kept in locked memory and wiped after use.
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

void cli_password_free(char **pw)
{
	if (pw != NULL && *pw != NULL) {
		sodium_free(*pw);
		*pw = NULL;
	}
}

/* Reads the first line of fd into buf (PW_MAX + 2 bytes). Returns 0 or prints why. */
static int read_line(int fd, char *buf, const char *from)
{
	size_t len = 0;
	ssize_t got;
	char c;

	for (;;) {
		got = read(fd, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || c == '\n')
			break;
		if (c == '\0') {
			cli_error("the password in %s holds a NUL byte; write it as text", from);
			return -1;
		}
		if (len == PW_MAX) {
			cli_error("the password in %s is longer than %d bytes", from, PW_MAX);
			return -1;
		}
		buf[len++] = c;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len == 0) {
		cli_error("no password in %s: its first line is empty", from);
		return -1;
	}
	return 0;
}

static int prompt_tty(int fd, const char *prompt, char *buf)
{
	struct termios old, quiet;
	int rc;

	if (tcgetattr(fd, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		return -1;
	rc = read_line(fd, buf, "the terminal");
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		rc = -1;
	return rc;
}

char *cli_password_read(const char *file, const char *prompt, int confirm)
{
	char *pw = sodium_malloc(PW_MAX + 2), *again = NULL;
	int fd = -1, ok = -1;

	if (pw == NULL)
		return NULL;
	if (file != NULL) {
		struct stat sb;

		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("cannot read the password file %s: %s", file, strerror(errno));
			goto done;
		}
		/* A pipe or a terminal is private; a file others may read is not. */
		if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    (sb.st_mode & (S_IRGRP | S_IROTH)))
			cli_error("warning: other users can read the password file %s "
				  "(chmod 600 %s)",
				  file, file);
		ok = read_line(fd, pw, file);
		goto done;
	}
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		cli_error("no password given: use --password-file FILE or HATO_PASSWORD_FILE, "
			  "or run in a terminal");
		goto done;
	}
	ok = prompt_tty(fd, prompt, pw);
	if (ok == 0 && confirm) {
		again = sodium_malloc(PW_MAX + 2);
		ok = again ? prompt_tty(fd, "Repeat the password: ", again) : -1;
		if (ok == 0 && strcmp(pw, again) != 0) {
			cli_error("the two passwords differ");
			ok = -1;
		}
	}
done:
	if (fd >= 0)
		close(fd);
	cli_password_free(&again);
	if (ok != 0)
		cli_password_free(&pw);
	return pw;
}
