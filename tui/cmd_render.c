/*
 * tui/cmd_render.c: hato template render and hato template check.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "send/send.h"
#include "templates/templates.h"
#include "tui/cli.h"

int cli_print_message(const struct send_composer *comp, const struct send_recipient *r)
{
	struct send_composed m = {0};
	enum send_status s;
	char *err = NULL;
	int rc;

	s = send_compose(comp, r, &m, &err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	rc = fwrite(m.data, 1, m.len, stdout) == m.len ? EX_OK : EX_IOERR;
	free(m.data);
	return rc;
}

int cmd_template_render(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"to", required_argument, NULL, 't'},
	    {"subject", required_argument, NULL, 's'},
	    {"list", required_argument, NULL, 'l'},
	    {"from", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct send_compose_src src = {0};
	struct send_composer *comp = NULL;
	struct send_recipient_buf b = {0};
	const char *to = NULL, *list = NULL;
	enum send_status s;
	char *err = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 't')
			to = optarg;
		else if (ch == 's')
			src.subject = optarg;
		else if (ch == 'l')
			list = optarg;
		else if (ch == 'f')
			src.from = optarg;
		else
			return cli_usage(c);
	}
	if (optind != argc - 1 || to == NULL)
		return cli_usage(c);
	src.template_name = argv[optind];
	if (src.subject == NULL)
		src.subject = argv[optind];
	s = send_recipient_load(c->st, to, list, &b, &err);
	if (s == SEND_OK) {
		src.list = b.list;
		s = send_composer_new(c->st, &src, &comp, &err);
	}
	rc = s == SEND_OK ? cli_print_message(comp, &b.r) : cli_fail_send(s, err);
	send_composer_free(&comp);
	send_recipient_clear(&b);
	return rc;
}

/* Prints findings as "error  body:3:5  unknown-tag  message"; returns the error count. */
size_t cli_print_findings(FILE *fp, const struct tpl_findings *f)
{
	const struct tpl_finding *x;
	size_t i, errors = 0;
	char line[1200];

	for (i = 0; (x = tpl_findings_get(f, i)) != NULL; i++) {
		send_finding_format(x, line, sizeof(line));
		fprintf(fp, "%s\n", line);
		errors += x->severity == TPL_SEV_ERROR;
	}
	return errors;
}

int cmd_template_check(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"subject", required_argument, NULL, 's'},
	    {"from", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct tpl_findings *f = NULL;
	const char *subject = NULL, *from = NULL;
	enum send_status s;
	char *err = NULL;
	size_t errors;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			subject = optarg;
		else if (ch == 'f')
			from = optarg;
		else
			return cli_usage(c);
	}
	if (optind != argc - 1)
		return cli_usage(c);
	s = send_check_template(c->st, argv[optind], subject ? subject : argv[optind], from, &f,
				&err);
	if (s != SEND_OK)
		return cli_fail_send(s, err);
	errors = cli_print_findings(stdout, f);
	printf("%zu error%s, %zu warning%s\n", errors, errors == 1 ? "" : "s",
	       tpl_findings_count(f) - errors, tpl_findings_count(f) - errors == 1 ? "" : "s");
	tpl_findings_free(&f);
	return errors > 0 ? EX_DATAERR : EX_OK;
}
