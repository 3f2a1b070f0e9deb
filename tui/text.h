/* tui/text.h: display widths of UTF-8 text. */
#ifndef HATO_TUI_TEXT_H
#define HATO_TUI_TEXT_H

/* Terminal columns that the UTF-8 string s takes (needs an UTF-8 LC_CTYPE). */
int text_width(const char *s);

#endif
