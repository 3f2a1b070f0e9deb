/*
 * store/subscriber_mask.c: a person's record as a user without the pii
 * permission may see it (subscriber_mask): the addresses written in its
 * free text masked, and its consent IPs hidden.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers_private.h"

/*
 * The details of a list-removed event, "consent kept: ..., IP A; was S"
 * (store/list.c), with A hidden: the last word before "; was", when "IP "
 * comes before it. A consent text that ends so loses its last word too.
 */
static char *hide_ip(const char *d)
{
	const char *was = NULL, *w, *ip;
	char *out;
	size_t n;

	for (w = strstr(d, "; was "); w != NULL; w = strstr(w + 1, "; was "))
		was = w;
	if (was == NULL)
		return strdup(d);
	for (ip = was; ip > d && ip[-1] != ' '; ip--)
		;
	if (ip == was || ip - d < 3 || strncmp(ip - 3, "IP ", 3) != 0)
		return strdup(d);
	n = (size_t)(ip - d) + strlen("(hidden)") + strlen(was) + 1;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%.*s(hidden)%s", (int)(ip - d), d, was);
	return out;
}

/* *v as masked: store_mask_text, or hide_ip when hide. 0, or -1 when out of memory. */
static int mask_field(const struct store *st, char **v, bool hide)
{
	char *m = hide ? hide_ip(*v) : store_mask_text(st, *v);

	if (m == NULL)
		return -1;
	free(*v);
	*v = m;
	return 0;
}

enum store_status subscriber_mask(const struct store *st, struct store_subscriber *p)
{
	struct store_membership *m;
	struct store_event *e;
	size_t i;
	int r;

	if (store_can(st, STORE_PERM_PII))
		return STORE_OK;
	r = mask_field(st, &p->name, false);
	for (i = 0; r == 0 && i < p->nattrs; i++)
		r = mask_field(st, (char **)&p->attrs[i].key, false) |
		    mask_field(st, (char **)&p->attrs[i].value, false);
	for (i = 0; r == 0 && i < p->nlists; i++) {
		m = &p->lists[i];
		r = mask_field(st, &m->consent_source, false) |
		    mask_field(st, &m->consent_method, false) |
		    mask_field(st, &m->consent_text, false) |
		    mask_field(st, &m->consent_version, false);
		if (r == 0 && m->consent_ip[0] != '\0') {
			free(m->consent_ip);
			m->consent_ip = strdup(STORE_IP_HIDDEN);
			r = m->consent_ip == NULL ? -1 : 0;
		}
	}
	for (i = 0; r == 0 && i < p->nevents; i++) {
		e = &p->events[i];
		r = mask_field(st, &e->details, false);
		if (r == 0 && strcmp(e->event, "list-removed") == 0)
			r = mask_field(st, &e->details, true);
	}
	return r == 0 ? STORE_OK : STORE_ENOMEM;
}
