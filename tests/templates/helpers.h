/*
 * tests/templates/helpers.h: what the templates tests share: a lookup over a
 * table, JSON strings, and running mime_check.py on a message.
 */
#ifndef HATO_TESTS_TEMPLATES_HELPERS_H
#define HATO_TESTS_TEMPLATES_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "templates/templates.h"

struct kv {
	const char *k, *v;
};

/* arg: a struct kv array ending with {NULL, NULL}. */
static inline const char *kv_lookup(const char *name, void *arg)
{
	const struct kv *t = arg;

	for (; t->k != NULL; t++) {
		if (strcmp(t->k, name) == 0)
			return t->v;
	}
	return NULL;
}

/* Appends s as a JSON string. */
static inline void json_str(struct tpl_buf *b, const char *s, size_t n)
{
	size_t i;

	tpl_buf_appendc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			tpl_buf_appendf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			tpl_buf_appendf(b, "\\u%04x", c);
		else
			tpl_buf_appendc(b, (char)c);
	}
	tpl_buf_appendc(b, '"');
}

static inline void json_key(struct tpl_buf *b, const char *k, const char *v)
{
	tpl_buf_appends(b, b->len > 1 ? "," : "");
	json_str(b, k, strlen(k));
	tpl_buf_appendc(b, ':');
	json_str(b, v, strlen(v));
}

static inline char *write_temp(const char *data, size_t len)
{
	char *path = strdup("/tmp/hato-tpl-XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;

	if (f == NULL || fwrite(data, 1, len, f) != len) {
		fprintf(stderr, "can't write %s\n", path);
		abort();
	}
	fclose(f);
	return path;
}

/* Runs mime_check.py on msg with the JSON object json; returns its exit
 * status (0 when the message is as expected). */
static inline int mime_check(const struct tpl_buf *msg, const struct tpl_buf *json)
{
	char *mp = write_temp(msg->data, msg->len);
	char *jp = write_temp(json->data, json->len);
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		execl("/usr/bin/python3", "python3", "tests/templates/mime_check.py", mp, jp,
		      (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (status != 0) {
		fprintf(stderr, "mime_check failed on %s (kept)\n", mp);
	} else {
		unlink(mp);
	}
	unlink(jp);
	free(mp);
	free(jp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
