/*
 * tui/screen_import.c: importing a CSV file into a list, from the
 * subscribers or the lists screen. Asks for the file and the list, runs
 * store_subscriber_import with a progress bar that is redrawn as it goes
 * (ui_busy draws the frame at once), then shows the summary and where the
 * rejected rows are: FILE.rejects.csv, mode 0600, made at the first bad
 * row and kept only when the import went through, so that a file already
 * there is never lost (outfile.h) and good rows need no folder that can be
 * written. Esc
 * stops a running import, which is then rolled back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tui/cli.h"
#include "tui/outfile.h"
#include "tui/ui.h"

enum { ASK_PATH = 1, ASK_LIST };

struct import {
	struct screen *s;
	char path[1024], list[65], rejects[1100];
	/* The paths as messages name them: escaped (cli_escape), at most 4 bytes a byte. */
	char shown[4 * 1024], shown_rejects[4 * 1100];
	uint64_t size, bytes, rows;
	struct timespec last; /* the last redraw */
	bool running, done, failed;
	volatile sig_atomic_t stop; /* Esc was pressed: the import stops */
	struct store_import_stats stats;
};

static int import_open(struct screen *s)
{
	struct import *im = calloc(1, sizeof(*im));

	if (im == NULL)
		return -1;
	im->s = s;
	snprintf(im->list, sizeof(im->list), "%s", ui_marketer_target()->list);
	ui_marketer_target()->list[0] = '\0';
	s->priv = im;
	ui_input(s->ui, ASK_PATH, 0, NULL, "CSV file to import: ");
	return 0;
}

static void import_close(struct screen *s)
{
	free(s->priv);
	s->priv = NULL;
}

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Redraws at most ten times a second: the import is not slowed by drawing. */
static void progress(uint64_t bytes, uint64_t rows, void *arg)
{
	struct import *im = arg;

	im->bytes = bytes;
	im->rows = rows;
	if (since(&im->last) < 0.1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &im->last);
	if (ui_interrupted(im->s->ui))
		im->stop = 1;
	ui_busy(im->s->ui, "importing %s into %s: %llu rows read%s", im->shown, im->list,
		(unsigned long long)rows, im->stop ? "; stopping..." : " (Esc stops)");
}

