#!/usr/bin/env bash
# Stopping an import in a real terminal. The command line: the progress bar
# on stderr, and Ctrl-C in the middle of an import. The terminal UI: Esc in
# the middle of an import. Either way the import stops, is rolled back and
# says so. tmux runs hato; send-keys types and capture-pane reads.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"
tmux_init hato-import
PY=/usr/bin/python3

"$HATO" --store "$STORE" --user marketer --password-file "$T/pw.marketer" list add news >/dev/null
$PY -c 'for i in range(-1, 300000): print("email,name,city" if i < 0 else "big%d@example.org,Big %d,Nara" % (i, i))' >"$T/big.csv"

cat >"$T/run.sh" <<RUN
"$HATO" --store "$STORE" --user marketer --password-file "$T/pw.marketer" import news "$T/big.csv"
echo EXITED-\$?
sleep 60
RUN
tm new-session -d -s a -x 100 -y 10 "bash $T/run.sh"

check "the progress bar shows in a terminal" wait_for a "% " 30
check "and counts the rows" wait_for a " rows" 5
tm send-keys -t a C-c
check "Ctrl-C stops the import: exit 130 (128 + SIGINT)" wait_for a "EXITED-130" 30
check "it says the import was interrupted" wait_for a "the import was interrupted" 1
check "and that the store is as it was" wait_for a "nothing was imported; the store is as it was" 1

"$HATO" --store "$STORE" --user marketer --password-file "$T/pw.marketer" \
	segment count --list news --where 'domain = "example.org"' >"$T/count" 2>&1
check "none of the file's rows are in the store" grep -qx 0 "$T/count"
check "no rejects file is left behind, finished or not" sh -c "! ls '$T'/big.csv.rejects.csv* 2>/dev/null"

# ---- The terminal UI: Esc -------------------------------------------------
cat >"$T/tui.sh" <<RUN
"$HATO" --store "$STORE" --user marketer 2>"$T/stderr"
echo EXITED-\$?
sleep 60
RUN
tm new-session -d -s b -x 100 -y 30 "bash $T/tui.sh"
wait_for b "Password" >/dev/null
tm send-keys -t b "marketer-password-1" Enter
check "the marketer logs in" wait_for b "marketer · role marketer"
check "and opens Subscribers" open_menu b Subscribers
tm send-keys -t b i
check "i asks for the file" wait_for b "CSV file to import:"
tm send-keys -t b "$T/big.csv" Enter
check "then for the list" wait_for b "Into the list:"
tm send-keys -t b C-u "news" Enter
check "the import runs, and says Esc stops it" wait_for b "(Esc stops)" 30
tm send-keys -t b Escape
check "Esc stops it: the store is as it was" wait_for b "Nothing was imported; the store is as it was." 30
check "the status line says it was interrupted" wait_for b "the import was interrupted" 1
"$HATO" --store "$STORE" --user marketer --password-file "$T/pw.marketer" \
	segment count --list news --where 'domain = "example.org"' >"$T/count" 2>&1
check "none of the file's rows are in the store" grep -qx 0 "$T/count"
tm send-keys -t b q q q q
check "hato leaves with exit 0" wait_for b "EXITED-0"
check "with nothing on stderr" test ! -s "$T/stderr"
finish
