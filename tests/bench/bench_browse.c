/*
 * bench_browse.c: the subscriber browser with N subscribers (default
 * 1,000,000), driven like a user would, without a terminal: the session's
 * handle()/render loop gets keys from a script and each step is timed.
 *
 *   open      push the Subscribers screen and render the first frame
 *   page-down PgDn + render, 200 pages from the top
 *   page-up   PgUp + render, back up
 *   end/home  the last page, the first page
 *   search    each keystroke of "/user12345", "/Person 98765" and "/山田" + render
 *   filter    status:unsubscribed (one in a thousand), status:bounced (nobody),
 *             list:small (ten people at the end of the order), and the two
 *             sides of the browser's small-list rule (store/browse.c): list:edge
 *             (4,000 people at random: its members are sorted)
 *             and list:over (4,001 at random: the address index is walked)
 *   form      open the new-campaign form, which names the lists
 *
 * The store is filled through store_subscriber_import from a generated CSV
 * (a tenth of the names Japanese). Prints medians, p95 and max in ms.
 * Usage: bench_browse [N]
 */
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "tui/ui.h"

static const char *const family[] = {"山田", "鈴木", "佐藤", "高橋",
				     "田中", "伊藤", "渡辺", "中村"};
static const char *const given[] = {"太郎", "花子", "一郎", "美咲", "健二", "由紀", "大輔", "愛"};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct series {
	const char *what;
	double v[1024];
	size_t n;
};

static void row(struct series *s, const char *target)
{
	double sorted[1024];

	if (s->n == 0)
		return;
	memcpy(sorted, s->v, s->n * sizeof(double));
	qsort(sorted, s->n, sizeof(double), cmp);
	printf("%-34s %6zu %9.2f %9.2f %9.2f   %s\n", s->what, s->n, sorted[s->n / 2],
	       sorted[(s->n * 95) / 100 < s->n ? (s->n * 95) / 100 : s->n - 1], sorted[s->n - 1],
	       target);
}

static void timed_key(struct series *s, struct ui *ui, int key)
{
	double t0 = now_ms();

	ui_key(ui, key);
	ui_render(ui);
	if (s->n < 1024)
		s->v[s->n++] = now_ms() - t0;
}

static void type_timed(struct series *s, struct ui *ui, const char *text)
{
	mbstate_t ps;
	wchar_t wc;
	size_t n, left = strlen(text);

	memset(&ps, 0, sizeof(ps));
	while (left > 0) {
		n = mbrtowc(&wc, text, left, &ps);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
			return;
		timed_key(s, ui, (int)wc);
		text += n;
		left -= n;
	}
}

/*
 * Puts `count` of the n people, picked at random (a fixed sequence), on the
 * list: as with a real list, its members fall anywhere in the address order.
 */
static int list_of(struct store *st, const char *list, long count, long n)
{
	struct store_import_stats stats;
	struct store_import_opts o = {0};
	char *err = NULL, *taken = calloc((size_t)n, 1);
	FILE *csv = tmpfile();
	long k = 0, i;
	int rc = 0;

	if (csv == NULL || taken == NULL || store_list_add(st, list, NULL, NULL, &err) != STORE_OK)
		rc = -1;
	for (i = 0; rc == 0 && k < count; i++) {
		/* splitmix64's finaliser: the picks have no pattern in the address order */
		unsigned long long z = (unsigned long long)i * 0x9e3779b97f4a7c15ULL;
		long j;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		j = (long)((z ^ (z >> 31)) % (unsigned long long)n);

		/* Not an unsubscribed one: an import would not bring them back. */
		if (j % 1000 == 5 || taken[j])
			continue;
		taken[j] = 1;
		if (k++ == 0)
			fputs("email\n", csv);
		/* The address as fill() wrote it. */
		fprintf(csv, j % 10 == 3 ? "u%07ld.%lx@example.jp\n" : "user%ld.%lx@example.com\n",
			j, (j * 2654435761L) & 0xffff);
	}
	free(taken);
	if (rc == 0) {
		rewind(csv);
		if (store_subscriber_import(st, list, csv, &o, &stats, &err) != STORE_OK ||
		    stats.imported != (uint64_t)count) {
			fprintf(stderr, "bench_browse: list %s: %s\n", list,
				err ? err : "not everyone was added");
			rc = -1;
		}
	}
	free(err);
	if (csv != NULL)
		fclose(csv);
	return rc;
}

