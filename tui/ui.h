/*
 * tui/ui.h: the terminal UI. `hato` with no command opens it.
 *
 * A screen never sees a raw key and never draws to the terminal. The loop in
 * ui.c reads a key (term.c), turns it into an action through the keymap
 * (keymap.c), gives the action to the top screen's ops table, and when the
 * screen says something changed, renders every layer into a cell grid
 * (grid.c) that term.c copies to the terminal. Tests drive the same loop with
 * ui_key()/ui_act() and compare ui_render()'s grid with golden files.
 *
 * Files:
 *   ui.c            the session: screen stack, dispatch, status line
 *   prompt.c        the prompt: its line editor, y/n questions, answers
 *   layout.c        the frame: title bar, body, hint line or prompt, status line
 *   ui_private.h    what ui.c and layout.c share: struct ui
 *   term.c          the only file that includes <curses.h>: start, draw, keys, restore
 *   grid.c          the cell grid: UTF-8 text clipped by display width
 *   table.c         a scrolling table with a cursor, used by most screens
 *   keymap.c        keys -> actions, with the descriptions the `?` help shows
 *   screen_login.c, screen_dashboard.c, screen_help.c, screen_users.c,
 *   screen_roles.c, screen_audit.c, screen_settings.c: one screen each
 *
 * Adding a screen: write tui/screen_X.c with `const struct screen_ops
 * screen_X_ops` (title, permission, verbs, load/handle/render), declare it
 * below and list it in ui_screens[] in ui.c. The dashboard then offers it to
 * the roles that hold its permission, and `?` documents its verbs.
 *
 * Depends on: store (and later send, templates), ncursesw in term.c only.
 */
#ifndef HATO_TUI_UI_H
#define HATO_TUI_UI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

struct cli;

/* ---- The cell grid (grid.c) ------------------------------------------- */

enum ui_attr {
	UI_A_NORMAL = 0,
	UI_A_BOLD = 1 << 0,
	UI_A_REVERSE = 1 << 1, /* the selection: visible without colour */
	UI_A_UNDERLINE = 1 << 2,
	/* Colour roles: term.c colours them, or falls back to plain attributes. */
	UI_A_TITLE = 1 << 3, /* title bar (reverse without colour) */
	UI_A_ERROR = 1 << 4, /* errors (bold without colour) */
	UI_A_OK = 1 << 5,    /* good news */
	UI_A_DIM = 1 << 6,   /* placeholders, hints */
};

struct grid_cell {
	char ch[16];	     /* one UTF-8 character and the marks that combine with it (U+0301...),
			      * NUL-terminated; "" in a wide char's 2nd cell */
	unsigned char width; /* 1, 2 (a wide character), 0 (the right half of one) */
	unsigned short attr; /* enum ui_attr bits */
};

struct grid {
	int w, h;
	struct grid_cell *cells; /* h rows of w cells */
	char note[32];		 /* which rows of a long table show ("2-4 of 7"), or "" */
};

/* Allocates a blank w x h grid. Returns 0, or -1 when out of memory. */
int grid_init(struct grid *g, int w, int h);
/* Frees the cells; the grid becomes 0 x 0. Accepts an empty grid. */
void grid_free(struct grid *g);
/* Blanks every cell and empties the note. */
void grid_clear(struct grid *g);
/*
 * Writes the UTF-8 string s at (row, col), at most maxw columns (maxw < 0:
 * to the right edge) and never past the edge. Text that does not fit is cut
 * and ends in "…", never in half a wide character; control characters and
 * bad UTF-8 become '?'; zero-width characters are dropped. Returns the
 * columns written.
 */
int grid_put(struct grid *g, int row, int col, int maxw, int attr, const char *s);
/*
 * Writes s from (row, col) wrapped at the grid's width (less one column),
 * breaking at spaces, on at most maxrows rows; text that does not fit ends
 * in "…". Returns the rows used.
 */
