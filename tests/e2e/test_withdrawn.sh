#!/usr/bin/env bash
# End to end: a worker whose user loses the right to send while it runs (an
# admin changes the user's role, or disables the user) claims nothing more,
# records the outcome of every message already handed to the server, and
# stops with exit 77 saying why. A setting that goes into every message,
# changed while a campaign sends, pauses it the same way: what no connection
# took stays queued. Against the real SMTP test server.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

campaign_setup wd || exit 1
printf 'op2-password-12\n' >"$T/pw.op2"
as admin user add op2 --role operator --kdf interactive --new-password-file "$T/pw.op2" >/dev/null
as admin config set send.rate 4 >/dev/null
(echo email; for i in $(seq 1 40); do echo "w$i@example.com"; done) >"$T/w.csv"
as marketer import m "$T/w.csv" >/dev/null
status() { as operator campaign status "$1" >"$T/status" 2>&1; }
count() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" "$T/status" | head -1; }

# run_until_withdrawn CAMPAIGN ADMIN-COMMAND...: starts op2's worker on
# CAMPAIGN, lets it send a few, runs the admin's command, waits for the worker.
run_until_withdrawn() {
	local c=$1 pid n=0; shift
	send_now "$c" || return 1
	as op2 worker >"$T/w.out" 2>"$T/w.err" &
	pid=$!
	while [ "$(ls "$MAIL" 2>/dev/null | grep -c '\.eml$')" -lt 4 ] && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	as admin "$@" >/dev/null
	wait $pid
	echo $? >"$T/w.rc"
}

as marketer campaign add first --template t --list m --subject "First" >/dev/null
run_until_withdrawn first user role op2 viewer
check "the worker stops with exit 77 when op2 becomes a viewer" test "$(cat "$T/w.rc")" = 77
check "saying the permission was withdrawn" grep -q 'the worker stopped: .*campaigns.send' "$T/w.err"
status first
check "nothing is left in flight: every outcome was recorded" sh -c "! grep -q 'in_flight [1-9]' '$T/status'"
check "no recipient became uncertain" sh -c "! grep -q 'uncertain [1-9]' '$T/status'"
check "and the rest is still queued, not lost" test "$(count queued)" -gt 0
check "every recipient is accounted for" \
	test $(($(count queued) + $(count sent))) = 40
sent=$(ls "$MAIL" | grep -c '\.eml$')
check "what reached the server is what the store says was sent ($sent)" \
	test "$(sed -n 's/.*sent \([0-9]*\).*/\1/p' "$T/status" | head -1)" = "$sent"

as admin user role op2 operator >/dev/null
rm -f "$MAIL"/*
as marketer campaign add second --template t --list m --subject "Second" >/dev/null
as operator campaign cancel first >/dev/null
run_until_withdrawn second user disable op2
check "a worker whose user is disabled stops with exit 77" test "$(cat "$T/w.rc")" = 77
check "saying the account was disabled" grep -q 'the account op2 was disabled after this session began' "$T/w.err"
status second
check "nothing is left in flight" sh -c "! grep -q 'in_flight [1-9]' '$T/status'"
expect 0 "the audit trail" as admin audit log --user op2
check "records the refusal" grep -q 'denied.*disabled during the session' "$T/out"

# A setting that goes into every message, changed while the campaign sends:
# the rest does not go out as approved before; the campaign pauses for a new
# review within a second or so, as it would before it started (QA).
as operator campaign cancel second >/dev/null
rm -f "$MAIL"/*
as marketer campaign add third --template t --list m --subject "Third" >/dev/null
send_now third || not_ok "third: approve and send"
as operator worker --once >"$T/w.out" 2>"$T/w.err" &
pid=$!
n=0
while [ "$(ls "$MAIL" 2>/dev/null | grep -c '\.eml$')" -lt 4 ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
as admin config set sender.postal_address "4-5-6 Umeda, Osaka" >/dev/null
wait $pid
check "the worker stops sending it" grep -q 'third: paused: the approved content changed' "$T/w.err"
status third
check "the campaign is paused, saying the approved content changed" \
	grep -q 'paused: the approved content changed' "$T/status"
check "most of it is still queued, not sent with the old address" test "$(count queued)" -gt 20
check "nothing is left in flight" sh -c "! grep -q 'in_flight [1-9]' '$T/status'"
check "no message carries the new address: each went out as approved" \
	sh -c "! grep -l 'Umeda' '$MAIL'/*.eml >/dev/null 2>&1"
finish
