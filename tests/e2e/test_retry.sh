#!/usr/bin/env bash
# End to end: a recipient whose server always answers 4xx (tests/servers/
# smtpd.py's defer*: 451 at RCPT) is retried with a doubling wait and given
# up after send.retry_for, marked failed with the server's last reply, so the
# campaign finishes instead of sending for ever. With send.retry_base = 1 and
# send.retry_for = 5, the waits are 1, 2, 4... seconds: tries at 0, 1 and 3 s,
# and the next would come at 7 s, past the 5 s: three attempts, then failed.
# (A fixed 1 s wait would have made six.) The test counts attempts at the
# server and states in the store, never seconds.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

campaign_setup rt || exit 1
mail_from() { "$PY" -c "import json; print(json.load(open('$T/rt/stats.json'))['mail_from'])"; }
status() { as operator campaign status "$1" >"$T/status" 2>&1; }

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
# Run the worker until the campaign is over (bounded: the waits add up to 3 s).
for i in $(seq 40); do
	status rt
	grep -q 'campaign rt: sending' "$T/status" || break
	sleep 0.5
	as operator worker --once >/dev/null 2>&1
done
status rt
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
for i in $(seq 40); do
	as operator worker --once >/dev/null 2>&1
	status rt
	grep -q 'campaign rt: sending' "$T/status" || break
	sleep 0.5
done
check "three more attempts at the server" test "$(mail_from)" = 7
check "then failed again, and the campaign is sent" \
	sh -c "grep -q 'campaign rt: sent' '$T/status' && grep -q 'gave up after 3 attempts' '$T/status'"
finish
