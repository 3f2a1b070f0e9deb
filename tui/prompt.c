/*
 * tui/prompt.c: the prompt a screen opens with ui_input(): its line editor
 * (the cursor moves over whole UTF-8 characters), y/n questions, and the
 * answer handed to the screen as UI_INPUT_DONE or UI_INPUT_CANCEL. The
 * session's own question whether to leave (Ctrl-C, Q) keeps the prompt it
 * covers aside, to put it back as it was when the answer is n.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "tui/ui_private.h"

void ui_input_wipe(struct ui *ui)
{
	sodium_memzero(ui->prompt.buf, UI_INPUT_MAX + 1);
	ui->prompt.len = ui->prompt.cur = 0;
	ui->prompt.active = false;
	ui->prompt.typed = false;
	ui->prompt.full = false;
}

void ui_input(struct ui *ui, int tag, int flags, const char *initial, const char *fmt, ...)
{
	va_list ap;
	char *buf = ui->prompt.buf;
	size_t n = initial != NULL ? strlen(initial) : 0;

	va_start(ap, fmt);
	vsnprintf(ui->prompt.label, sizeof(ui->prompt.label), fmt, ap);
	va_end(ap);
	if (n > UI_INPUT_MAX)
		n = UI_INPUT_MAX;
	/*
	 * The answer just given (ui_input_text) may come back as the starting
	 * text, to be corrected: what was typed, still.
	 */
	if (initial != NULL && (uintptr_t)initial >= (uintptr_t)buf &&
	    (uintptr_t)initial <= (uintptr_t)(buf + UI_INPUT_MAX)) {
		memmove(buf, initial, n);
		sodium_memzero(buf + n, UI_INPUT_MAX + 1 - n);
	} else {
		ui_input_wipe(ui);
		if (n > 0)
			memcpy(buf, initial, n);
	}
	ui->prompt.len = ui->prompt.cur = n;
	ui->prompt.full = false;
	ui->prompt.tag = tag;
	ui->prompt.flags = flags;
	ui->prompt.active = true;
	/* Keys typed ahead must not answer a confirmation. */
	if ((flags & UI_INPUT_YESNO) && ui->in_terminal)
		term_flush();
}

const char *ui_input_text(const struct ui *ui)
{
	return ui->prompt.buf;
}

int ui_input_tag(const struct ui *ui)
{
	return ui->prompt.tag;
}

bool ui_input_active(const struct ui *ui)
{
	return ui->prompt.active;
}

bool ui_input_unsaved(const struct ui *ui)
{
	const struct ui_prompt *p = &ui->prompt;

	return p->active && p->typed && p->len > 0 &&
	       !(p->flags & (UI_INPUT_SECRET | UI_INPUT_YESNO | UI_INPUT_LEAVE));
}

void ui_input_keep(struct ui *ui)
{
	struct ui_prompt swap;

	if (!ui->prompt.active || (ui->prompt.flags & UI_INPUT_LEAVE))
		return;
	ui_input_back(ui, false); /* never two kept */
	swap = ui->kept;
	ui->kept = ui->prompt;
	ui->prompt = swap;
}

void ui_input_back(struct ui *ui, bool restore)
{
	struct ui_prompt swap;

	if (!ui->kept.active)
		return;
	if (restore) {
		ui_input_wipe(ui);
		swap = ui->prompt;
		ui->prompt = ui->kept;
		ui->kept = swap;
		return;
	}
	sodium_memzero(ui->kept.buf, UI_INPUT_MAX + 1);
	ui->kept.len = ui->kept.cur = 0;
	ui->kept.active = false;
}

/* Finishes the prompt: the screen reads the text during handle(), then it is wiped. */
static int input_finish(struct ui *ui, enum ui_action a)
{
	int r;

	ui->prompt.active = false;
	ui->prompt.buf[ui->prompt.len] = '\0';
	ui->status[0] = '\0';
	if (ui->prompt.flags & UI_INPUT_LEAVE) {
		ui->quit = a == UI_INPUT_DONE;
		if (!ui->quit)
			ui->exit_code = EX_OK;
		ui_input_wipe(ui);
		/* Staying: the prompt that was open comes back, text and cursor. */
		ui_input_back(ui, !ui->quit);
		return UI_REDRAW_ALL;
	}
	r = ui_dispatch(ui, a);
	if (!ui->prompt.active)
		ui_input_wipe(ui);
	return r | UI_REDRAW_ALL;
}

/* The start of the character before byte at (at itself at the start). */
static size_t char_before(const char *buf, size_t at)
{
	while (at > 0 && ((unsigned char)buf[--at] & 0xc0) == 0x80)
		;
	return at;
}

