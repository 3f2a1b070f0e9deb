/*
 * store/campaign.c: campaigns, their states and their approvals.
 *
 * The store keeps the state machine (store/campaign_state.c) and who may
 * move it; send/ computes and verifies the hashes that approvals sign.
 * Every change is written to the audit trail with the campaign's name as
 * its object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/campaign_private.h"

const char *const campaign_state_names[STORE_CAMPAIGN_NSTATES] = {
    "draft",   "in_review", "approved", "rejected",  "scheduled",
    "sending", "paused",    "sent",	"cancelled", "failed",
};

const char *store_campaign_state_name(enum store_campaign_state s)
{
	return (int)s >= 0 && s < STORE_CAMPAIGN_NSTATES ? campaign_state_names[s] : "unknown";
}

static enum store_campaign_state state_parse(const char *name)
{
	int i;

	for (i = 0; i < STORE_CAMPAIGN_NSTATES; i++)
		if (name != NULL && strcmp(campaign_state_names[i], name) == 0)
			return (enum store_campaign_state)i;
	return STORE_CAMPAIGN_FAILED;
}

/*
 * Ends a transaction: commits on success, and after a refusal too, so that
 * the refusal's audit record stays (nothing else is written before one).
 */
enum store_status campaign_finish(struct store *st, enum store_status s, char **errstr)
{
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	if (s == STORE_EDENIED && store_commit(st) == STORE_OK)
		return s;
	store_rollback(st);
	return s;
}

/* ---- Reading ------------------------------------------------------------ */

#define SELECT_CAMPAIGN                                                                            \
	"SELECT c.id, c.name, c.template, c.list, c.segment, g.expr, c.subject, c.from_addr,"      \
	" c.state, c.author, c.comment, c.pause_reason, c.created, c.updated,"                     \
	" c.scheduled_at, c.started_at, c.finished_at, " CAMPAIGN_NEEDED_SQL ", c.version,"        \
	" c.editors, (SELECT author FROM templates t WHERE t.name = c.template)"                   \
	" FROM campaigns c LEFT JOIN segments g ON g.name = c.segment "

/* Points c's strings into the row (valid until the next step). */
static void row_view(sqlite3_stmt *q, struct store_campaign *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(q, 0);
	c->name = (char *)sqlite3_column_text(q, 1);
	c->template_name = (char *)sqlite3_column_text(q, 2);
	c->list = (char *)sqlite3_column_text(q, 3);
	c->segment = (char *)sqlite3_column_text(q, 4);
	c->segment_expr = (char *)sqlite3_column_text(q, 5);
	c->subject = (char *)sqlite3_column_text(q, 6);
	c->from = (char *)sqlite3_column_text(q, 7);
	c->state = state_parse((const char *)sqlite3_column_text(q, 8));
	c->author = (char *)sqlite3_column_text(q, 9);
	c->comment = (char *)sqlite3_column_text(q, 10);
	c->pause_reason = (char *)sqlite3_column_text(q, 11);
	c->created = (time_t)sqlite3_column_int64(q, 12);
	c->updated = (time_t)sqlite3_column_int64(q, 13);
	c->scheduled_at = (time_t)sqlite3_column_int64(q, 14);
	c->started_at = (time_t)sqlite3_column_int64(q, 15);
	c->finished_at = (time_t)sqlite3_column_int64(q, 16);
	c->approvals_needed = sqlite3_column_int(q, 17);
	c->version = sqlite3_column_int64(q, 18);
	c->editors = (char *)sqlite3_column_text(q, 19);
	c->template_author = (char *)sqlite3_column_text(q, 20);
}

/* True when name is one of the space-separated names. */
bool campaign_named(const char *names, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = names; p != NULL && *p != '\0'; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return true;
	}
	return false;
}

bool store_campaign_written_by(const struct store_campaign *c, const char *user)
{
	return strcmp(c->author, user) == 0 || campaign_named(c->editors, user) ||
	       (c->template_author != NULL && strcmp(c->template_author, user) == 0);
}

/* names with name added (when not there yet), allocated; NULL when out of memory. */
static char *with_name(const char *names, const char *name)
{
	char *out = NULL;

	if (campaign_named(names, name))
		return strdup(names);
	if (asprintf(&out, "%s%s%s", names, *names != '\0' ? " " : "", name) < 0)
		return NULL;
	return out;
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? -1 : 0;
}

void store_campaign_free(struct store_campaign **cp)
{
	struct store_campaign *c;

	if (cp == NULL || *cp == NULL)
		return;
	c = *cp;
	free(c->name);
	free(c->template_name);
	free(c->list);
	free(c->segment);
	free(c->segment_expr);
	free(c->subject);
	free(c->from);
	free(c->author);
	free(c->editors);
	free(c->template_author);
	free(c->comment);
	free(c->pause_reason);
	free(c);
	*cp = NULL;
}