int grid_wrap(struct grid *g, int row, int col, int maxrows, int attr, const char *s);
/* The rows grid_wrap would need for all of s, from column col of g. */
int grid_wrap_rows(const struct grid *g, int col, const char *s);
/*
 * The bytes of the longest start of s that fits in maxw columns; with
 * at_space, broken before a space when s goes on and has one there. 0: not
 * one character fits.
 */
size_t grid_fit(const char *s, int maxw, bool at_space);
/* s cut to maxw columns, ending in "…" when cut, into buf (truncated to size). Returns buf. */
const char *grid_clip(const char *s, int maxw, char *buf, size_t size);
/* grid_put of a formatted string (at most 1 KiB) to the right edge. */
int grid_printf(struct grid *g, int row, int col, int attr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* ORs attr over cells [col, col + n) of the row (n < 0: to the edge). */
void grid_attr(struct grid *g, int row, int col, int n, int attr);
/* Copies src into dst with src's top-left corner at (row, 0), clipped. */
void grid_blit(struct grid *dst, const struct grid *src, int row);
/* The grid as text: one line per row, trailing blanks removed. Allocated. */
char *grid_dump(const struct grid *g);
/* Display width of s, as grid_put counts it (see text_width). */
int grid_width(const char *s);

/* ---- Keys and actions (keymap.c) -------------------------------------- */

/* A key is a Unicode code point, or one of these. */
enum ui_key {
	UI_KEY_NONE = -1, /* no key before the timeout */
	UI_KEY_BASE = 0x110000,
	UI_KEY_UP,
	UI_KEY_DOWN,
	UI_KEY_LEFT,
	UI_KEY_RIGHT,
	UI_KEY_PGUP,
	UI_KEY_PGDN,
	UI_KEY_HOME,
	UI_KEY_END,
	UI_KEY_ENTER,
	UI_KEY_ESC,
	UI_KEY_BACKSPACE,
	UI_KEY_DELETE,
	UI_KEY_TAB,
	UI_KEY_F1,
	UI_KEY_F5,
	UI_KEY_RESIZE,
	UI_KEY_UNKNOWN,	  /* a sequence the terminal sent that hato does not know: never Esc */
	UI_KEY_INTERRUPT, /* Ctrl-C: a request to leave hato, asking first when that loses work */
};
#define UI_CTRL(c) ((c)&0x1f)

enum ui_action {
	UI_NONE = 0,
	UI_UP,
	UI_DOWN,
	UI_PGUP,
	UI_PGDN,
	UI_HOME,
	UI_END,
	UI_ENTER,
	UI_BACK,
	UI_QUIT,
	UI_SEARCH,
	UI_HELP,
	UI_NEW,
	UI_DELETE,
	UI_EDIT,
	UI_REFRESH,
	UI_TAB,
	UI_TOGGLE,
	UI_UNLOCK,
	UI_ROLE,
	UI_VERIFY,
	/* campaign: the campaign screens' verbs (keymap.c lists their keys) */
	UI_APPROVE,
	UI_REJECT,
	UI_SCHEDULE,
	UI_SEND_NOW,
	UI_PAUSE,
	UI_RESUME,
	UI_CANCEL,
	UI_CHECK,
	UI_SUBMIT,
	UI_COPY,
	UI_SAVE,
	UI_WORKER,
	UI_MONITOR,
	/* end of campaign */
	/* marketer: the marketer screens' verbs (keymap.c lists their keys) */
	UI_IMPORT,   /* import a CSV file */
	UI_SUPPRESS, /* put the address on the suppression list */
	UI_EXPORT,   /* export to a CSV file */
	/* end of marketer */
	/* Not bound to keys: sent by the framework. */
	UI_INPUT_DONE,	  /* the screen's prompt was answered; see ui_input() */
	UI_INPUT_CANCEL,  /* the screen's prompt was cancelled (Esc, or n to a y/n) */
	UI_TICK,	  /* a second passed without a key */
	UI_INPUT_CHANGED, /* marketer: the prompt's text changed (UI_INPUT_NOTIFY) */
	UI_ACTION_COUNT,
};

struct ui_binding {
	int key; /* enum ui_key or a code point */
	enum ui_action action;
	const char *keyname; /* as the help shows it: "Up", "k", "Ctrl-L" */
	const char *help;    /* what the action does, unless a screen says better */
};

/* The keymap, ended by an entry with action UI_NONE. */
extern const struct ui_binding ui_keymap[];
/* The action bound to key, or UI_NONE. */
enum ui_action ui_keymap_lookup(int key);
/* The keys of an action joined by ", " into buf ("Up, k"). Returns buf. */
const char *ui_keymap_keys(enum ui_action a, char *buf, size_t size);
/* The keymap's description of an action, or "". */
const char *ui_keymap_help(enum ui_action a);

/* ---- Screens ---------------------------------------------------------- */

struct ui;
struct screen;

/* What handle() says must be redrawn (bits). */
enum ui_redraw {
	UI_REDRAW_NONE = 0,
	UI_REDRAW_BODY = 1 << 0,
	UI_REDRAW_STATUS = 1 << 1,
	UI_REDRAW_ALL = UI_REDRAW_BODY | UI_REDRAW_STATUS,
};

/* An action a screen handles: its help line and the permission it needs. */
struct screen_verb {
	enum ui_action action;
	const char *help;     /* "disable the user"; NULL: the keymap's words */
	enum store_perm perm; /* checked before handle(); STORE_PERM_NONE: none */
	/*
	 * The action a refusal for want of perm writes to the audit trail: the
	 * command line's name for the same act ("hato user disable"), so that
	 * refusals read alike from both; NULL: "tui: " and the help words.
	 */
	const char *audit;
	/*
	 * It acts on people by their addresses (import, export, or the person
	 * of a record), which needs the permission pii as well.
	 */
	bool pii;
};

/*
 * The verbs of a screen whose table moves with ui_table_move(): put it first
 * in the screen's verbs, before the screen's own.
 */
/* clang-format off */
#define UI_TABLE_VERBS                          \
	{UI_UP, NULL, STORE_PERM_NONE, NULL, false},   \
	{UI_DOWN, NULL, STORE_PERM_NONE, NULL, false}, \
	{UI_PGUP, NULL, STORE_PERM_NONE, NULL, false}, \
	{UI_PGDN, NULL, STORE_PERM_NONE, NULL, false}, \
	{UI_HOME, NULL, STORE_PERM_NONE, NULL, false}, \
	{UI_END, NULL, STORE_PERM_NONE, NULL, false}
/* clang-format on */

struct screen_ops {
	const char *title;
	enum store_perm perm;  /* to open the screen; STORE_PERM_NONE: any user */
	const char *menu_help; /* the dashboard's line for it; NULL: not on the menu */
	/* The verbs, ended by {UI_NONE}; `?` lists them, others are refused. */
	const struct screen_verb *verbs;
	/* Allocates s->priv. Returns 0, or -1 after ui_error(). May be NULL. */
	int (*open)(struct screen *s);
	/* (Re)reads the model. Returns 0, or -1 after ui_error(). May be NULL. */
	int (*load)(struct screen *s);
	/* Handles a verb; returns enum ui_redraw bits. */
	int (*handle)(struct screen *s, enum ui_action a);
	/* Draws the body: g is the area between the title bar and the hint line. */
	void (*render)(struct screen *s, struct grid *g);
	/* Frees s->priv. May be NULL. */
	void (*close)(struct screen *s);
	/* One line for the dashboard ("4 users, 1 locked"); may be NULL. */
	void (*summary)(struct ui *ui, char *buf, size_t size);
	/*
	 * True when leaving hato now would throw away what was typed on this
	 * screen (a form not saved), so that Q and Ctrl-C ask first. May be NULL.
	 */
	bool (*unsaved)(struct screen *s);
};

struct screen {
	const struct screen_ops *ops;
	struct ui *ui;
	void *priv;
};

/* The screens the dashboard may offer, ended by NULL (ui.c). */
extern const struct screen_ops *const ui_screens[];

extern const struct screen_ops screen_login_ops;
extern const struct screen_ops screen_dashboard_ops;
extern const struct screen_ops screen_help_ops;
extern const struct screen_ops screen_users_ops;
extern const struct screen_ops screen_roles_ops;
extern const struct screen_ops screen_audit_ops;
extern const struct screen_ops screen_settings_ops;

/* campaign screens (screen_campaigns.c, screen_campaign_edit.c, screen_review.c,
 * screen_monitor.c, screen_sending.c; shared parts in campaign.c and worker.c) */
extern const struct screen_ops screen_campaigns_ops;
extern const struct screen_ops screen_campaign_form_ops;
extern const struct screen_ops screen_review_ops;
extern const struct screen_ops screen_monitor_ops;
extern const struct screen_ops screen_sending_ops;

/*
 * The live monitor's clock, in seconds (CLOCK_MONOTONIC); tests set one of
 * their own to know the intervals' lengths. NULL: the real one.
 */
void ui_monitor_clock(double (*now)(void));
/* The campaign the next monitor opens on (copied; NULL forgets it), and it. */
void ui_campaign_select(const char *name);
const char *ui_campaign_selected(void);
/* Opens the campaign form: a new draft (name NULL) or an edit of `name`. 0 or -1. */
int ui_campaign_form(struct ui *ui, const char *name);

/* Pre-send checks of a campaign and its recipient count (campaign.c). */
struct ui_check {
	char **lines; /* "error    body:3:5     unknown-tag   ..." each allocated */
	size_t n, errors, warnings;
	int64_t recipients; /* -1: not counted */
};
/* Runs the checks; 0, or -1 with *errstr (allocated). Free with ui_check_free. */
int ui_check_run(struct store *st, const struct store_campaign *c, struct ui_check *out,
		 char **errstr);
void ui_check_free(struct ui_check *k);

/*
 * The message the campaign's first recipient would get, decoded for the
 * screen: From, To and Subject (RFC 2047 decoded) and the text part's lines.
 * Without STORE_PERM_PII the recipient is a placeholder with the first
 * recipient's masked address and no name or attributes. 0, or -1 with
 * *errstr (allocated). Free with ui_preview_free.
 */
struct ui_preview {
	char *from, *to, *subject, *note;
	char **lines;
	size_t n;
	size_t dkim_keys;
};
int ui_preview_make(struct store *st, const struct store_campaign *c, struct ui_preview *out,
		    char **errstr);
void ui_preview_free(struct ui_preview *p);
/* Decodes a composed message (for tests of the decoder). */
int ui_preview_parse(const char *msg, size_t len, struct ui_preview *out);

/* Draws the last `width` of v[0..n) as ▁▂▃▄▅▆▇█ scaled to their maximum. */
void ui_sparkline(struct grid *g, int row, int col, int width, const int64_t *v, size_t n);
/* "2026-12-01 09:00 UTC" or "-" for 0. */
void ui_campaign_time(time_t t, char *buf, size_t size);

/*
 * This session's background worker (worker.c): a child process that opens
 * its own store with the password given here (wiped at once, never kept)
 * and runs send_worker_run until SIGTERM, logging to STORE.worker.log (the
 * store's absolute path with .worker.log appended; ui_worker_line says it).
 * Returns 0, or -1 with *errstr (allocated) when it could not start.
 */
int ui_worker_start(const char *store_path, const char *user, const char *password, char **errstr);
/* The child's pid, or 0 when none runs (a dead child is reaped). */
long ui_worker_pid(void);
/* Stops the child (SIGTERM, then waits a few seconds). Safe without one. */
void ui_worker_stop(void);
/* Offers a worker: asks for the password (a secret prompt with `tag`). Redraw bits. */
int ui_worker_offer(struct ui *ui, int tag);
/* Starts the worker with the answer to that prompt and says how it went. Redraw bits. */
int ui_worker_answer(struct ui *ui, const char *password);
/* "worker: running (pid N)" and the like, for the dashboard and the review queue. */
void ui_worker_line(struct store *st, char *buf, size_t size, bool *running);
/* end of campaign screens */

/* marketer screens (screen_subscribers.c, screen_member.c, screen_import.c,
 * screen_lists.c, screen_templates.c) */
extern const struct screen_ops screen_subscribers_ops;
extern const struct screen_ops screen_member_ops;
extern const struct screen_ops screen_import_ops;
extern const struct screen_ops screen_lists_ops;
extern const struct screen_ops screen_segments_ops;
extern const struct screen_ops screen_segment_edit_ops;
extern const struct screen_ops screen_templates_ops;
extern const struct screen_ops screen_preview_ops;
/*
 * What a marketer screen opens the next one on, set just before ui_push()
 * and read by the new screen's open(): a subscriber's id, a list, a segment
 * (empty: a new one), a template.
 */
struct ui_marketer_target {
	int64_t subscriber;
	char list[65];
	char segment[65];
	char template_name[130];
};
struct ui_marketer_target *ui_marketer_target(void);
/* end of marketer screens */

/* ---- The session (ui.c) ----------------------------------------------- */

enum ui_input_flags {
	UI_INPUT_SECRET = 1 << 0, /* no echo; wiped after use */
	UI_INPUT_YESNO = 1 << 1,  /* one key: y answers, n or Esc cancels */
	UI_INPUT_INLINE = 1 << 2, /* the screen draws it with ui_input_render() */
	UI_INPUT_NOTIFY = 1 << 3, /* marketer: each edit sends UI_INPUT_CHANGED */
	UI_INPUT_FORM = 1 << 4,	  /* a field of a form: Tab goes on, as Enter does */
};

/*
 * Creates a session for the store at store_path, logging in as `user` (may
 * be NULL: asked). Starts at the login screen. Returns NULL out of memory.
 */
struct ui *ui_new(const char *store_path, const char *user);
/* Closes the screens and the store; sets *ui to NULL. Accepts NULL. */
void ui_free(struct ui **ui);
/* Takes an open store (owned by the session from now) and opens the dashboard. */
void ui_login(struct ui *ui, struct store *st);
/* Sets the terminal size; the next render uses it. */
void ui_resize(struct ui *ui, int w, int h);
/* The rows of a screen's body at that size: less the title, hint and status lines. */
int ui_body_rows(const struct ui *ui);
/* Feeds one key: to the prompt when one is open, else through the keymap. */
int ui_key(struct ui *ui, int key);
/* Feeds one action to the top screen, checking its verbs and permissions. */
int ui_act(struct ui *ui, enum ui_action a);
/* Feeds each character of the UTF-8 string s as a key (for tests). */
void ui_type(struct ui *ui, const char *s);
/* Renders the session into its grid and returns it (owned by the session). */
const struct grid *ui_render(struct ui *ui);
/* Where the cursor goes after a render, or row -1 when hidden. */
void ui_cursor(const struct ui *ui, int *row, int *col);
/* True once the user has left. */
bool ui_done(const struct ui *ui);

/* The open store (NULL before login), the store path, the login name given. */
struct store *ui_store(const struct ui *ui);
const char *ui_store_path(const struct ui *ui);
const char *ui_default_user(const struct ui *ui);

/* Pushes a new screen on top; returns 0, or -1 after ui_error() (refused or failed). */
int ui_push(struct ui *ui, const struct screen_ops *ops);
/* Closes the top screen after the current action; at the last screen, quits. */
void ui_pop(struct ui *ui);
/* Replaces every screen with ops (after a login). */
int ui_replace(struct ui *ui, const struct screen_ops *ops);
/* The screen below the top one (what the help screen describes), or NULL. */
struct screen *ui_below(struct ui *ui, struct screen *s);
void ui_quit(struct ui *ui);

/* Status line messages. */
void ui_info(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ui_error(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Shows msg in the status line at once, before a slow call (a KDF, a big query). */
void ui_busy(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* While a long task runs on the UI's thread (an import): true when the user
 * pressed Esc or Ctrl-C since the last call. Other keys typed meanwhile are dropped.
 * Always false outside a terminal. */
bool ui_interrupted(struct ui *ui);
/*
 * Shows errstr (or the status' words) as an error and frees errstr; a
 * refusal because the account was disabled in the UI's words (ui_disabled).
 */
void ui_error_store(struct ui *ui, enum store_status s, char *errstr);
/*
 * A store call's failure, as ui_error_store shows it, but a refusal
 * (STORE_EDENIED) in the UI's words, never the store's action names: the
 * sentence of ui_refusal for `what` and the permission p. Frees errstr.
 */
void ui_error_denied(struct ui *ui, enum store_status s, char *errstr, const char *what,
		     enum store_perm p);
/*
 * When this session's user was disabled since logging in: "the account NAME
 * was disabled after this session began" into buf, and buf; else NULL.
 */
const char *ui_disabled(const struct ui *ui, char *buf, size_t size);
/* The status line's text and whether it is an error. */
const char *ui_status(const struct ui *ui, bool *is_error);
/*
 * "users" needed for what: the refusal sentence, into buf ("refused: WHAT
 * needs the permission P, which the role R lacks", or that the account was
 * disabled). Returns buf.
 */
const char *ui_refusal(const struct ui *ui, const char *what, enum store_perm p, char *buf,
		       size_t size);

/* Appends name to the ", "-separated list in buf, ending it with "..." when it is full. */
void ui_join(char *buf, size_t size, const char *name);
/*
 * A name looked for among those a store call lists: ui_names_add() notes
 * each one, whether it is `want`, and joins them all with ui_join(), for a
 * message such as "there is no role X; the roles are admin, marketer".
 */
struct ui_names {
	const char *want;
	bool found;
	char all[400];
};
void ui_names_add(struct ui_names *n, const char *name);

/*
 * Opens a prompt for the top screen. `tag` tells the screen which question
 * was answered; `initial` (may be NULL) is the starting text, which may be
 * ui_input_text() itself: the answer just given, back to be corrected. Enter
 * sends UI_INPUT_DONE, Esc UI_INPUT_CANCEL. The text is wiped once handle()
 * returns unless the screen opened a new prompt.
 */
void ui_input(struct ui *ui, int tag, int flags, const char *initial, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/*
 * Leaving a form (discard.c): when `dirty` (it holds what was typed or
 * marked and not saved), asks "Discard WHAT? (y/n)", WHAT from fmt, as a
 * y/n prompt tagged `tag`, and returns true; the screen leaves on the
 * UI_INPUT_DONE of that tag, calling ui_discarded, and stays on its
 * UI_INPUT_CANCEL. Returns false, asking nothing, when not dirty: the screen
 * leaves at once.
 */
bool ui_ask_discard(struct ui *ui, int tag, bool dirty, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Says that what was typed was thrown away and nothing saved. */
void ui_discarded(struct ui *ui);
/* The answered text (valid during handle), the prompt's tag, whether one is open. */
const char *ui_input_text(const struct ui *ui);
int ui_input_tag(const struct ui *ui);
bool ui_input_active(const struct ui *ui);
/* Draws the open prompt at (row, col) of the body grid, with the cursor. */
void ui_input_render(struct ui *ui, struct grid *g, int row, int col, bool with_label);
/*
 * Where the open prompt's text starts to show in `room` columns: the cursor
 * and what is just before it always show (not under the "…" that stands
 * for the text after the cursor), and at the end of a long answer, its end.
 */
size_t ui_input_shown(const struct ui *ui, int room);

/* Runs the UI in the terminal; returns an exit code (tui/main.c calls it). */
int ui_run(struct cli *c);

/* ---- A table with a cursor (table.c) ---------------------------------- */

struct ui_table {
	int ncols;
	const char *const *heads; /* ncols headings (static) */
	char **cells;		  /* nrows * ncols, allocated */
	size_t nrows, cap;
	size_t sel, top; /* the selected row and the first one shown */
	int page;	 /* rows shown at the last render */
	int maxw;	 /* widest a column may be (not the last), unless room is spare */
};

void ui_table_init(struct ui_table *t, int ncols, const char *const *heads);
/* Appends a row of ncols strings (NULL is ""), copied. Returns 0 or -1 (memory). */
int ui_table_add(struct ui_table *t, const char *const *cols);
/* Removes the rows, keeping the cursor (clamped at the next add/render). */
void ui_table_clear(struct ui_table *t);
void ui_table_free(struct ui_table *t);
const char *ui_table_cell(const struct ui_table *t, size_t row, int col);
/* The selected row's cell, or NULL when the table is empty. */
const char *ui_table_selected(const struct ui_table *t, int col);
/* Moves the cursor for UP/DOWN/PGUP/PGDN/HOME/END; returns UI_REDRAW_BODY if it handled a. */
int ui_table_move(struct ui_table *t, enum ui_action a);
/*
 * Draws the heading at `row` and the rows under it, at most `height` lines in
 * all, columns padded to display width, the selection marked with '>' and
 * reverse video. `empty` is shown when there are no rows. Columns wider than
 * maxw are cut (ending in "…") unless the grid has room to spare, which they
 * share. When not every row fits, g's note says which show ("2-4 of 7"),
 * which the title bar shows, clear of the headings.
 */
void ui_table_render(struct ui_table *t, struct grid *g, int row, int height, const char *empty);

/* ---- The terminal (term.c) -------------------------------------------- */

/* Starts curses (UTF-8, colour unless NO_COLOR) and the signal handlers. 0 or -1. */
int term_start(void);
/* Restores the terminal. Safe to call twice, and from a signal handler. */
void term_end(void);
void term_size(int *w, int *h);
/* Copies the grid to the screen; the cursor goes to (row, col), hidden if row < 0. */
void term_draw(const struct grid *g, int row, int col);
/* Waits up to timeout_ms (-1: forever) for a key. */
int term_key(int timeout_ms);
/* Drops the keys typed ahead. */
void term_flush(void);
/* ---- Text edited in $VISUAL or $EDITOR (editor.c) ------------------------- */

#define UI_EDIT_PATH 4096
/* Writes text to a new temp file (0600, in $TMPDIR), its name in path: 0, or
 * -1 after ui_error(). */
int ui_edit_write(struct ui *ui, char path[UI_EDIT_PATH], const char *text, const char *suffix);
/* Runs $VISUAL, $EDITOR or vi on path with curses out of the way: 0, or -1
 * after ui_error() saying the editor failed and then `unchanged`. */
int ui_edit_run(struct ui *ui, const char *path, const char *unchanged);
/* The file's text, allocated; NULL when it can't be read. */
char *ui_edit_read(const char *path);
/* Overwrites the file with zeros, removes it, and empties path ("" : nothing). */
void ui_edit_wipe(char path[UI_EDIT_PATH]);

/* marketer: leaves curses to run a program ($EDITOR), and comes back. No-ops outside curses. */
void term_suspend(void);
void term_resume(void);

#endif
