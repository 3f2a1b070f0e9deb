/*
 * tui/ui_private.h: the session's insides, which ui.c (the screen stack,
 * actions and keys), prompt.c (the prompt) and layout.c (the frame) share.
 * Nothing else includes this file: screens use tui/ui.h.
 */
#ifndef HATO_TUI_UI_PRIVATE_H
#define HATO_TUI_UI_PRIVATE_H

#include "tui/ui.h"

#define UI_STACK_MAX 16
#define UI_INPUT_MAX 1024

struct ui_prompt {
	bool active;
	int tag, flags;
	char label[512];
	char *buf; /* sodium_malloc'd, UI_INPUT_MAX + 1 */
	size_t len;
	size_t cur; /* the cursor: a byte offset at a character's start, <= len */
	bool typed; /* the text was typed or changed here, not only given as it opened */
	bool full;  /* a character did not fit: later ones are refused too, until a deletion */
};

struct ui {
	struct store *st;
	char *store_path, *user;
	struct screen *stack[UI_STACK_MAX];
	int depth;
	int pop_pending;
	int in_dispatch; /* inside a screen's handle(): screens must outlive it */
	bool quit;
	int exit_code;	   /* ui_run's, when it quits: 128 + SIGINT after Ctrl-C */
	char status[1024]; /* long enough for a refusal with its remedy */
	bool status_error;
	struct ui_prompt prompt;
	struct ui_prompt kept; /* the prompt the question whether to leave covers, if active */
	struct grid grid, body;
	int w, h;
	int cur_row, cur_col; /* the cursor, in grid coordinates; -1 hidden */
	bool in_terminal;     /* ui_run: draw at once for ui_busy, drop typeahead */
	int key;	      /* the key being handled, or UI_KEY_NONE (ui_act) */
};

/* The session's own question, whether to leave hato: answered in prompt.c, not by a screen. */
#define UI_INPUT_LEAVE (1 << 12)

/* The top screen, or NULL. */
struct screen *ui_top(const struct ui *ui);
/* Feeds an action to the top screen, checking its verbs and permissions (ui.c). */
int ui_dispatch(struct ui *ui, enum ui_action a);

/* The prompt (prompt.c). Wipes its text and closes it. */
void ui_input_wipe(struct ui *ui);
/* Feeds a key to the open prompt. Returns enum ui_redraw bits. */
int ui_input_key(struct ui *ui, int key);
/*
 * The open prompt holds text the user typed into it (not a password, nor a
 * y/n answer), which leaving would throw away.
 */
bool ui_input_unsaved(const struct ui *ui);
/*
 * Before the session asks whether to leave: keeps the open prompt aside,
 * as it is (its question, text and cursor), for ui_input_back.
 */
void ui_input_keep(struct ui *ui);
/* The kept prompt comes back as it was (restore), or is wiped. */
void ui_input_back(struct ui *ui, bool restore);

#endif