/* The start of the character after the one at byte at (len at the end). */
static size_t char_after(const char *buf, size_t len, size_t at)
{
	if (at < len)
		at++;
	while (at < len && ((unsigned char)buf[at] & 0xc0) == 0x80)
		at++;
	return at;
}

/* Deletes the bytes [from, to) of the text, the cursor going to from. */
static void input_delete(struct ui_prompt *p, size_t from, size_t to)
{
	memmove(p->buf + from, p->buf + to, p->len - to);
	p->typed = true;
	p->full = false;
	p->len -= to - from;
	p->cur = from;
	sodium_memzero(p->buf + p->len, UI_INPUT_MAX + 1 - p->len);
}

/*
 * Inserts the character at the cursor. False when it does not fit: then no
 * later one is taken either until something is deleted, so that a paste
 * cut short can't take in a short character that came after the cut.
 */
static bool input_insert(struct ui_prompt *p, int key)
{
	char u[4];
	size_t n;

	if (key < 0x80) {
		u[0] = (char)key;
		n = 1;
	} else if (key < 0x800) {
		u[0] = (char)(0xc0 | (key >> 6));
		u[1] = (char)(0x80 | (key & 0x3f));
		n = 2;
	} else if (key < 0x10000) {
		u[0] = (char)(0xe0 | (key >> 12));
		u[1] = (char)(0x80 | ((key >> 6) & 0x3f));
		u[2] = (char)(0x80 | (key & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (key >> 18));
		u[1] = (char)(0x80 | ((key >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((key >> 6) & 0x3f));
		u[3] = (char)(0x80 | (key & 0x3f));
		n = 4;
	}
	if (p->full || p->len + n > UI_INPUT_MAX) {
		p->full = true;
		sodium_memzero(u, sizeof(u));
		return false;
	}
	memmove(p->buf + p->cur + n, p->buf + p->cur, p->len - p->cur);
	memcpy(p->buf + p->cur, u, n);
	p->typed = true;
	p->len += n;
	p->cur += n;
	sodium_memzero(u, sizeof(u));
	return true;
}

int ui_input_key(struct ui *ui, int key)
{
	struct ui_prompt *p = &ui->prompt;

	if (p->flags & UI_INPUT_YESNO) {
		if (key == 'y' || key == 'Y') {
			p->buf[0] = 'y';
			p->len = 1;
			return input_finish(ui, UI_INPUT_DONE);
		}
		if (key == 'n' || key == 'N' || key == UI_KEY_ESC || key == 'q')
			return input_finish(ui, UI_INPUT_CANCEL);
		ui_error(ui, "answer y or n");
		return UI_REDRAW_STATUS;
	}
	if (key == UI_KEY_ENTER || (key == UI_KEY_TAB && (p->flags & UI_INPUT_FORM))) {
		if (!p->full)
			return input_finish(ui, UI_INPUT_DONE);
		ui_error(ui,
			 "the text was cut at %d bytes, the most an answer holds: shorten it "
			 "(any deletion lets you go on), or Esc",
			 UI_INPUT_MAX);
		return UI_REDRAW_STATUS;
	}
	if (key == UI_KEY_ESC)
		return input_finish(ui, UI_INPUT_CANCEL);
	if (key == UI_KEY_BACKSPACE || key == UI_CTRL('h'))
		input_delete(p, char_before(p->buf, p->cur), p->cur);
	else if (key == UI_KEY_DELETE || key == UI_CTRL('d'))
		input_delete(p, p->cur, char_after(p->buf, p->len, p->cur));
	else if (key == UI_CTRL('u'))
		input_delete(p, 0, p->len);
	else if (key >= 0x20 && key != 0x7f && key < UI_KEY_BASE) {
		if (!input_insert(p, key)) {
			ui_error(ui,
				 "an answer holds at most %d bytes: what came after was not taken",
				 UI_INPUT_MAX);
			return UI_REDRAW_STATUS;
		}
	} else if (key == UI_KEY_LEFT || key == UI_CTRL('b'))
		p->cur = char_before(p->buf, p->cur);
	else if (key == UI_KEY_RIGHT || key == UI_CTRL('f'))
		p->cur = char_after(p->buf, p->len, p->cur);
	else if (key == UI_KEY_HOME || key == UI_CTRL('a'))
		p->cur = 0;
	else if (key == UI_KEY_END || key == UI_CTRL('e'))
		p->cur = p->len;
	else
		return UI_REDRAW_NONE;
	/* marketer: a screen that checks the text as it is typed */
	if (p->flags & UI_INPUT_NOTIFY) {
		p->buf[p->len] = '\0';
		return UI_REDRAW_BODY | ui_dispatch(ui, UI_INPUT_CHANGED);
	}
	return UI_REDRAW_BODY;
}
