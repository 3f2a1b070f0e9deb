/*
 * tui/cmd_render.c: hato template render and hato template check.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "send/send.h"
#include "templates/templates.h"
#include "tui/cli.h"

int exit_from_send(enum send_status s)
{
	switch (s) {
	case SEND_OK:
		return EX_OK;
	case SEND_EUSAGE:
		return EX_USAGE;
	case SEND_EINVAL:
		return EX_DATAERR;
	case SEND_EDNS:
		return EX_UNAVAILABLE;
	case SEND_ECRYPTO:
		return EX_SOFTWARE;
	case SEND_ENOMEM:
		return EX_OSERR;
	case SEND_EDENIED:
		return EX_NOPERM;
	case SEND_ESTORE:
		return EX_IOERR;
	case SEND_EBUSY:
		return EX_TEMPFAIL;
	case SEND_ECONFIG:
		return EX_CONFIG;
	}
	return EX_SOFTWARE;
}

int exit_from_tpl(enum tpl_status s)
{
	switch (s) {
	case TPL_OK:
		return EX_OK;
	case TPL_ENOTFOUND:
		return EX_NOINPUT;
	case TPL_ENOMEM:
		return EX_OSERR;
	case TPL_ESYNTAX:
	case TPL_EINVAL:
	case TPL_ETOOBIG:
	case TPL_EENCODING:
		return EX_DATAERR;
	}
	return EX_SOFTWARE;
}

int cli_fail_send(enum send_status s, char *errstr)
{
	cli_error("%s", errstr != NULL ? errstr : send_strstatus(s));
	free(errstr);
	return exit_from_send(s);
}

/* Loads a subscriber as a recipient of a list (the first one when list is NULL). */
int cli_recipient_load(struct cli *c, const char *email, const char *list,
		       struct store_subscriber **sub, struct send_recipient *r)
{
	enum store_status s;
	char *err = NULL;
	int64_t rowid = 0;
	size_t i;

	memset(r, 0, sizeof(*r));
	s = store_subscriber_get(c->st, email, sub, &err);
	if (s != STORE_OK)
		return cli_fail_store(s, err);
	if (list == NULL && (*sub)->nlists > 0)
		list = (*sub)->lists[0].list;
	if (list != NULL) {
		s = store_list_rowid(c->st, list, &rowid, &err);
		if (s != STORE_OK)
			return cli_fail_store(s, err);
	}
	r->subscriber_id = (uint64_t)(*sub)->id;
	r->list_id = (uint64_t)rowid;
	r->email = (*sub)->email;
	r->name = (*sub)->name;
	r->list_name = list;
	r->nattrs = (*sub)->nattrs;
	r->attr_keys = calloc(r->nattrs + 1, sizeof(char *));
	r->attr_values = calloc(r->nattrs + 1, sizeof(char *));
	if (r->attr_keys == NULL || r->attr_values == NULL)
		return EX_OSERR;
	for (i = 0; i < r->nattrs; i++) {
		((const char **)r->attr_keys)[i] = (*sub)->attrs[i].key;
		((const char **)r->attr_values)[i] = (*sub)->attrs[i].value;
	}
	return EX_OK;
}

void cli_recipient_free(struct send_recipient *r)
{
	free((void *)r->attr_keys);
	free((void *)r->attr_values);
	memset(r, 0, sizeof(*r));
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
	struct store_subscriber *sub = NULL;
	struct send_composer *comp = NULL;
	struct send_recipient r = {0};
	struct send_composed msg = {0};
	const char *to = NULL, *list = NULL;
	enum send_status s;
	char *err = NULL;
	int ch, rc;

	src.subject = NULL;
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
	rc = cli_recipient_load(c, to, list, &sub, &r);
	if (rc != EX_OK)
		goto done;
	src.list = r.list_name;
	s = send_composer_new(c->st, &src, &comp, &err);
	if (s == SEND_OK)
		s = send_compose(comp, &r, &msg, &err);
	if (s != SEND_OK) {
		rc = cli_fail_send(s, err);
		goto done;
	}
	if (fwrite(msg.data, 1, msg.len, stdout) != msg.len)
		rc = EX_IOERR;
done:
	free(msg.data);
	send_composer_free(&comp);
	cli_recipient_free(&r);
	store_subscriber_free(&sub);
	return rc;
}

/* Prints findings as "error  body:3:5  unknown-tag  message"; returns the error count. */
size_t cli_print_findings(FILE *fp, const struct tpl_findings *f)
{
	const struct tpl_finding *x;
	size_t i, errors = 0;
	char where[64];

	for (i = 0; (x = tpl_findings_get(f, i)) != NULL; i++) {
		if (x->line > 0)
			snprintf(where, sizeof(where), "%s:%u:%u", x->where, x->line, x->col);
		else
			snprintf(where, sizeof(where), "%s", x->where);
		fprintf(fp, "%-7s %-14s %-16s %s\n",
			x->severity == TPL_SEV_ERROR ? "error" : "warning", where, x->code,
			x->message);
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
	printf("%zu errors, %zu warnings\n", errors,
	       tpl_findings_count(f) - errors);
	tpl_findings_free(&f);
	return errors > 0 ? EX_DATAERR : EX_OK;
}