static int fill(const char *store, long n)
{
	struct store *st = NULL;
	struct store_import_stats stats;
	struct store_import_opts o = {0};
	char *err = NULL;
	FILE *csv = tmpfile();
	double t0;
	long i;

	if (csv == NULL)
		return -1;
	fputs("email,name,plan\n", csv);
	for (i = 0; i < n; i++) {
		if (i % 10 == 3)
			fprintf(csv, "u%07ld.%lx@example.jp,%s %s%ld,pro\n", i,
				(i * 2654435761L) & 0xffff, family[i % 8], given[(i / 8) % 8], i);
		else
			fprintf(csv, "user%ld.%lx@example.com,Person %ld,free\n", i,
				(i * 2654435761L) & 0xffff, i);
	}
	rewind(csv);
	if (store_init(store, "admin", "admin-password-1", STORE_KDF_INTERACTIVE, &err) !=
		STORE_OK ||
	    store_open(store, "admin", "admin-password-1", &st, &err) != STORE_OK ||
	    store_user_add(st, "marketer", "marketer", "marketer-password-1", STORE_KDF_INTERACTIVE,
			   &err) != STORE_OK) {
		fprintf(stderr, "bench_browse: %s\n", err ? err : "set-up failed");
		return -1;
	}
	store_close(&st);
	if (store_open(store, "marketer", "marketer-password-1", &st, &err) != STORE_OK ||
	    store_list_add(st, "news", NULL, NULL, &err) != STORE_OK ||
	    store_list_add(st, "small", NULL, NULL, &err) != STORE_OK) {
		fprintf(stderr, "bench_browse: %s\n", err ? err : "set-up failed");
		return -1;
	}
	t0 = now_ms();
	if (store_subscriber_import(st, "news", csv, &o, &stats, &err) != STORE_OK) {
		fprintf(stderr, "bench_browse: import: %s\n", err ? err : "failed");
		return -1;
	}
	/* One in a thousand bounced, through the store's own event path is too slow: SQL-free
	 * unsubscribes instead (the status filter's partial index holds them). */
	for (i = 5; i < n; i += 1000) {
		char addr[64];
		if (i % 10 == 3)
			continue;
		snprintf(addr, sizeof(addr), "user%ld.%lx@example.com", i,
			 (i * 2654435761L) & 0xffff);
		store_subscriber_unsubscribe(st, addr, NULL, NULL, NULL);
	}
	/* A small list: ten people near the end of the address order. */
	for (i = n - 10; i < n; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "user%ld.%lx@example.com", i,
			 (i * 2654435761L) & 0xffff);
		if (i % 10 != 3)
			store_subscriber_add(st, "small", addr, NULL, NULL, 0, NULL, NULL);
	}
	if (list_of(st, "edge", 4000, n) != 0 || list_of(st, "over", 4001, n) != 0)
		return -1;
	fprintf(stderr, "# imported %llu subscribers in %.1f s\n",
		(unsigned long long)stats.imported, (now_ms() - t0) / 1e3);
	store_close(&st);
	fclose(csv);
	return 0;
}

/* A session logged in as the marketer (the KDF is not timed). */
static struct ui *login(const char *store)
{
	struct ui *ui = ui_new(store, "marketer");

	if (ui == NULL)
		return NULL;
	ui_resize(ui, 80, 24);
	ui_type(ui, "marketer-password-1");
	ui_key(ui, UI_KEY_ENTER);
	if (ui_store(ui) == NULL) {
		fprintf(stderr, "bench_browse: login failed\n");
		ui_free(&ui);
	}
	return ui;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	char dir[] = "/tmp/hato-bench-browse-XXXXXX", store[128], cmd[160];
	struct series open_s = {"open (load + first render)", {0}, 0};
	struct series pgdn = {"page down + render", {0}, 0};
	struct series pgup = {"page up + render", {0}, 0};
	struct series endhome = {"End / Home + render", {0}, 0};
	struct series search_addr = {"search keystroke: address", {0}, 0};
	struct series search_name = {"search keystroke: name", {0}, 0};
	struct series search_ja = {"search keystroke: Japanese name", {0}, 0};
	struct series filt = {"filter status:unsubscribed (0.1%)", {0}, 0};
	struct series filt_none = {"filter status:bounced (none)", {0}, 0};
	struct series small = {"filter list:small (10 of N)", {0}, 0};
	struct series edge = {"filter list:edge (4,000 of N)", {0}, 0};
	struct series over = {"filter list:over (4,001 of N)", {0}, 0};
	struct series cold = {"open in a new session", {0}, 0};
	struct series cold_pgdn = {"first page down, new session", {0}, 0};
	struct series cold_search = {"search keystrokes, new session", {0}, 0};
	struct series form = {"open the new-campaign form", {0}, 0};
	struct ui *ui;
	int i;

