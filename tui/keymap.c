/*
 * tui/keymap.c: the one table that turns keys into actions. The `?` help of
 * every screen is generated from it, so the help never drifts from the keys.
 */
#include <stdio.h>
#include <string.h>

#include "tui/ui.h"

const struct ui_binding ui_keymap[] = {
    {UI_KEY_UP, UI_UP, "Up", "move up"},
    {'k', UI_UP, "k", "move up"},
    {UI_KEY_DOWN, UI_DOWN, "Down", "move down"},
    {'j', UI_DOWN, "j", "move down"},
    {UI_KEY_PGUP, UI_PGUP, "PgUp", "page up"},
    {UI_CTRL('b'), UI_PGUP, "Ctrl-B", "page up"},
    {UI_KEY_PGDN, UI_PGDN, "PgDn", "page down"},
    {UI_CTRL('f'), UI_PGDN, "Ctrl-F", "page down"},
    {UI_KEY_HOME, UI_HOME, "Home", "go to the first row"},
    {'g', UI_HOME, "g", "go to the first row"},
    {UI_KEY_END, UI_END, "End", "go to the last row"},
    {'G', UI_END, "G", "go to the last row"},
    {UI_KEY_ENTER, UI_ENTER, "Enter", "open the selection"},
    {'q', UI_BACK, "q", "go back"},
    {UI_KEY_ESC, UI_BACK, "Esc", "go back"},
    {UI_KEY_LEFT, UI_BACK, "Left", "go back"},
    {'Q', UI_QUIT, "Q", "leave hato"},
    {'/', UI_SEARCH, "/", "search or filter"},
    {'?', UI_HELP, "?", "show the keys of this screen"},
    {UI_KEY_F1, UI_HELP, "F1", "show the keys of this screen"},
    {'n', UI_NEW, "n", "add a new one"},
    {'d', UI_DELETE, "d", "delete or disable the selection"},
    {UI_KEY_DELETE, UI_DELETE, "Delete", "delete or disable the selection"},
    {'e', UI_EDIT, "e", "edit the selection"},
    {UI_CTRL('l'), UI_REFRESH, "Ctrl-L", "reload and redraw"},
    {UI_KEY_F5, UI_REFRESH, "F5", "reload and redraw"},
    {UI_KEY_TAB, UI_TAB, "Tab", "switch the view"},
    {' ', UI_TOGGLE, "Space", "mark or unmark the selection"},
    {'u', UI_UNLOCK, "u", "unlock the selection"},
    {'r', UI_ROLE, "r", "change the role"},
    {'v', UI_VERIFY, "v", "verify"},
    /* campaign */
    {'a', UI_APPROVE, "a", "approve, signed with your key"},
    {'R', UI_REJECT, "R", "reject with a comment"},
    {'t', UI_SCHEDULE, "t", "schedule a send time"},
    {'N', UI_SEND_NOW, "N", "send now"},
    {'p', UI_PAUSE, "p", "pause sending"},
    {'c', UI_RESUME, "c", "continue (resume) sending"},
    {'X', UI_CANCEL, "X", "cancel the campaign"},
    {'C', UI_CHECK, "C", "run the pre-send checks"},
    {'S', UI_SUBMIT, "S", "submit for review"},
    {'y', UI_COPY, "y", "copy to a new name"},
    {'s', UI_SAVE, "s", "save"},
    {'w', UI_WORKER, "w", "run a worker in the background"},
    {'m', UI_MONITOR, "m", "open the live monitor"},
    /* end of campaign */
    /* marketer */
    {'i', UI_IMPORT, "i", "import a CSV file"},
    {'b', UI_SUPPRESS, "b", "block: put on the suppression list"},
    {'x', UI_EXPORT, "x", "export to a CSV file"},
    /* end of marketer */
    {0, UI_NONE, NULL, NULL},
};

enum ui_action ui_keymap_lookup(int key)
{
	const struct ui_binding *b;

	for (b = ui_keymap; b->action != UI_NONE; b++)
		if (b->key == key)
			return b->action;
	return UI_NONE;
}

const char *ui_keymap_keys(enum ui_action a, char *buf, size_t size)
{
	const struct ui_binding *b;
	size_t len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (b = ui_keymap; b->action != UI_NONE && len < size; b++) {
		if (b->action != a)
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "", b->keyname);
	}
	return buf;
}

const char *ui_keymap_help(enum ui_action a)
{
	const struct ui_binding *b;

	for (b = ui_keymap; b->action != UI_NONE; b++)
		if (b->action == a)
			return b->help;
	return "";
}