static void run(struct screen *s)
{
	struct import *im = s->priv;
	struct store_import_opts o = {0};
	enum store_status rc;
	char *err = NULL, source[1100];
	struct stat sb;
	struct outfile rj = {0};
	struct outfile_lazy lazy = {&rj, NULL, "", NULL, false, NULL};
	FILE *in;
	int kept;

	in = fopen(im->path, "rb");
	if (in == NULL || fstat(fileno(in), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		ui_error(s->ui, "cannot open %s: %s", im->shown,
			 in == NULL ? strerror(errno) : "not a file");
		if (in != NULL)
			fclose(in);
		return;
	}
	/* Made at the first bad row: good rows need no folder that can be written. */
	snprintf(im->rejects, sizeof(im->rejects), "%s.rejects.csv", im->path);
	cli_escape(im->shown_rejects, sizeof(im->shown_rejects), im->rejects);
	lazy.path = im->rejects;
	lazy.shown = im->shown_rejects;
	lazy.st = ui_store(s->ui);
	o.open_rejects = outfile_lazy_open;
	o.rejects_arg = &lazy;
	o.rejects_name = im->shown_rejects;
	snprintf(source, sizeof(source), "import %s", im->path);
	o.source = source;
	o.progress = progress;
	o.arg = im;
	im->stop = 0;
	o.stop = &im->stop;
	im->size = (uint64_t)sb.st_size;
	im->running = true;
	clock_gettime(CLOCK_MONOTONIC, &im->last);
	ui_busy(s->ui, "importing %s into %s... (Esc stops)", im->shown, im->list);
	rc = store_subscriber_import(ui_store(s->ui), im->list, in, &o, &im->stats, &err);
	im->running = false;
	im->bytes = im->size;
	fclose(in);
	kept = outfile_finish(&rj, rc == STORE_OK && im->stats.invalid > 0);
	if (kept != 0) {
		ui_error(s->ui, "cannot write %s: %s", im->shown_rejects, outfile_why(&rj, errno));
		return;
	}
	if (rc != STORE_OK) {
		im->failed = true;
		ui_error_store(s->ui, rc, err);
		return;
	}
	free(err);
	im->done = true;
	ui_info(s->ui, "imported %llu and updated %llu from %s",
		(unsigned long long)im->stats.imported, (unsigned long long)im->stats.updated,
		im->shown);
}

static int import_handle(struct screen *s, enum ui_action a)
{
	struct import *im = s->priv;
	const char *text;

	if (a == UI_INPUT_CANCEL) {
		if (!im->done)
			ui_pop(s->ui);
		return UI_REDRAW_ALL;
	}
	if (a != UI_INPUT_DONE)
		return UI_REDRAW_NONE;
	text = ui_input_text(s->ui);
	if (ui_input_tag(s->ui) == ASK_PATH) {
		if (*text == '\0') {
			ui_pop(s->ui);
			return UI_REDRAW_ALL;
		}
		snprintf(im->path, sizeof(im->path), "%s", text);
		cli_escape(im->shown, sizeof(im->shown), im->path);
		ui_input(s->ui, ASK_LIST, 0, im->list, "Into the list: ");
		return UI_REDRAW_ALL;
	}
	snprintf(im->list, sizeof(im->list), "%s", text);
	run(s);
	return UI_REDRAW_ALL;
}

static void bar(struct grid *g, int y, uint64_t part, uint64_t whole)
{
	int width = g->w - 14, fill, i;
	int pct = whole ? (int)(part * 100 / whole) : 100;

	if (width < 10)
		width = 10;
	if (pct > 100)
		pct = 100;
	fill = pct * width / 100;
	grid_put(g, y, 2, 1, UI_A_NORMAL, "[");
	for (i = 0; i < width; i++)
		grid_put(g, y, 3 + i, 1, i < fill ? UI_A_REVERSE : UI_A_DIM, i < fill ? "#" : ".");
	grid_printf(g, y, 3 + width, UI_A_NORMAL, "] %3d%%", pct);
}

static void import_render(struct screen *s, struct grid *g)
{
	struct import *im = s->priv;
	const struct store_import_stats *t = &im->stats;
	char line[sizeof(im->shown_rejects) + 120];

	grid_put(g, 1, 2, -1, UI_A_BOLD, "Import a CSV file");
	grid_put(g, 3, 2, -1, UI_A_DIM,
		 "The header names an email column; name, consent_source, consent_at,");
	grid_put(g, 4, 2, -1, UI_A_DIM,
		 "consent_text, consent_method, consent_ip, consent_version and");
	grid_put(g, 5, 2, -1, UI_A_DIM,
		 "consent_confirmed_at are known; every other column is an attribute.");
	if (im->path[0] != '\0')
		grid_printf(g, 7, 2, UI_A_NORMAL, "File  %s", im->shown);
	if (im->list[0] != '\0' && (im->running || im->done || im->failed))
		grid_printf(g, 8, 2, UI_A_NORMAL, "List  %s", im->list);
	if (im->running || im->done) {
		bar(g, 9, im->bytes, im->size);
		grid_printf(g, 10, 2, UI_A_DIM, "%llu rows read", (unsigned long long)im->rows);
	}
	if (im->failed)
		grid_put(g, 9, 2, -1, UI_A_ERROR, "Nothing was imported; the store is as it was.");
	if (!im->done)
		return;
	grid_put(g, 12, 2, -1, UI_A_BOLD, "Summary");
	grid_printf(g, 13, 4, UI_A_NORMAL, "rows read    %10llu", (unsigned long long)t->rows);
	grid_printf(g, 14, 4, UI_A_OK, "imported     %10llu", (unsigned long long)t->imported);
	grid_printf(g, 15, 4, UI_A_NORMAL, "updated      %10llu%s", (unsigned long long)t->updated,
		    t->kept_unsubscribed ? "  (unsubscribed, bounced or complained ones stay so)"
					 : "");
	grid_printf(g, 16, 4, t->invalid ? UI_A_ERROR : UI_A_NORMAL, "invalid      %10llu",
		    (unsigned long long)t->invalid);
	grid_printf(g, 17, 4, UI_A_NORMAL, "duplicate    %10llu", (unsigned long long)t->duplicate);
	grid_printf(g, 18, 4, UI_A_NORMAL, "suppressed   %10llu",
		    (unsigned long long)t->suppressed);
	if (t->invalid > 0) {
		snprintf(line, sizeof(line),
			 "The rejected rows, with line numbers and reasons, are in %s; fixed, "
			 "that file can be imported as it is",
			 im->shown_rejects);
		grid_wrap(g, 19, 2, g->h - 19, UI_A_NORMAL, line);
	}
}

static const struct screen_verb import_verbs[] = {
    {UI_INPUT_DONE, NULL, STORE_PERM_NONE, NULL, false},
    {UI_INPUT_CANCEL, NULL, STORE_PERM_NONE, NULL, false},
    {UI_NONE, NULL, STORE_PERM_NONE, NULL, false},
};

const struct screen_ops screen_import_ops = {
    .title = "Import",
    .perm = STORE_PERM_SUBSCRIBERS_WRITE,
    .verbs = import_verbs,
    .open = import_open,
    .handle = import_handle,
    .render = import_render,
    .close = import_close,
};
