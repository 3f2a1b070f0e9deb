#!/usr/bin/env bash
# The campaign screens in a real terminal: tmux runs hato, send-keys types and
# capture-pane reads the screen. A marketer creates, checks and submits a
# campaign; an operator reviews it (headers, preview), approves it, sends it
# now, starts the background worker from the UI and watches the monitor until
# the campaign is sent to the file transport; the screen is resized from
# 120x40 to 80x24 in the middle of the monitor; leaving hato (Esc or Ctrl-C)
# asks first, then stops the worker.
# A viewer sees masked addresses in the review queue and cannot approve.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"
tmux_init hato-camp

# The sending set-up, by the command line (tests/e2e/roles.d/setup.sh).
mkdir -p "$T/outbox"
for kv in "smtp.url file:$T/outbox" "sender.from News <news@example.com>" "sender.name Hato Ltd" \
	"sender.postal_address 1-2-3 Marunouchi, Tokyo" "sender.contact support@example.com" \
	"unsubscribe.url https://example.com/u/" "unsubscribe.mailto unsubscribe@example.com"; do
	as admin config set "${kv%% *}" "${kv#* }" >/dev/null || not_ok "setup: config ${kv%% *}"
done
as admin dkim keygen example.com fx --alg ed25519 >/dev/null || not_ok "setup: dkim"
printf '# Hello {{name|there}}\n\nNews for {{attr.city}}.\n' >"$T/tpl.md"
as marketer list add m --name Members >/dev/null || not_ok "setup: list"
as marketer subscriber add sub@example.com --list m --name "Sub Scriber" --attr city=Tokyo >/dev/null || not_ok "setup: subscriber"
as marketer subscriber add two@example.org --list m --name "Two" --attr city=Osaka >/dev/null || not_ok "setup: subscriber"
as marketer template add t "$T/tpl.md" >/dev/null || not_ok "setup: template"

# Runs hato as USER in a shell that reports how it ended.
for u in marketer operator viewer; do
	cat >"$T/run.$u" <<RUN
"$HATO" --store "$STORE" --user $u 2>"$T/stderr.$u"
echo EXITED-\$?
sleep 60
RUN
done
login() { # WINDOW USER
	tm new-session -d -s "$1" -x 120 -y 40 "bash $T/run.$2"
	wait_for "$1" "Password" >/dev/null
	tm send-keys -t "$1" "$2-password-1" Enter
	wait_for "$1" "$2 · role $2" >/dev/null
}

# ---- The marketer creates, checks and submits a campaign.
login m marketer
check "the marketer's dashboard offers Campaigns" wait_for m "Campaigns"
open_menu m Campaigns
check "the campaigns screen opens" wait_for m "No campaigns yet"
tm send-keys -t m n
check "n asks for the new campaign's name" wait_for m "Name (letters, digits"
tm send-keys -t m "launch" Enter
wait_for m "Template (" >/dev/null && tm send-keys -t m "t" Enter
wait_for m "List (" >/dev/null && tm send-keys -t m "m" Enter
wait_for m "Segment (" >/dev/null && tm send-keys -t m Enter
wait_for m "Subject (" >/dev/null && tm send-keys -t m "Launch news for {{name}}" Enter
wait_for m "From (" >/dev/null && tm send-keys -t m Enter
check "the form shows the fields" wait_for m "Subject   Launch news for {{name}}"
tm send-keys -t m s
check "s saves the draft" wait_for m "created the draft launch"
check "the list shows it as a draft" wait_for m "> launch    draft"
tm send-keys -t m C
check "C runs the checks and counts the recipients" wait_for m "Checks: 0 errors, 0 warnings · 2 recipients"
tm send-keys -t m S
check "S asks before submitting" wait_for m "Submit launch for review?"
tm send-keys -t m y
check "the campaign is submitted" wait_for m "submitted launch for review"
check "and is in review" wait_for m "launch    in_review"
tm send-keys -t m q q
check "the marketer leaves with exit 0" wait_for m "EXITED-0"
check "nothing was written to stderr (marketer)" test ! -s "$T/stderr.marketer"

# A second campaign in review, for the viewer.
as marketer campaign add second --template t --list m --subject "Second" >/dev/null
as marketer campaign submit second >/dev/null

