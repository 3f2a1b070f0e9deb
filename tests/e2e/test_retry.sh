#!/usr/bin/env bash
# End to end: a recipient whose server always answers 4xx (tests/servers/
# smtpd.py's defer*: 451 at RCPT) is retried with a doubling wait and given
# up after send.retry_for, marked failed with the server's last reply, so the
# campaign finishes instead of sending for ever. With send.retry_base = 1 and
# send.retry_for = 5, the waits are 1, 2, 4... seconds: tries at 0, 1 and 3 s,
# and the next would come at 7 s, past the 5 s: three attempts, then failed.
# (A fixed 1 s wait would have made six.) The test counts attempts at the
# server and states in the store, never seconds. A server that can't be
# reached is waited for and given up the same way.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

campaign_setup rt || exit 1
mail_from() { "$PY" -c "import json; print(json.load(open('$T/rt/stats.json'))['mail_from'])"; }
status() { as operator campaign status "$1" >"$T/status" 2>&1; }
# Runs the worker until campaign $1 is no longer sending (bounded: the waits
# add up to a few seconds), then its status.
until_sent() {
	local i
	for i in $(seq 40); do
		as operator worker --once >/dev/null 2>&1
		status "$1"
		grep -q "campaign $1: sending" "$T/status" || break
		sleep 0.5
	done
}

expect 0 "send.retry_for is a setting" as admin config set send.retry_for 5
as marketer subscriber add ok1@example.com --list m >/dev/null
as marketer subscriber add defer1@example.com --list m >/dev/null
as marketer campaign add rt --template t --list m --subject "Retries" >/dev/null
send_now rt || not_ok "approve and send"

expect 0 "the first run" as operator worker --once
status rt
check "ok1 is sent; defer1 is deferred with the server's reply" \
	sh -c "grep -q 'sent 1, deferred 1, failed 0' '$T/status' && grep -q 'deferred  defer1@example.com  451 4.3.0 try later' '$T/status'"
check "the campaign is still sending" grep -q 'campaign rt: sending' "$T/status"
until_sent rt
check "the campaign finishes: sent, with defer1 failed" \
	sh -c "grep -q 'campaign rt: sent' '$T/status' && grep -q 'sent 1, deferred 0, failed 1' '$T/status'"
check "defer1 failed with the server's last reply, saying it was given up" \
	grep -q 'failed    defer1@example.com  451 4.3.0 try later (gave up after 3 attempts)' "$T/status"
check "the server saw exactly 4 transactions: ok1 once, defer1 three times (waits doubling)" \
	test "$(mail_from)" = 4
check "the store counts 3 attempts at defer1" test "$(sql "SELECT attempts FROM queue WHERE email = 'defer1@example.com'")" = 3
expect 0 "a worker run after that" as operator worker --once
check "tries nobody again" test "$(mail_from)" = 4

# retry --failed gives a recipient given up a new allowance of attempts.
expect 0 "retry --failed queues defer1 again" as operator campaign retry rt --failed
check "its attempts start again from 0" test "$(sql "SELECT attempts FROM queue WHERE email = 'defer1@example.com'")" = 0
until_sent rt
check "three more attempts at the server" test "$(mail_from)" = 7
check "then failed again, and the campaign is sent" \
	sh -c "grep -q 'campaign rt: sent' '$T/status' && grep -q 'gave up after 3 attempts' '$T/status'"

# A server that can't be reached at all is waited for the same way: doubling
# waits, then given up with the connection error, so the campaign ends
# instead of trying every send.retry_base seconds for ever.
dead=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
use_smtp "$dead" || not_ok "smtp.url to a closed port"
as marketer campaign add down --template t --list m --subject "Down" >/dev/null
send_now down || not_ok "approve and send down"
until_sent down
check "the campaign ends with its 2 recipients failed" \
	sh -c "grep -q 'campaign down: sent' '$T/status' && grep -q 'sent 0, deferred 0, failed 2' '$T/status'"
check "each failed with the connection error, given up after 3 attempts" \
	test "$(grep -c 'failed .*onnect.*(gave up after 3 attempts)' "$T/status")" = 2
check "the store counts 3 attempts at each" \
	test "$(sql "SELECT group_concat(attempts) FROM queue q JOIN campaigns c ON c.id = q.campaign WHERE c.name = 'down'")" = 3,3
finish