	setlocale(LC_ALL, "C.UTF-8");
	if (sodium_init() < 0 || n < 100 || mkdtemp(dir) == NULL)
		return 1;
	snprintf(store, sizeof(store), "%s/s/hato.db", dir);
	if (fill(store, n) != 0)
		return 1;
	ui = login(store);
	if (ui == NULL)
		return 1;
	for (i = 0; i < 21; i++) {
		double t0 = now_ms();
		ui_push(ui, &screen_subscribers_ops);
		ui_render(ui);
		open_s.v[open_s.n++] = now_ms() - t0;
		if (i < 20)
			ui_act(ui, UI_BACK);
	}
	for (i = 0; i < 200; i++)
		timed_key(&pgdn, ui, UI_KEY_PGDN);
	for (i = 0; i < 200; i++)
		timed_key(&pgup, ui, UI_KEY_PGUP);
	for (i = 0; i < 10; i++) {
		timed_key(&endhome, ui, UI_KEY_END);
		timed_key(&endhome, ui, UI_KEY_HOME);
	}
	for (i = 0; i < 5; i++) {
		ui_key(ui, '/');
		ui_key(ui, UI_CTRL('u'));
		type_timed(&search_addr, ui, "user12345");
		ui_key(ui, UI_CTRL('u'));
		type_timed(&search_name, ui, "Person 98765");
		ui_key(ui, UI_CTRL('u'));
		type_timed(&search_ja, ui, "山田 太郎");
		ui_key(ui, UI_KEY_ESC);
	}
	for (i = 0; i < 3; i++) {
		/* Each filter typed but its last key, which is timed. */
		const struct {
			struct series *s;
			const char *typed;
			int last;
		} filters[] = {{&filt, "status:unsubscribe", 'd'},
			       {&filt_none, "status:bounce", 'd'},
			       {&small, "list:smal", 'l'},
			       {&edge, "list:edg", 'e'},
			       {&over, "list:ove", 'r'}};
		size_t f;

		ui_key(ui, '/');
		for (f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
			ui_key(ui, UI_CTRL('u'));
			ui_type(ui, filters[f].typed);
			timed_key(filters[f].s, ui, filters[f].last);
		}
		ui_key(ui, UI_KEY_ESC);
	}
	if (getenv("BENCH_SHOW") != NULL) { /* what the last frames showed, to check the bench */
		char *dump;
		ui_key(ui, '/');
		ui_type(ui, "山田 太郎1");
		dump = grid_dump(ui_render(ui));
		fprintf(stderr, "%s", dump);
		free(dump);
		ui_key(ui, UI_KEY_ESC);
		ui_act(ui, UI_END);
		dump = grid_dump(ui_render(ui));
		fprintf(stderr, "%s", dump);
		free(dump);
	}
	/* The campaign form names the lists; it must not count their members. */
	for (i = 0; i < 21; i++) {
		double t0 = now_ms();
		ui_campaign_form(ui, NULL);
		ui_render(ui);
		form.v[form.n++] = now_ms() - t0;
		ui_key(ui, UI_KEY_ESC); /* the name's prompt */
		ui_key(ui, UI_KEY_ESC); /* the empty form */
	}
	/* A new session each time: SQLite's page cache starts empty (the OS's does not). */
	for (i = 0; i < 5; i++) {
		double t0;
		ui_free(&ui);
		ui = login(store);
		if (ui == NULL)
			return 1;
		t0 = now_ms();
		ui_push(ui, &screen_subscribers_ops);
		ui_render(ui);
		cold.v[cold.n++] = now_ms() - t0;
		timed_key(&cold_pgdn, ui, UI_KEY_PGDN);
		timed_key(&cold_search, ui, '/');
		type_timed(&cold_search, ui, "user5");
	}
	printf("Subscriber browser with %ld subscribers, 80x24 (ms)\n", n);
	printf("%-34s %6s %9s %9s %9s   %s\n", "step", "runs", "median", "p95", "max", "target");
	row(&open_s, "< 200");
	row(&cold, "< 200");
	row(&cold_pgdn, "< 50");
	row(&cold_search, "< 50");
	row(&pgdn, "< 50");
	row(&pgup, "< 50");
	row(&endhome, "< 50");
	row(&search_addr, "< 50");
	row(&search_name, "< 50");
	row(&search_ja, "< 50");
	row(&filt, "< 50");
	row(&filt_none, "< 50");
	row(&small, "< 50");
	row(&edge, "< 50");
	row(&over, "< 50");
	row(&form, "< 50");
	ui_free(&ui);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