# ---- The operator reviews, approves and sends it, with a worker started from the UI.
login o operator
check "the operator's dashboard says no worker runs" wait_for o "not running, so nothing is sent; w runs one"
check "and what awaits: two campaigns in review" wait_for o "2 in review: launch, second"
open_menu o "Review queue"
check "the review queue lists launch" wait_for o "> launch    in_review  marketer"
check "with the From header" wait_for o "From:    News <news@example.com>"
check "the To of the first recipient" wait_for o "To:      Sub Scriber <sub@example.com>"
check "the merged subject" wait_for o "Subject: Launch news for Sub Scriber"
check "the rendered text part" wait_for o "News for Tokyo."
check "the recipient count and checks" wait_for o "recipients: 2"
tm send-keys -t o a
check "a asks for an optional comment" wait_for o "Approve launch with your signature?"
tm send-keys -t o "fine" Enter
check "the campaign is approved" wait_for o "launch is approved, signed with your key"
tm send-keys -t o N
check "N asks before sending" wait_for o "Send launch to 2 recipients now?"
tm send-keys -t o y
check "it will be sent now, and the UI says no worker runs" wait_for o "will be sent now; the worker is not running, so nothing is sent"
tm send-keys -t o w
check "w asks for the password again" wait_for o "Your password again (not kept)"
tm send-keys -t o "operator-password-1" Enter
check "a worker runs in the background" wait_for o "a worker runs in the background until you leave hato" 20
check "the queue says so" wait_for o "worker: running (pid"
check "the worker is a child process of this hato" \
	test "$(pgrep -x -f -- "$HATO --store $STORE --user operator" | wc -l)" -eq 2
tm send-keys -t o m
check "the live monitor opens" wait_for o "Live monitor"
check "the monitor shows the campaign finishing" wait_for o "launch · sent" 30
check "with its counts" wait_for o "sent 2   deferred 0   failed 0"
# Seen sending, a sparkline; sent before the monitor opened, no rate but a word.
sparkline() { local i; for ((i = 0; i < 30; i++)); do
	screen o | grep -qE 'Rate  ([▁▂▃▄▅▆▇█]+ |not observed live: it finished before)' && return 0
	sleep 0.1; done; return 1; }
check "and a sparkline of the rate, or that it was not observed live" sparkline
tm send-keys -t o X
check "X on a sent campaign refuses at once" wait_for o "launch is sent: it is over, so there is nothing to cancel"
check "without a question" bash -c "! tmux -L $SOCK capture-pane -p -t o | grep -q 'Cancel launch for good'"
n=$(ls "$T/outbox" | grep -c '\.eml$')
check "two messages are in the file transport's outbox" test "$n" -eq 2

# Resize in the middle of the monitor.
tm resize-window -t o -x 80 -y 24
check "after the resize the monitor is redrawn" wait_for o "Recent errors"
sleep 0.5
screen o >"$T/pane"
check "the pane has 24 rows" test "$(wc -l <"$T/pane")" -eq 24
check "no line is longer than 80 columns" test "$(longest "$T/pane")" -le 80
check "the hint line is row 23" bash -c "sed -n 23p '$T/pane' | grep -q 'p pause'"
tm send-keys -t o q q q
check "leaving would stop the worker: hato asks first" wait_for o "leaving stops it. Leave? (y/n)"
tm send-keys -t o n
sleep 0.3
stayed() { ! screen o | grep -q EXITED &&
	test "$(pgrep -x -f -- "$HATO --store $STORE --user operator" | wc -l)" -eq 2; }
check "n stays in hato, and the worker runs on" stayed
tm send-keys -t o C-c
check "Ctrl-C is a request to leave: hato asks first too" wait_for o "leaving stops it. Leave? (y/n)"
tm send-keys -t o n
sleep 0.3
check "n stays in hato after Ctrl-C, and the worker runs on" stayed
tm send-keys -t o Escape
wait_for o "leaving stops it. Leave? (y/n)" >/dev/null
tm send-keys -t o y
check "the operator leaves with exit 0" wait_for o "EXITED-0"
sleep 0.5
check "leaving hato stopped the background worker" test -z "$(pgrep -x -f -- "$HATO --store $STORE --user operator")"
check "nothing was written to stderr (operator)" test ! -s "$T/stderr.operator"
check "the worker logged to a file beside the store" grep -q "launch: finished: 2 sent" "$STORE.worker.log"

# ---- A viewer sees masked addresses and cannot approve.
login v viewer
open_menu v "Review queue"
check "the viewer sees the review queue" wait_for v "> second    in_review"
check "with the first recipient's address masked" wait_for v "To:      s***@example.com"
check "and no name in the preview" bash -c "! tmux -L $SOCK capture-pane -p -t v | grep -q 'Sub Scriber'"
tm send-keys -t v a
check "approving is refused with the reason" wait_for v 'approve needs the permission "campaigns.approve"'
tm send-keys -t v C-c
check "with nothing to lose, Ctrl-C leaves at once with exit 130" wait_for v "EXITED-130"

finish