struct store_campaign *store_campaign_dup(const struct store_campaign *v)
{
	struct store_campaign *c = calloc(1, sizeof(*c));
	int bad = 0;

	if (c == NULL)
		return NULL;
	*c = *v;
	bad |= dup_str(&c->name, v->name);
	bad |= dup_str(&c->template_name, v->template_name);
	bad |= dup_str(&c->list, v->list);
	bad |= dup_str(&c->segment, v->segment);
	bad |= dup_str(&c->segment_expr, v->segment_expr);
	bad |= dup_str(&c->subject, v->subject);
	bad |= dup_str(&c->from, v->from);
	bad |= dup_str(&c->author, v->author);
	bad |= dup_str(&c->editors, v->editors);
	bad |= dup_str(&c->template_author, v->template_author);
	bad |= dup_str(&c->comment, v->comment);
	bad |= dup_str(&c->pause_reason, v->pause_reason);
	if (bad != 0)
		store_campaign_free(&c);
	return c;
}

/* Loads the campaign by name (or, name NULL, by id) without a permission check. */
enum store_status campaign_load(struct store *st, const char *name, int64_t id,
				struct store_campaign **out, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_campaign v, *c = NULL;
	int rc;

	*out = NULL;
	s = store_prepare(st,
			  name != NULL ? SELECT_CAMPAIGN "WHERE c.name = ?"
				       : SELECT_CAMPAIGN "WHERE c.id = ?",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	if (name != NULL)
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			s = store_sqlfail(st, errstr, "reading a campaign");
		else if (name != NULL)
			s = store_fail(errstr, STORE_ENOTFOUND,
				       "there is no campaign %s; see: hato campaign ls", name);
		else
			s = store_fail(errstr, STORE_ENOTFOUND, "there is no campaign number %lld",
				       (long long)id);
		goto done;
	}
	row_view(q, &v);
	c = store_campaign_dup(&v);
	if (c == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	*out = c;
done:
	sqlite3_finalize(q);
	return s;
}

enum store_status store_campaign_get(struct store *st, const char *name,
				     struct store_campaign **out, char **errstr)
{
	enum store_status s;

	*out = NULL;
	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.show", errstr);
	if (s != STORE_OK)
		return s;
	return campaign_load(st, name, 0, out, errstr);
}

static enum store_status walk(struct store *st, const char *sql, time_t now, store_campaign_cb cb,
			      void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_campaign c;
	int rc;

	s = store_prepare(st, sql, &q, errstr);
	if (s != STORE_OK)
		return s;
	if (sqlite3_bind_parameter_count(q) > 0)
		sqlite3_bind_int64(q, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		row_view(q, &c);
		if (cb(&c, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "listing campaigns");
	sqlite3_finalize(q);
	return s;
}

enum store_status store_campaign_list(struct store *st, store_campaign_cb cb, void *arg,
				      char **errstr)
{
	enum store_status s;

	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.ls", errstr);
	if (s != STORE_OK)
		return s;
	return walk(st, SELECT_CAMPAIGN "ORDER BY c.name", 0, cb, arg, errstr);
}

enum store_status store_campaign_due(struct store *st, time_t now, store_campaign_cb cb, void *arg,
				     char **errstr)
{
	enum store_status s;

	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.due", errstr);
	if (s != STORE_OK)
		return s;
	return walk(st,
		    SELECT_CAMPAIGN "WHERE (c.state = 'scheduled' AND c.scheduled_at <= ?1)"
				    " OR c.state = 'sending' ORDER BY c.scheduled_at, c.id",
		    now, cb, arg, errstr);
}

/* ---- Adding and editing ------------------------------------------------- */

enum store_status campaign_check_text(const char *what, const char *v, bool required, char **errstr)
{
	const char *p;

	if (v == NULL || *v == '\0')
		return required ? store_fail(errstr, STORE_EUSAGE, "a campaign needs a %s", what)
				: STORE_OK;
	if (strlen(v) > 998)
		return store_fail(errstr, STORE_EINVAL, "the %s is longer than 998 characters",
				  what);
	for (p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return store_fail(errstr, STORE_EINVAL,
					  "the %s holds a line break or control character", what);
	return STORE_OK;
}

/* A campaign's From, when it has one: a header value, and one mailbox as
 * sender.from is (the same check, by the module that reads it). */
static enum store_status campaign_check_from(const char *from, char **errstr)
{
	enum store_status s = campaign_check_text("From", from, false, errstr);

	if (s == STORE_OK && from != NULL && *from != '\0')
		s = store_config_module_check(NULL, "sender.from", from, errstr);
	return s;
}

/*
 * Checks what decides a campaign's recipients and message. When a segment
 * is given without a list, *list becomes the segment's list (allocated in
 * *owned).
 */
static enum store_status check_content(struct store *st, const char *template_name,
				       const char **list, const char *segment, char **owned,
				       char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char *seglist = NULL, *expr = NULL;
	int rc;

	*owned = NULL;
	s = store_prepare(st, "SELECT 1 FROM templates WHERE name = ?", &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, template_name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW)
		return store_fail(errstr, STORE_ENOTFOUND,
				  "there is no template %s; see: hato template ls", template_name);
	if (segment != NULL) {
		s = store_segment_get(st, segment, &seglist, &expr, errstr);
		if (s != STORE_OK)
			goto done;
		if (*list == NULL) {
			*owned = seglist;
			*list = seglist;
			seglist = NULL;
		} else if (strcmp(*list, seglist) != 0) {
			s = store_fail(errstr, STORE_EINVAL,
				       "the segment %s belongs to the list %s, not %s", segment,
				       seglist, *list);
			goto done;
		}
	}
	if (*list == NULL)
		s = store_fail(errstr, STORE_EUSAGE, "a campaign needs a list or a segment");
	else
		s = store_list_check(st, *list, errstr);
done:
	free(seglist);
	free(expr);
	return s;
}

static enum store_status insert(struct store *st, const struct store_campaign *c, const char *list,
				const char *action, const char *details, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	int64_t now = (int64_t)time(NULL);

	s = store_prepare(
	    st,
	    "INSERT INTO campaigns (name, template, list, segment, subject, from_addr,"
	    " author, created, updated, approvals_needed, editors)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, " CAMPAIGN_REQUIRED_SQL ", ?10)",
	    &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->template_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, c->segment, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, c->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, c->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, st->user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 8, now);
	sqlite3_bind_text(q, 10, c->editors != NULL ? c->editors : "", -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = (sqlite3_errcode(st->db) & 0xff) == SQLITE_CONSTRAINT
			? store_fail(errstr, STORE_EEXIST, "the campaign %s exists already",
				     c->name)
			: store_sqlfail(st, errstr, "adding a campaign");
	sqlite3_finalize(q);
	if (s == STORE_OK)
		s = store_audit(st, action, c->name, "ok", details);
	return s;
}

enum store_status store_campaign_add(struct store *st, const struct store_campaign *c,
				     char **errstr)
{
	enum store_status s;
	struct store_campaign n = *c;
	const char *list = c->list;
	char *owned = NULL;

	s = store_require(st, STORE_PERM_CAMPAIGNS_EDIT, "campaign.add", errstr);
	if (s == STORE_OK)
		s = c->name != NULL ? store_name_check("campaign", c->name, errstr)
				    : store_fail(errstr, STORE_EUSAGE, "a campaign needs a name");
	if (s == STORE_OK && c->template_name == NULL)
		s = store_fail(errstr, STORE_EUSAGE, "a campaign needs a template");
	if (s == STORE_OK)
		s = campaign_check_text("subject", c->subject, true, errstr);
	if (s == STORE_OK)
		s = campaign_check_from(c->from, errstr);
	if (s != STORE_OK)
		return s;
	if (n.segment != NULL && *n.segment == '\0')
		n.segment = NULL;
	if (n.from != NULL && *n.from == '\0')
		n.from = NULL;
	s = store_begin_err(st, errstr, "adding a campaign");
	if (s != STORE_OK)
		return s;
	s = check_content(st, n.template_name, &list, n.segment, &owned, errstr);
	if (s == STORE_OK)
		s = insert(st, &n, list, "campaign.add", n.segment != NULL ? n.segment : list,
			   errstr);
	free(owned);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_campaign_copy(struct store *st, const char *name, const char *copy,
				      char **errstr)
{
	enum store_status s;
	struct store_campaign *c = NULL;
	char *orig, *editors = NULL;

	s = store_require(st, STORE_PERM_CAMPAIGNS_EDIT, "campaign.copy", errstr);
	if (s == STORE_OK)
		s = store_name_check("campaign", copy, errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin_err(st, errstr, "copying a campaign");
	if (s != STORE_OK)
		return s;
	s = campaign_load(st, name, 0, &c, errstr);
	if (s == STORE_OK) {
		/* Whoever wrote the original wrote the copy too. */
		editors = with_name(c->editors, c->author);
		if (editors == NULL)
			s = STORE_ENOMEM;
	}
	if (s == STORE_OK) {
		orig = c->name;
		c->name = (char *)copy;
		free(c->editors);
		c->editors = editors;
		s = insert(st, c, c->list, "campaign.copy", orig, errstr);
		c->name = orig;
	}
	store_campaign_free(&c);
	return campaign_finish(st, s, errstr);
}

/* Runs SQL whose only parameter, ?1, is the campaign's id; ?2 gets v. */
enum store_status campaign_exec_id(struct store *st, const char *sql, int64_t id, int64_t v,
				   char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_prepare(st, sql, &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_bind_parameter_count(q) >= 2)
		sqlite3_bind_int64(q, 2, v);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "changing a campaign");
	sqlite3_finalize(q);
	return s;
}

enum store_status campaign_drop_approvals(struct store *st, int64_t id, char **errstr)
{
	return campaign_exec_id(st, "DELETE FROM approvals WHERE campaign = ?1", id, 0, errstr);
}

bool store_campaign_editable(enum store_campaign_state state)
{
	return (BIT(state) & (BIT(STORE_CAMPAIGN_DRAFT) | BIT(STORE_CAMPAIGN_IN_REVIEW) |
			      BIT(STORE_CAMPAIGN_APPROVED) | BIT(STORE_CAMPAIGN_REJECTED) |
			      BIT(STORE_CAMPAIGN_SCHEDULED))) != 0;
}

static enum store_status edit_locked(struct store *st, struct store_campaign *c,
				     const struct store_campaign *ch, char **errstr)
{
	enum store_status s;
	const char *tpl, *list, *segment, *subject, *from;
	char *owned = NULL, *editors = NULL, details[96];

	if (!store_campaign_editable(c->state))
		return store_fail(errstr, STORE_EINVAL,
				  "campaign %s is %s and can no longer be edited; copy it with "
				  "hato campaign copy",
				  c->name, store_campaign_state_name(c->state));
	tpl = ch->template_name ? ch->template_name : c->template_name;
	segment = ch->segment ? (*ch->segment ? ch->segment : NULL) : c->segment;
	/* A new segment without a new list brings its own list. */
	list = ch->list ? ch->list : (ch->segment && *ch->segment ? NULL : c->list);
	subject = ch->subject ? ch->subject : c->subject;
	from = ch->from ? (*ch->from ? ch->from : NULL) : c->from;
	s = campaign_check_text("subject", subject, true, errstr);
	if (s == STORE_OK)
		s = campaign_check_from(from, errstr);
	if (s == STORE_OK)
		s = check_content(st, tpl, &list, segment, &owned, errstr);
	if (s == STORE_OK) {
		/* An editor other than the author is one more pair of eyes that may not approve. */
		editors = strcmp(c->author, st->user) == 0 ? strdup(c->editors)
							   : with_name(c->editors, st->user);
		if (editors == NULL)
			s = STORE_ENOMEM;
	}
	if (s == STORE_OK) {
		sqlite3_stmt *q = NULL;

		s = store_prepare(st,
				  "UPDATE campaigns SET template = ?2, list = ?3, segment = ?4,"
				  " subject = ?5, from_addr = ?6, state = 'draft', updated = ?7,"
				  " version = version + 1, editors = ?8 WHERE id = ?1",
				  &q, errstr);
		if (s == STORE_OK) {
			sqlite3_bind_int64(q, 1, c->id);
			sqlite3_bind_text(q, 2, tpl, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 3, list, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 4, segment, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 5, subject, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 6, from, -1, SQLITE_STATIC);
			sqlite3_bind_int64(q, 7, (sqlite3_int64)time(NULL));
			sqlite3_bind_text(q, 8, editors, -1, SQLITE_STATIC);
			if (sqlite3_step(q) != SQLITE_DONE)
				s = store_sqlfail(st, errstr, "editing a campaign");
			sqlite3_finalize(q);
		}
	}
	if (s == STORE_OK)
		s = campaign_drop_approvals(st, c->id, errstr);
	if (s == STORE_OK) {
		snprintf(details, sizeof(details), "version %lld; was %s; approvals dropped",
			 (long long)c->version + 1, store_campaign_state_name(c->state));
		s = store_audit(st, "campaign.edit", c->name, "ok", details);
	}
	free(owned);
	free(editors);
	return s;
}

enum store_status store_campaign_edit(struct store *st, const char *name,
				      const struct store_campaign *changes, char **errstr)
{
	enum store_status s;
	struct store_campaign *c = NULL;

	s = store_require(st, STORE_PERM_CAMPAIGNS_EDIT, "campaign.edit", errstr);
	if (s != STORE_OK)
		return s;
	if (changes->template_name == NULL && changes->list == NULL && changes->segment == NULL &&
	    changes->subject == NULL && changes->from == NULL)
		return store_fail(errstr, STORE_EUSAGE,
				  "nothing to change: give a template, list, segment, subject or "
				  "From");
	s = store_begin_err(st, errstr, "editing a campaign");
	if (s != STORE_OK)
		return s;
	s = campaign_load(st, name, 0, &c, errstr);
	if (s == STORE_OK)
		s = edit_locked(st, c, changes, errstr);
	store_campaign_free(&c);
	return campaign_finish(st, s, errstr);
}
