#!/usr/bin/env python3
"""tests/e2e/cli.d/on_tty.py: runs a command on a new pseudo-terminal, as if
someone typed at it. Usage: on_tty.py LINE... -- COMMAND ARG...

The command gets the terminal as its stdin, stdout, stderr and controlling
terminal. Each LINE is typed (with Enter) after the command shows a prompt,
text ending in ": " (or after 5 s without one). Everything the terminal
showed, echoes included, goes to stdout; the exit status is the command's.
"""
import os
import pty
import select
import sys
import time


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    lines, cmd = args[:sep], args[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    shown = b""
    waiting_from = 0  # where in `shown` the next prompt must appear

    def pump(timeout):
        nonlocal shown
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the command closed the terminal
            return False
        if not data:
            return False
        shown += data
        return True

    alive = True
    for line in lines:
        deadline = time.monotonic() + 5
        while alive and time.monotonic() < deadline:
            tail = shown[waiting_from:].rstrip()
            if tail.endswith(b":"):
                break
            alive = pump(0.1)
        if not alive:
            break
        time.sleep(0.2)  # the command turns echo off after it prompts
        os.write(fd, line.encode() + b"\n")
        waiting_from = len(shown)
        alive = pump(0.5)
    deadline = time.monotonic() + 30
    while alive and time.monotonic() < deadline:
        alive = pump(0.5)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(shown)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
