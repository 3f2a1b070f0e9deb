/*
 * store/template.c: message templates and DKIM keys, as the store keeps them.
 * Rendering them is templates/'s job; signing is send/'s.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/private.h"

static char *dup_col(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t != NULL ? strdup((const char *)t) : NULL;
}

void store_template_free(struct store_template **tp)
{
	struct store_template *t;

	if (tp == NULL || *tp == NULL)
		return;
	t = *tp;
	free(t->name);
	free(t->kind);
	free(t->layout);
	free(t->source);
	free(t->text_source);
	free(t->author);
	free(t);
	*tp = NULL;
}

static enum store_status check_kind(const char *kind, char **errstr)
{
	if (strcmp(kind, "markdown") != 0 && strcmp(kind, "html") != 0)
		return store_fail(errstr, STORE_EINVAL, "a template is markdown or html, not %s",
				  kind);
	return STORE_OK;
}

enum store_status store_template_save(struct store *st, const struct store_template *t,
				      bool replace, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;

	s = store_require(st, STORE_PERM_TEMPLATES, replace ? "template.edit" : "template.add",
			  errstr);
	if (s == STORE_OK)
		s = store_name_check("template", t->name, errstr);
	if (s == STORE_OK)
		s = check_kind(t->kind, errstr);
	if (s != STORE_OK)
		return s;
	s = store_begin(st);
	if (s == STORE_OK)
		s = store_prepare(
		    st,
		    replace ? "UPDATE templates SET kind = ?2, layout = ?3, source = ?4, "
			      "text_source = ?5, updated = ?6, author = ?7 WHERE name = ?1"
			    : "INSERT INTO templates (name, kind, layout, source, "
			      "text_source, created, updated, author) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
		    &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, t->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, t->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, t->layout ? t->layout : "plain", -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, t->source, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, t->text_source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 6, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(q, 7, st->user, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_fail(errstr, STORE_EEXIST, "the template %s exists already",
				       t->name);
		else if (replace && sqlite3_changes(st->db) == 0)
			s = store_fail(errstr, STORE_ENOTFOUND, "there is no template %s", t->name);
		sqlite3_finalize(q);
	}
	if (s == STORE_OK)
		s = store_audit(st, replace ? "template.edit" : "template.add", t->name, "ok",
				t->kind);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_template_get(struct store *st, const char *name,
				     struct store_template **out, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_template *t;

	*out = NULL;
	s = store_prepare(st,
			  "SELECT name, kind, layout, source, text_source, author, updated "
			  "FROM templates WHERE name = ?",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		s = store_fail(errstr, STORE_ENOTFOUND,
			       "there is no template %s; see hato template ls", name);
		goto done;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		s = STORE_ENOMEM;
		goto done;
	}
	t->name = dup_col(q, 0);
	t->kind = dup_col(q, 1);
	t->layout = dup_col(q, 2);
	t->source = dup_col(q, 3);
	t->text_source = dup_col(q, 4);
	t->author = dup_col(q, 5);
	t->updated = (time_t)sqlite3_column_int64(q, 6);
	if (t->name == NULL || t->kind == NULL || t->layout == NULL || t->source == NULL) {
		store_template_free(&t);
		s = STORE_ENOMEM;
		goto done;
	}
	*out = t;
done:
	sqlite3_finalize(q);
	return s;
}

enum store_status store_template_list(struct store *st, store_template_cb cb, void *arg,
				      char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_template t;
	int rc;

	s = store_prepare(
	    st,
	    "SELECT name, kind, layout, author, updated, length(CAST(source AS BLOB)) "
	    "FROM templates ORDER BY name",
	    &q, errstr);
	if (s != STORE_OK)
		return s;
	memset(&t, 0, sizeof(t));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		t.name = (char *)sqlite3_column_text(q, 0);
		t.kind = (char *)sqlite3_column_text(q, 1);
		t.layout = (char *)sqlite3_column_text(q, 2);
		t.author = (char *)sqlite3_column_text(q, 3);
		t.updated = (time_t)sqlite3_column_int64(q, 4);
		t.size = (size_t)sqlite3_column_int64(q, 5);
		if (cb(&t, arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "listing templates");
	sqlite3_finalize(q);
	return s;
}

enum store_status store_template_copy(struct store *st, const char *name, const char *copy,
				      char **errstr)
{
	enum store_status s;
	struct store_template *t = NULL;
	char *orig;

	s = store_template_get(st, name, &t, errstr);
	if (s != STORE_OK)
		return s;
	orig = t->name;
	t->name = (char *)copy;
	s = store_template_save(st, t, false, errstr);
	t->name = orig;
	store_template_free(&t);
	return s;
}

enum store_status store_unsubscribe_key(struct store *st, unsigned char key[32])
{
	return store_secret_get(st, "unsubscribe_key", key, 32);
}

/* ---- DKIM keys ----------------------------------------------------------- */

