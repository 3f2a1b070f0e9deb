#!/usr/bin/env bash
# The marketer screens in a real terminal: tmux runs hato, send-keys types
# and capture-pane reads the screen. A marketer logs in, browses subscribers
# with Japanese names (imported with the CLI from tui/demo/japanese.csv) and
# the columns line up (the display column is computed with Python's
# unicodedata, a width table we did not write), opens a member record and
# searches by address and by a Japanese name; a viewer sees masked
# addresses and is refused an import and an export, with the reason, and the
# refused export writes no file.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"
tmux_init hato-mkt
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$T/tmp"

# lacks WINDOW TEXT: the pane does not show TEXT (after a short settle).
lacks() {
	sleep 0.3
	! screen "$1" | grep -qF -- "$2"
}

# login WINDOW USER
login() {
	mkdir -p "$T/cwd.$1"
	tm new-session -d -s "$1" -x 100 -y 30 -c "$T/cwd.$1" "TMPDIR=$T/tmp VISUAL=$T/ed.sh $HATO --store $STORE --user $2 2>$T/stderr.$1; sleep 30"
	wait_for "$1" "Password" >/dev/null || return 1
	tm send-keys -t "$1" "$2-password-1" Enter
	wait_for "$1" "role $2"
}

as marketer list add news >/dev/null
check "the CLI imports the Japanese demo list" \
	bash -c "'$HATO' --store '$STORE' --user marketer --password-file '$T/pw.marketer' import news '$ROOT/tui/demo/japanese.csv' | grep -q 'imported 6'"

check "the marketer logs in" login a marketer
check "the dashboard offers Subscribers" open_menu a Subscribers
check "the browser opens" wait_for a "Subscribers, by address"
check "with the Japanese names" wait_for a "山田 太郎"

# Every row's Status column starts at the same display column as its heading.
screen a >"$T/pane"
cat >"$T/cols.py" <<'PY'
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
head = [l for l in lines if "Address" in l and "Status" in l]
rows = [l for l in lines if "@" in l and " active" in l]
if not head or len(rows) < 6:
    print("# no table in the pane"); sys.exit(1)
want = width(head[0][:head[0].index("Status")])
names = ["山田 太郎", "鈴木 花子", "佐藤 一郎", "高橋 美咲", "伊藤 健二", "渡辺 由紀"]
seen = 0
for l in rows:
    col = width(l[:l.index(" active") + 1])
    if col != want:
        print("# Status at column %d, not %d: %s" % (col, want, l)); sys.exit(1)
    seen += any(n in l for n in names)
if seen != 6:
    print("# %d Japanese rows, not 6" % seen); sys.exit(1)
PY
check "the columns line up on every row with a Japanese name" /usr/bin/python3 "$T/cols.py" "$T/pane"

tm send-keys -t a Enter
check "Enter opens the member record" wait_for a "Member record #"
check "with the consent record" wait_for a "consent: "
check "and the attributes" wait_for a "city = "
tm send-keys -t a q
wait_for a "Subscribers, by address" >/dev/null

tm send-keys -t a /
wait_for a "Search address or name" >/dev/null
tm send-keys -t a "taro"
check "an address prefix finds the person as it is typed" wait_for a "taro.yamada@example.jp"
check "and only them" lacks a "hanako.suzuki@example.jp"
tm send-keys -t a C-u
tm send-keys -t a "鈴木"
check "a Japanese name prefix finds the person" wait_for a "hanako.suzuki@example.jp"
check "and only them" lacks a "taro.yamada@example.jp"
tm send-keys -t a Enter
check "the filter stays after Enter" wait_for a "filter: 鈴木"
# $EDITOR on the real terminal: curses steps aside and comes back.
cat >"$T/ed.sh" <<ED
#!/bin/sh
printf '# Spring sale\\n\\nHello {{name}}\\n' >"\$1"
stat -c %a "\$1" >"$T/mode"
echo "EDITOR-RAN on \$1"
sleep 1
ED
chmod +x "$T/ed.sh"
tm send-keys -t a q
check "back on the dashboard" wait_for a "Dashboard"
check "the dashboard offers Templates" open_menu a Templates
check "the templates screen opens" wait_for a "Templates (0)"
tm send-keys -t a n
wait_for a "Name of the new template" >/dev/null
tm send-keys -t a "spring" Enter
check "the editor runs on the terminal, curses out of the way" wait_for a "EDITOR-RAN on $T/tmp/hato-template-"
check "the screen comes back with the template saved" wait_for a "saved spring"
check "and listed" wait_for a "Templates (1)"
check "the temp file was private (0600)" grep -qx 600 "$T/mode"
check "and is removed" bash -c "! ls '$T/tmp/' | grep -q ."
tm send-keys -t a q q
check "the marketer's hato exits cleanly" bash -c "sleep 0.5; ! pgrep -x -f -- '$HATO --store $STORE --user marketer' >/dev/null"
check "with nothing on stderr" test ! -s "$T/stderr.a"

# Combining marks (U+309A, U+0301) that NFC keeps, as the store keeps names,
# reach the terminal.
kana=$(printf '\u304b\u309a\u304f\u305b\u3044 \u30c8\u309a\u30b9\u30c8 Josx\u0301')
as marketer subscriber add kana@example.net --list news --name "$kana" >/dev/null || not_ok "setup: subscriber"
check "the viewer logs in" login b viewer
check "the viewer's dashboard offers Subscribers" open_menu b Subscribers
check "the viewer sees masked addresses" wait_for b "t***@example.jp"
check "and never the address itself" lacks b "taro.yamada@example.jp"
check "but the names" wait_for b "山田 太郎"
check "with their combining marks" wait_for b "$kana"
tm send-keys -t b i
check "an import is refused with the reason" wait_for b 'needs the permission "subscribers.write"'
tm send-keys -t b Enter
check "the viewer's member record is masked too" wait_for b "Address   a***@docomo.ne.jp"
tm send-keys -t b d
check "erasing is refused with the reason" wait_for b 'needs the permission "subscribers.erase"'
tm send-keys -t b q
wait_for b "Subscribers, by address" >/dev/null
tm send-keys -t b q
check "the viewer is back on the dashboard" wait_for b "hato · Dashboard"
check "the viewer's dashboard offers Lists" open_menu b Lists
check "the lists screen opens" wait_for b "Lists (1)"
tm send-keys -t b x
check "an export is refused with the reason" wait_for b 'refused: export CSV needs the permission "subscribers.export"'
check "no file name is asked for" lacks b "Export the list"
check "and no file is written" test -z "$(ls -A "$T/cwd.b")"

finish
