/*
 * store/campaign_version.c: what each approval approved. When a campaign
 * becomes approved, store_campaign_approve calls store_campaign_snapshot,
 * which copies the content that decides what is sent (subject, from, the
 * template's sources, the audience) into campaign_versions. The review
 * queue shows a diff of a resubmitted campaign against that copy.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/private.h"

enum store_status store_campaign_snapshot(struct store *st, int64_t campaign, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_prepare(
	    st,
	    "INSERT OR REPLACE INTO campaign_versions (campaign, version, subject,"
	    " from_addr, template, template_source, template_text, list, segment,"
	    " approver, approved)"
	    " SELECT c.id, c.version, c.subject, c.from_addr, c.template, t.source,"
	    " t.text_source, c.list, c.segment, ?2, ?3"
	    " FROM campaigns c JOIN templates t ON t.name = c.template WHERE c.id = ?1",
	    &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, campaign);
	sqlite3_bind_text(q, 2, st->user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)time(NULL));
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "keeping the approved version of a campaign");
	sqlite3_finalize(q);
	return s;
}

void store_campaign_version_free(struct store_campaign_version **vp)
{
	struct store_campaign_version *v;

	if (vp == NULL || *vp == NULL)
		return;
	v = *vp;
	free(v->subject);
	free(v->from);
	free(v->template_name);
	free(v->template_source);
	free(v->template_text);
	free(v->list);
	free(v->segment);
	free(v->approver);
	free(v);
	*vp = NULL;
}

/* A copy of column i, or NULL for NULL; sets *bad when out of memory. */
static char *col(sqlite3_stmt *q, int i, bool *bad)
{
	const char *t = (const char *)sqlite3_column_text(q, i);
	char *d;

	if (t == NULL)
		return NULL;
	d = strdup(t);
	if (d == NULL)
		*bad = true;
	return d;
}

enum store_status store_campaign_last_approved(struct store *st, int64_t campaign, int64_t upto,
					       struct store_campaign_version **out, char **errstr)
{
	struct store_campaign_version *v = NULL;
	enum store_status s;
	sqlite3_stmt *q = NULL;
	bool bad = false;
	int rc;

	*out = NULL;
	s = store_require(st, STORE_PERM_CAMPAIGNS_READ, "campaign.versions", errstr);
	if (s == STORE_OK)
		s = store_prepare(
		    st,
		    "SELECT version, subject, from_addr, template, template_source,"
		    " template_text, list, segment, approver, approved"
		    " FROM campaign_versions WHERE campaign = ?1 AND (?2 = 0 OR version <= ?2)"
		    " ORDER BY version DESC LIMIT 1",
		    &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_int64(q, 1, campaign);
	sqlite3_bind_int64(q, 2, upto);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		s = store_fail(errstr, STORE_ENOTFOUND, "no approved version of this campaign");
		goto done;
	}
	if (rc != SQLITE_ROW) {
		s = store_sqlfail(st, errstr, "reading an approved version");
		goto done;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	v->campaign = campaign;
	v->version = sqlite3_column_int64(q, 0);
	v->subject = col(q, 1, &bad);
	v->from = col(q, 2, &bad);
	v->template_name = col(q, 3, &bad);
	v->template_source = col(q, 4, &bad);
	v->template_text = col(q, 5, &bad);
	v->list = col(q, 6, &bad);
	v->segment = col(q, 7, &bad);
	v->approver = col(q, 8, &bad);
	v->approved = (time_t)sqlite3_column_int64(q, 9);
	if (bad) {
		store_campaign_version_free(&v);
		s = store_fail(errstr, STORE_ENOMEM, "out of memory");
		goto done;
	}
	*out = v;
done:
	sqlite3_finalize(q);
	return s;
}
