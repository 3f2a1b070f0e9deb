/*
 * tui/term.c: the only file that talks to curses. It starts ncursesw, copies
 * a cell grid to the screen, reads keys and turns them into enum ui_key, and
 * restores the terminal on every way out: a normal exit, exit() from anywhere
 * (atexit), and the signals that would end the process, whose handler ends
 * curses and re-raises the signal with its default action. Ctrl-C (SIGINT)
 * is read as a key instead, UI_KEY_INTERRUPT: the UI decides how to leave.
 */
#include <curses.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "tui/outfile.h"
#include "tui/ui.h"

static volatile sig_atomic_t started;
/* Ctrl-C not yet read as UI_KEY_INTERRUPT by term_key. */
static volatile sig_atomic_t interrupted;
static bool colour;

enum { PAIR_TITLE = 1, PAIR_ERROR, PAIR_OK, PAIR_DIM };

static const int fatal_signals[] = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
				    SIGSEGV, SIGABRT, SIGBUS, SIGFPE};

void term_end(void)
{
	if (!started)
		return;
	started = 0;
	endwin();
}

static void on_signal(int sig)
{
	/* A file of people's data being written (an export) goes first. */
	outfile_on_signal();
	/* endwin() is not async-signal-safe, but leaving the terminal raw is worse. */
	term_end();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Ctrl-C is a request to leave, which the UI reads as UI_KEY_INTERRUPT (it
 * asks first when leaving would stop a worker or drop what was typed). A
 * second one before the UI has read the first (it is busy) ends hato at once.
 */
static void on_interrupt(int sig)
{
	if (interrupted) {
		on_signal(sig);
		return;
	}
	interrupted = 1;
}

static void handle_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
	/* No SA_RESTART: the read of a key returns at once. */
	sa.sa_handler = on_interrupt;
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
}

static void start_colour(void)
{
	const char *no = getenv("NO_COLOR");

	colour = false;
	if ((no != NULL && *no != '\0') || !has_colors() || start_color() != OK)
		return;
	use_default_colors();
	init_pair(PAIR_TITLE, COLOR_WHITE, COLOR_BLUE);
	init_pair(PAIR_ERROR, COLOR_RED, -1);
	init_pair(PAIR_OK, COLOR_GREEN, -1);
	init_pair(PAIR_DIM, COLOR_CYAN, -1);
	colour = true;
}

int term_start(void)
{
	static bool once;

	if (!once) {
		atexit(term_end);
		once = true;
	}
	if (getenv("ESCDELAY") == NULL)
		set_escdelay(25);
	handle_signals();
	if (initscr() == NULL)
		return -1;
	started = 1;
	cbreak(); /* not raw(): Ctrl-C still raises SIGINT, which restores the terminal */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	intrflush(stdscr, FALSE);
	start_colour();
	curs_set(0);
	return 0;
}

void term_size(int *w, int *h)
{
	getmaxyx(stdscr, *h, *w);
}

static attr_t attrs_of(int a)
{
	attr_t out = A_NORMAL;

	if (a & UI_A_BOLD)
		out |= A_BOLD;
	if (a & UI_A_REVERSE)
		out |= A_REVERSE;
	if (a & UI_A_UNDERLINE)
		out |= A_UNDERLINE;
	if (colour) {
		if (a & UI_A_TITLE)
			out |= (attr_t)COLOR_PAIR(PAIR_TITLE);
		else if (a & UI_A_ERROR)
			out |= (attr_t)COLOR_PAIR(PAIR_ERROR) | A_BOLD;
		else if (a & UI_A_OK)
			out |= (attr_t)COLOR_PAIR(PAIR_OK);
		else if (a & UI_A_DIM)
			out |= (attr_t)COLOR_PAIR(PAIR_DIM);
	} else {
		/* Without colour the roles still read: a reverse title, bold errors. */
		if (a & UI_A_TITLE)
			out |= A_REVERSE;
		if (a & UI_A_ERROR)
			out |= A_BOLD;
	}
	return out;
}

void term_draw(const struct grid *g, int row, int col)
{
	const struct grid_cell *c;
	int r, x, h, w;

	getmaxyx(stdscr, h, w);
	erase();
	for (r = 0; r < g->h && r < h; r++) {
		for (x = 0; x < g->w && x < w; x++) {
			c = &g->cells[(size_t)r * (size_t)g->w + (size_t)x];
			if (c->width == 0)
				continue;
			/* The bottom-right cell would scroll some terminals: leave it. */
			if (r == h - 1 && x + c->width >= w)
				continue;
			attrset(attrs_of(c->attr));
			mvaddstr(r, x, c->ch);
		}
	}
	attrset(A_NORMAL);
	if (row >= 0 && row < h && col >= 0 && col < w) {
		curs_set(1);
		move(row, col);
	} else {
		curs_set(0);
	}
	refresh();
}

