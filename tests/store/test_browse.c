/*
 * tests/store/test_browse.c: the subscriber browser's pages filtered by a
 * list (store/browse.c). A list of at most 4,000 members is paged from its
 * members, sorted; a larger one by walking the address index. Both must give
 * the rows an independent query gives, in the same order, page after page,
 * forward and backward, with a search and with a status filter. A viewer
 * opens a record by its row, never by a guessed address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/private.h"
#include "subs_fixture.h"

#define BIG 4100 /* more than the browser's small-list bound */
#define MAX_IDS (BIG + 16)

struct ids {
	int64_t id[MAX_IDS];
	int part[MAX_IDS];
	size_t n;
};

static int keep(const struct store_browse_row *r, void *arg)
{
	struct ids *x = arg;

	assert_true(x->n < MAX_IDS);
	x->id[x->n] = r->id;
	x->part[x->n++] = r->part;
	return 0;
}

/*
 * Every row, page by page of `limit`, as a user pages: forward from the top,
 * or backward from the end. A page comes in display order either way, so a
 * backward run is kept last row first.
 */
static void page_all(struct store *st, struct store_browse q, int limit, struct ids *out)
{
	static struct ids page;
	char *err = NULL;
	size_t i;

	out->n = 0;
	q.limit = limit;
	q.anchor = 0;
	for (;;) {
		page.n = 0;
		assert_int_equal(store_subscriber_page(st, &q, keep, &page, &err), STORE_OK);
		for (i = 0; i < page.n; i++) {
			size_t k = q.backward ? page.n - 1 - i : i;

			assert_true(out->n < MAX_IDS);
			out->id[out->n] = page.id[k];
			out->part[out->n++] = page.part[k];
		}
		if (page.n < (size_t)limit)
			break;
		q.anchor = out->id[out->n - 1];
		q.anchor_part = out->part[out->n - 1];
	}
}

