/*
 * tui/discard.c: leaving a form that holds what was typed or marked and not
 * saved. The campaign form, the segment editor and the role editor ask the
 * same question before they throw such input away, and say the same once
 * they have.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tui/ui.h"

bool ui_ask_discard(struct ui *ui, int tag, bool dirty, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (!dirty)
		return false;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ui_input(ui, tag, UI_INPUT_YESNO, NULL, "Discard %s? (y/n) ", what);
	return true;
}

void ui_discarded(struct ui *ui)
{
	ui_info(ui, "discarded; nothing was saved");
}