static int special(int k)
{
	switch (k) {
	case KEY_UP:
		return UI_KEY_UP;
	case KEY_DOWN:
		return UI_KEY_DOWN;
	case KEY_LEFT:
		return UI_KEY_LEFT;
	case KEY_RIGHT:
		return UI_KEY_RIGHT;
	case KEY_PPAGE:
		return UI_KEY_PGUP;
	case KEY_NPAGE:
		return UI_KEY_PGDN;
	case KEY_HOME:
		return UI_KEY_HOME;
	case KEY_END:
		return UI_KEY_END;
	case KEY_ENTER:
		return UI_KEY_ENTER;
	case KEY_BACKSPACE:
		return UI_KEY_BACKSPACE;
	case KEY_DC:
		return UI_KEY_DELETE;
	case KEY_F(1):
		return UI_KEY_F1;
	case KEY_F(5):
		return UI_KEY_F5;
	case KEY_RESIZE:
		return UI_KEY_RESIZE;
	default:
		return UI_KEY_NONE;
	}
}

/* The keys some terminals send that the terminfo entry in use may not name. */
static const struct {
	const char *seq; /* after ESC */
	int key;
} sequences[] = {
    {"[A", UI_KEY_UP},	  {"[B", UI_KEY_DOWN},	{"[C", UI_KEY_RIGHT},	{"[D", UI_KEY_LEFT},
    {"OA", UI_KEY_UP},	  {"OB", UI_KEY_DOWN},	{"OC", UI_KEY_RIGHT},	{"OD", UI_KEY_LEFT},
    {"[H", UI_KEY_HOME},  {"OH", UI_KEY_HOME},	{"[1~", UI_KEY_HOME},	{"[7~", UI_KEY_HOME},
    {"[F", UI_KEY_END},	  {"OF", UI_KEY_END},	{"[4~", UI_KEY_END},	{"[8~", UI_KEY_END},
    {"[5~", UI_KEY_PGUP}, {"[6~", UI_KEY_PGDN}, {"[3~", UI_KEY_DELETE}, {"OP", UI_KEY_F1},
    {"[11~", UI_KEY_F1},  {"[15~", UI_KEY_F5},
};

/*
 * After an ESC that curses did not turn into a key: a lone Esc, or the rest
 * of a sequence that the terminfo entry does not know (End under a TERM that
 * does not match the terminal). Curses has waited ESCDELAY for more already,
 * so what follows at once belongs to the sequence. It is read to its end and
 * named when it is a common one, else it is UI_KEY_UNKNOWN: never Esc.
 */
static int escape_sequence(void)
{
	char seq[16];
	size_t n = 0, i;
	wint_t wc;
	int rc;

	timeout(0);
	while (n < sizeof(seq) - 1) {
		rc = get_wch(&wc);
		if (rc == ERR)
			break;
		/* Esc pressed twice, or a key curses knows: the next key, not ours. */
		if (rc == KEY_CODE_YES) {
			ungetch((int)wc);
			break;
		}
		if (n == 0 && wc == 27) {
			unget_wch(wc);
			break;
		}
		seq[n++] = wc < 0x80 ? (char)wc : '?';
		/* ESC [ parameters final, ESC O final, or ESC and one key (Alt). */
		if (n == 1 && wc != '[' && wc != 'O')
			break;
		if (n > 1 && (seq[0] == 'O' || (wc >= 0x40 && wc <= 0x7e)))
			break;
	}
	seq[n] = '\0';
	if (n == 0)
		return UI_KEY_ESC;
	for (i = 0; i < sizeof(sequences) / sizeof(sequences[0]); i++)
		if (strcmp(seq, sequences[i].seq) == 0)
			return sequences[i].key;
	return UI_KEY_UNKNOWN;
}

int term_key(int timeout_ms)
{
	wint_t wc = 0;
	int rc = ERR;

	if (!interrupted) {
		timeout(timeout_ms);
		rc = get_wch(&wc);
	}
	if (interrupted) {
		interrupted = 0;
		return UI_KEY_INTERRUPT;
	}
	if (rc == ERR)
		return UI_KEY_NONE;
	if (rc == KEY_CODE_YES)
		return special((int)wc);
	switch (wc) {
	case '\r':
	case '\n':
		return UI_KEY_ENTER;
	case 27:
		return escape_sequence();
	case '\t':
		return UI_KEY_TAB;
	case 127:
	case 8:
		return UI_KEY_BACKSPACE;
	default:
		return (int)wc;
	}
}

void term_flush(void)
{
	if (started)
		flushinp();
}

/* marketer: $EDITOR runs on the real terminal, as in mutt and git. */
static bool suspended;

void term_suspend(void)
{
	if (!started)
		return;
	def_prog_mode();
	endwin();
	started = 0;
	suspended = true;
}

void term_resume(void)
{
	if (!suspended)
		return;
	suspended = false;
	reset_prog_mode();
	started = 1;
	clearok(curscr, TRUE);
	refresh();
}
