#!/usr/bin/env bash
# make install puts the binary and the man page under DESTDIR/PREFIX.
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
expect 0 "make install into a DESTDIR works" make -s -C "$SRC" install PREFIX=/opt/hato DESTDIR="$T/root"
check "the binary is installed, executable" test -x "$T/root/opt/hato/bin/hato"
check "the man page is installed" test -f "$T/root/opt/hato/share/man/man1/hato.1"
expect 0 "the installed binary runs" "$T/root/opt/hato/bin/hato" --version
check "the man page formats without warnings" sh -c "groff -man -Tutf8 -ww -z '$T/root/opt/hato/share/man/man1/hato.1' 2>&1 | grep -q . && exit 1 || exit 0"
finish
