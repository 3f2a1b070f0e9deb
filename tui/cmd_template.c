/*
 * tui/cmd_template.c: hato template ..., hato dkim ... and hato domain check.
 */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send/send.h"
#include "templates/templates.h"
#include "tui/cli.h"

#define SOURCE_MAX TPL_MAX_SOURCE /* as the template itself may be */

/* Reads a whole file; 66 when it can't be opened, 65 when too big. */
static int read_file(const char *path, char **out)
{
	FILE *fp = fopen(path, "rb");
	struct tpl_buf b = {0};
	char chunk[65536];
	size_t n;

	*out = NULL;
	if (fp == NULL) {
		cli_error("cannot open %s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b.len + n > SOURCE_MAX) {
			fclose(fp);
			tpl_buf_free(&b);
			cli_error("%s is larger than %u MiB, the most a template may be", path,
				  SOURCE_MAX >> 20);
			return EX_DATAERR;
		}
		tpl_buf_append(&b, chunk, n);
	}
	fclose(fp);
	if (memchr(b.data ? b.data : "", '\0', b.len) != NULL) {
		tpl_buf_free(&b);
		cli_error("%s holds a NUL byte: a template is UTF-8 text", path);
		return EX_DATAERR;
	}
	tpl_buf_appendc(&b, '\0');
	*out = tpl_buf_steal(&b);
	return EX_OK;
}

static const char *ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0 ? s + n - m : NULL;
}

static int cli_fail_tpl(enum tpl_status s, char *err, const char *what)
{
	cli_error("%s: %s", what, err ? err : tpl_strstatus(s));
	free(err);
	return exit_from_tpl(s);
}

static int template_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"text", required_argument, NULL, 't'},
	    {"layout", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	struct store_template t = {0};
	struct tpl_campaign_src ts = {0};
	struct tpl_campaign *comp = NULL;
	const char *textfile = NULL;
	enum tpl_status ts_s;
	enum store_status s;
	char *err = NULL;
	int ch, rc;

	t.layout = "plain";
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 't')
			textfile = optarg;
		else if (ch == 'l')
			t.layout = optarg;
		else
			return cli_usage(c);
	}
	if (optind != argc - 2)
		return cli_usage(c);
	t.name = argv[optind];
	if (ends_with(argv[optind + 1], ".md") || ends_with(argv[optind + 1], ".markdown"))
		t.kind = "markdown";
	else if (ends_with(argv[optind + 1], ".html") || ends_with(argv[optind + 1], ".htm"))
		t.kind = "html";
	else {
		cli_error("%s: a template file ends in .md or .markdown (Markdown), or .html or "
			  ".htm",
			  argv[optind + 1]);
		return EX_DATAERR;
	}
	if (textfile != NULL && strcmp(t.kind, "html") != 0) {
		cli_error("--text goes with an HTML template; Markdown makes its own text part");
		return EX_USAGE;
	}
	if (tpl_layout_find(t.layout) == NULL) {
		cli_error("there is no layout %s; the layouts are plain, newsletter and none",
			  t.layout);
		return EX_DATAERR;
	}
	rc = read_file(argv[optind + 1], &t.source);
	if (rc == EX_OK && textfile != NULL)
		rc = read_file(textfile, &t.text_source);
	if (rc != EX_OK)
		goto done;
	/* Refuse a template that does not compile, with line:column. */
	ts.kind = strcmp(t.kind, "html") == 0 ? TPL_KIND_HTML : TPL_KIND_MARKDOWN;
	ts.src = t.source;
	ts.src_len = strlen(t.source);
	ts.text_src = t.text_source;
	ts.layout = t.layout;
	ts.subject = "";
	ts_s = tpl_campaign_compile(&ts, &comp, &err);
	tpl_campaign_free(&comp);
	if (ts_s != TPL_OK) {
		rc = cli_fail_tpl(ts_s, err, argv[optind + 1]);
		goto done;
	}
	s = store_template_save(c->st, &t, false, &err);
	if (s != STORE_OK)
		rc = cli_fail_store(s, err);
	else
		printf("added %s template %s with layout %s\n", t.kind, t.name, t.layout);
done:
	free(t.source);
	free(t.text_source);
	return rc;
}

static int print_template(const struct store_template *t, void *arg)
{
	static const int widths[] = {20, 9, 11, 9, 10};
	char size[32], when[32];
	const char *cols[6];
	struct tm tm;

	(void)arg;
	gmtime_r(&t->updated, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	snprintf(size, sizeof(size), "%zu", t->size);
	cols[0] = t->name;
	cols[1] = t->kind;
	cols[2] = t->layout;
	cols[3] = size;
	cols[4] = when;
	cols[5] = t->author;
	cli_print_cols(stdout, cols, widths, 6);
	return 0;
}

static int template_ls(struct cli *c, int argc, char **argv)
{
	static const int widths[] = {20, 9, 11, 9, 10};
	static const char *const head[] = {"NAME", "KIND", "LAYOUT", "BYTES", "UPDATED", "BY"};
	enum store_status s;
	char *err = NULL;

	(void)argv;
	if (argc != 1)
		return cli_usage(c);
	cli_print_cols(stdout, head, widths, 6);
	s = store_template_list(c->st, print_template, NULL, &err);
	return s == STORE_OK ? EX_OK : cli_fail_store(s, err);
}

static int template_show(struct cli *c, int argc, char **argv)
{
	struct store_template *t = NULL;
	enum store_status s;
	char *err = NULL;

	if (argc != 2)
		return cli_usage(c);
	s = store_template_get(c->st, argv[1], &t, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("name: %s\nkind: %s\nlayout: %s\nby: %s\n\n%s", t->name, t->kind, t->layout,
	       t->author, t->source);
	if (t->text_source != NULL)
		printf("\n--- text part ---\n%s", t->text_source);
	store_template_free(&t);
	return EX_OK;
}

static int template_copy(struct cli *c, int argc, char **argv)
{
	enum store_status s;
	char *err = NULL;

	if (argc != 3)
		return cli_usage(c);
	s = store_template_copy(c->st, argv[1], argv[2], &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	printf("copied template %s to %s\n", argv[1], argv[2]);
	return EX_OK;
}

const struct cli_command cli_cmds_template[] = {
    {"template", "add", STORE_PERM_TEMPLATES, 0, template_add,
     "template add NAME FILE.md|FILE.html [--text FILE] [--layout plain|newsletter|none]",
     "add a template"},
    {"template", "ls", STORE_PERM_CAMPAIGNS_READ, 0, template_ls, "template ls", "list templates"},
    {"template", "show", STORE_PERM_CAMPAIGNS_READ, 0, template_show, "template show NAME",
     "show a template's source"},
    {"template", "copy", STORE_PERM_TEMPLATES, 0, template_copy, "template copy NAME NEW",
     "copy a template"},
    {"template", "render", STORE_PERM_PII, 0, cmd_template_render,
     "template render NAME --to EMAIL [--subject S] [--list L]",
     "print the exact signed message a subscriber would get"},
    {"template", "check", STORE_PERM_CAMPAIGNS_READ, 0, cmd_template_check,
     "template check NAME [--subject S] [--from ADDR]", "run the pre-send checks"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
