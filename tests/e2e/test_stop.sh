#!/usr/bin/env bash
# Stopping long commands with a signal: an import is rolled back and says
# so; an export leaves the file it would have replaced as it was, and no
# partial copy of people's data beside it. (Ctrl-C and Esc in a terminal:
# tests/tui/test_tmux_import.sh.)
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3

check "a new store with a marketer" new_store
expect 0 "the marketer adds a list" as marketer list add news
$PY -c 'for i in range(-1, 200000): print("email,name,city" if i < 0 else "big%d@example.org,Big %d,Nara" % (i, i))' >"$T/big.csv"

# ---- Import ------------------------------------------------------------------
# SIGTERM once the import has begun: its rejects file is being written
# beside its place (big.rej.XXXXXX).
"$HATO" --store "$STORE" --user marketer --password-file "$T/pw.marketer" \
	import news "$T/big.csv" --rejects "$T/big.rej" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 1 600); do compgen -G "$T/big.rej.*" >/dev/null && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
check "SIGTERM stops an import: exit 143 (128 + 15)" test "$?" = 143
check "it says it was interrupted and nothing was imported" \
	sh -c "grep -q 'interrupted' '$T/err' && grep -q 'nothing was imported; the store is as it was' '$T/err'"
check "no summary line" sh -c "! grep -q '^imported' '$T/out'"
check "no rejects file is left, finished or not" sh -c "! ls '$T'/big.rej* 2>/dev/null"
expect 0 "count the list" as marketer segment count --list news
check "none of the file's rows are in the store" grep -qx 0 "$T/out"
expect 0 "the audit trail has the import" as admin audit log --action import
check "as interrupted, and how far it went" grep -q 'import.*news.*interrupted.*rolled back at row [0-9]' "$T/out"

# SIGKILL, which nothing can catch: the transaction was never committed.
"$HATO" --store "$STORE" --user marketer --password-file "$T/pw.marketer" \
	import news "$T/big.csv" --rejects "$T/big.rej" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 1 600); do compgen -G "$T/big.rej.*" >/dev/null && break; sleep 0.05; done
sleep 0.3
kill -KILL "$pid"
{ wait "$pid"; } 2>/dev/null # without bash's "Killed" line
check "SIGKILL ends an import (137)" test "$?" = 137
expect 0 "the store opens after it" as marketer segment count --list news
check "with none of the file's rows" grep -qx 0 "$T/out"
expect 0 "and its audit chain verifies" as admin audit verify

# ---- Export ------------------------------------------------------------------
expect 0 "the same file, not stopped, imports" as marketer import news "$T/big.csv"
check "all of it" grep -q 'imported 200000,' "$T/out"
printf 'an older export\n' >"$T/export.csv"
# SIGTERM once the export has begun: its new file exists beside the old one.
"$HATO" --store "$STORE" --user marketer --password-file "$T/pw.marketer" \
	export news "$T/export.csv" >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 1 1000); do ls "$T" | grep -q '^export\.csv\.' && break; sleep 0.01; done
check "the export writes a new file beside the old one" sh -c "ls '$T' | grep -q '^export\.csv\.'"
kill -TERM "$pid"
wait "$pid"
check "SIGTERM ends the export (143)" test "$?" = 143
check "the old file is as it was" grep -qx 'an older export' "$T/export.csv"
check "and the partial new file is gone" sh -c "! ls '$T' | grep -q '^export\.csv\.'"
expect 0 "the export, not stopped, completes" as marketer export news "$T/export.csv"
check "with every member" test "$(wc -l <"$T/export.csv")" = 200001
check "and nothing beside it" sh -c "! ls '$T' | grep -q '^export\.csv\.'"
finish