/* The ids an independent query gives, in the browser's order (NOCASE, then id). */
static void expected(struct store *st, const char *sql, const char *list, struct ids *out)
{
	sqlite3_stmt *q = NULL;

	out->n = 0;
	assert_int_equal(sqlite3_prepare_v2(st->db, sql, -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		assert_true(out->n < MAX_IDS);
		out->id[out->n++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
}

static void assert_same(const struct ids *got, const struct ids *want, bool reversed)
{
	size_t i;

	assert_int_equal(got->n, want->n);
	for (i = 0; i < got->n; i++)
		assert_int_equal(got->id[i], want->id[reversed ? want->n - 1 - i : i]);
}

/*
 * BIG people on the list news, in an address order unlike their numbers
 * (mixed case too); 9 of them also on the list few, two of whom unsubscribed.
 */
static struct store *fill(void **state)
{
	struct store *st = *state;
	struct store_import_stats stats;
	struct store_import_opts o = {0};
	char *err = NULL, line[96];
	FILE *csv = tmpfile();
	int i;

	assert_non_null(csv);
	fputs("email,name\n", csv);
	for (i = 0; i < BIG; i++)
		fprintf(csv, "%s%d@example.com,Person %d\n", i % 3 ? "user" : "User",
			(i * 7919) % BIG, i);
	rewind(csv);
	assert_int_equal(store_subscriber_import(st, "news", csv, &o, &stats, &err), STORE_OK);
	assert_int_equal(stats.imported, BIG);
	fclose(csv);
	assert_int_equal(store_list_add(st, "few", NULL, NULL, &err), STORE_OK);
	for (i = 0; i < 9; i++) {
		snprintf(line, sizeof(line), "%s%d@example.com", i * 450 % 3 ? "user" : "User",
			 (i * 450 * 7919) % BIG);
		assert_int_equal(store_subscriber_add(st, "few", line, NULL, NULL, 0, NULL, &err),
				 STORE_OK);
		if (i == 2 || i == 5)
			assert_int_equal(store_subscriber_unsubscribe(st, line, NULL, NULL, &err),
					 STORE_OK);
	}
	return st; /* the marketer, who may see the addresses */
}

static const char by_list[] = "SELECT s.id FROM subscribers s JOIN memberships m"
			      " ON m.subscriber = s.id WHERE m.list = ?1"
			      " ORDER BY s.email COLLATE NOCASE, s.id";

/* A small list and a large one page the same way, both directions. */
static void test_pages_of_a_list(void **state)
{
	struct store *st = fill(state);
	static struct ids got, want;
	struct store_browse q = {.list = "few"};

	expected(st, by_list, "few", &want);
	assert_int_equal(want.n, 9);
	page_all(st, q, 2, &got);
	assert_same(&got, &want, false);
	q.backward = true;
	page_all(st, q, 4, &got);
	assert_same(&got, &want, true);

	q = (struct store_browse){.list = "news"};
	expected(st, by_list, "news", &want);
	assert_int_equal(want.n, BIG);
	page_all(st, q, 97, &got);
	assert_same(&got, &want, false);
	q.backward = true;
	page_all(st, q, 250, &got);
	assert_same(&got, &want, true);
}

/* Pages of q, `limit` rows each, hold what the independent query says, in order. */
static void check(struct store *st, struct store_browse q, const char *where, int limit, size_t n)
{
	static struct ids got, want;
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "SELECT s.id FROM subscribers s JOIN memberships m ON m.subscriber = s.id"
		 " WHERE m.list = ?1 AND %s ORDER BY %s s.email COLLATE NOCASE, s.id",
		 where, q.status && strcmp(q.status, "unsubscribed") == 0 ? "s.status," : "");
	expected(st, sql, q.list, &want);
	assert_int_equal(want.n, n);
	page_all(st, q, limit, &got);
	assert_same(&got, &want, false);
}

/* The search and the status filter narrow a small list's pages as a large one's. */
static void test_list_with_search_and_status(void **state)
{
	struct store *st = fill(state);
	const char *const lists[] = {"few", "news"};
	const size_t unsub[] = {2, 2}, active[] = {7, BIG - 2};
	size_t i;

	for (i = 0; i < 2; i++) {
		check(st, (struct store_browse){.list = lists[i], .status = "unsubscribed"},
		      "s.status = 'unsubscribed'", 1, unsub[i]);
		check(st, (struct store_browse){.list = lists[i], .status = "active"},
		      "s.status = 'active' AND s.suppressed = 0", 3, active[i]);
	}
	/* "USER1" as typed: address prefixes ignore ASCII case. */
	check(st, (struct store_browse){.list = "few", .search = "USER1"}, "s.email LIKE 'user1%'",
	      2, 3);
	check(st, (struct store_browse){.list = "news", .search = "USER1"}, "s.email LIKE 'user1%'",
	      50, 1111);
}

static int64_t denials(struct store *st, const char *action)
{
	sqlite3_stmt *q = NULL;
	int64_t n;

	assert_int_equal(
	    sqlite3_prepare_v2(st->db,
			       "SELECT count(*) FROM audit WHERE action = ? AND"
			       " outcome = 'denied' AND details = 'needs permission pii'",
			       -1, &q, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(q, 1, action, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* Without pii, a lookup by address answers alike for everyone: refused. */
static void test_lookup_by_address(void **state)
{
	struct store *st = *state, *vw = NULL;
	struct store_subscriber *p = NULL;
	char *err = NULL;
	int64_t id;

	assert_int_equal(
	    store_subscriber_add(st, "news", "Known@example.com", "K", NULL, 0, NULL, &err),
	    STORE_OK);
	assert_int_equal(store_subscriber_get(st, "known@example.com", &p, &err), STORE_OK);
	id = p->id;
	store_subscriber_free(&p);
	assert_int_equal(store_open(fx_path, "vw", VW_PW, &vw, &err), STORE_OK);
	assert_int_equal(store_subscriber_get(vw, "known@example.com", &p, &err), STORE_EDENIED);
	assert_non_null(strstr(err, "needs the permission \"pii\""));
	free(err);
	err = NULL;
	assert_null(p);
	assert_int_equal(store_subscriber_get(vw, "unknown@example.com", &p, &err), STORE_EDENIED);
	free(err);
	err = NULL;
	assert_int_equal(denials(vw, "subscriber.show"), 2);
	/* The browser's record, by row, still opens. */
	assert_int_equal(store_subscriber_get_id(vw, id, &p, &err), STORE_OK);
	assert_string_equal(p->email, "Known@example.com");
	store_subscriber_free(&p);
	store_close(&vw);
}

/* Appends "email status\n" to the buffer at arg (512 bytes). */
static int line_of(const struct store_browse_row *r, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s %s\n", r->email, r->status);
	return 0;
}

/* The rows a status filter shows on the list news, as "email status" lines. */
static void shown_as(struct store *st, const char *status, char out[512])
{
	struct store_browse q = {.list = "news", .status = status, .limit = 50};
	char *err = NULL;

	out[0] = '\0';
	assert_int_equal(store_subscriber_page(st, &q, line_of, out, &err), STORE_OK);
}

/*
 * A person whose domain is on the suppression list is shown as suppressed,
 * and filtered as such, as one whose address is; taking the domain off
 * leaves suppressed only those whose own address is on the list.
 */
static void test_suppressed_by_domain(void **state)
{
	struct store *st = *state;
	struct store_subscriber *p = NULL;
	const char *const who[] = {"a@blocked.example", "b@blocked.example", "c@other.example"};
	char *err = NULL, got[512];
	size_t i;

	for (i = 0; i < 3; i++)
		assert_int_equal(
		    store_subscriber_add(st, "news", who[i], NULL, NULL, 0, NULL, &err), STORE_OK);
	assert_int_equal(store_suppress_add(st, "b@blocked.example", "asked", &err), STORE_OK);
	assert_int_equal(store_suppress_add(st, "@blocked.example", "spam trap", &err), STORE_OK);
	shown_as(st, NULL, got);
	assert_string_equal(got, "a@blocked.example suppressed\nb@blocked.example suppressed\n"
				 "c@other.example active\n");
	shown_as(st, "suppressed", got);
	assert_string_equal(got, "a@blocked.example suppressed\nb@blocked.example suppressed\n");
	shown_as(st, "active", got);
	assert_string_equal(got, "c@other.example active\n");
	/* The person's record says so, and why. */
	assert_int_equal(store_subscriber_get(st, "a@blocked.example", &p, &err), STORE_OK);
	assert_true(p->suppressed);
	assert_string_equal(p->suppressed_by, "domain");
	assert_string_equal(p->suppression_reason, "spam trap");
	assert_true(p->nevents > 0);
	assert_string_equal(p->events[p->nevents - 1].event, "suppressed");
	assert_string_equal(p->events[p->nevents - 1].details, "its domain: spam trap");
	store_subscriber_free(&p);

	/* Off the list by address: still suppressed by the domain. */
	assert_int_equal(store_suppress_rm(st, "b@blocked.example", &err), STORE_OK);
	shown_as(st, "suppressed", got);
	assert_string_equal(got, "a@blocked.example suppressed\nb@blocked.example suppressed\n");
	assert_int_equal(store_suppress_add(st, "b@blocked.example", NULL, &err), STORE_OK);
	/* The domain off the list: b's own entry keeps b suppressed. */
	assert_int_equal(store_suppress_rm(st, "@blocked.example", &err), STORE_OK);
	shown_as(st, "suppressed", got);
	assert_string_equal(got, "b@blocked.example suppressed\n");
	shown_as(st, "active", got);
	assert_string_equal(got, "a@blocked.example active\nc@other.example active\n");
	assert_int_equal(store_suppress_rm(st, "b@blocked.example", &err), STORE_OK);
	shown_as(st, "suppressed", got);
	assert_string_equal(got, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pages_of_a_list, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_lookup_by_address, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_list_with_search_and_status, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_suppressed_by_domain, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