enum store_status store_dkim_add(struct store *st, const struct store_dkim_key *k, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char object[300];

	s = store_require(st, STORE_PERM_KEYS, "dkim.keygen", errstr);
	if (s != STORE_OK)
		return s;
	snprintf(object, sizeof(object), "%s._domainkey.%s", k->selector, k->domain);
	s = store_begin(st);
	if (s == STORE_OK)
		s = store_prepare(st,
				  "INSERT INTO dkim_keys (domain, selector, alg, private_key, "
				  "public_txt, created) VALUES (lower(?), ?, ?, ?, ?, ?)",
				  &q, errstr);
	if (s == STORE_OK) {
		sqlite3_bind_text(q, 1, k->domain, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, k->selector, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, k->alg, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, k->private_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, k->public_txt, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 6, (sqlite3_int64)time(NULL));
		if (sqlite3_step(q) != SQLITE_DONE)
			s = store_fail(errstr, STORE_EEXIST, "a DKIM key %s exists already",
				       object);
		sqlite3_finalize(q);
	}
	if (s == STORE_OK)
		s = store_audit(st, "dkim.keygen", object, "ok", k->alg);
	if (s == STORE_OK)
		return store_commit_err(st, errstr);
	store_rollback(st);
	return s;
}

enum store_status store_dkim_rm(struct store *st, const char *domain, const char *selector,
				char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	char object[300];

	s = store_require(st, STORE_PERM_KEYS, "dkim.rm", errstr);
	if (s != STORE_OK)
		return s;
	snprintf(object, sizeof(object), "%s._domainkey.%s", selector, domain);
	s = store_prepare(st, "DELETE FROM dkim_keys WHERE domain = lower(?) AND selector = ?", &q,
			  errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, selector, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "removing a DKIM key");
	else if (sqlite3_changes(st->db) == 0)
		s = store_fail(errstr, STORE_ENOTFOUND, "there is no DKIM key %s", object);
	sqlite3_finalize(q);
	if (s == STORE_OK)
		s = store_audit(st, "dkim.rm", object, "ok", NULL);
	return s;
}

enum store_status store_dkim_list(struct store *st, const char *domain, bool with_private,
				  store_dkim_cb cb, void *arg, char **errstr)
{
	enum store_status s;
	sqlite3_stmt *q = NULL;
	struct store_dkim_key k;
	int rc;

	s = store_prepare(st,
			  "SELECT domain, selector, alg, private_key, public_txt, created "
			  "FROM dkim_keys WHERE ?1 IS NULL OR domain = lower(?1) "
			  "ORDER BY domain, alg DESC, selector",
			  &q, errstr);
	if (s != STORE_OK)
		return s;
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		k.domain = (const char *)sqlite3_column_text(q, 0);
		k.selector = (const char *)sqlite3_column_text(q, 1);
		k.alg = (const char *)sqlite3_column_text(q, 2);
		k.private_key = with_private ? (const char *)sqlite3_column_text(q, 3) : NULL;
		k.public_txt = (const char *)sqlite3_column_text(q, 4);
		k.created = (time_t)sqlite3_column_int64(q, 5);
		if (cb(&k, arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s = store_sqlfail(st, errstr, "listing DKIM keys");
	sqlite3_finalize(q);
	return s;
}
