/* tui/cmd_subscriber.h: what the subscriber commands share. */
#ifndef HATO_TUI_CMD_SUBSCRIBER_H
#define HATO_TUI_CMD_SUBSCRIBER_H

#include <stdio.h>

/* Prints s with control characters escaped (\n, \x1b), so no data drives the terminal. */
void cli_put_safe(FILE *fp, const char *s);

#endif
