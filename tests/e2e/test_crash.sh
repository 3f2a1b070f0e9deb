#!/usr/bin/env bash
# Crash safety (issue 5): the worker is killed with SIGKILL at random moments
# while it sends a few hundred messages to a real SMTP server (STARTTLS,
# AUTH, 4 connections). Afterwards every recipient has exactly one message,
# except the uncertain ones, which have at most one; and each crash leaves at
# most the messages that could be in flight (8 x connections) uncertain.
# The arrivals are counted from the server's maildir, not from hato.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"
ARRIVED="$PY $SRC/tests/e2e/campaigns.d/arrived.py"
N=300 ROUNDS=10 CONNS=4
SLOTS=8 # in flight per connection: TRANSPORT_SLOTS_PER_CONNECTION in send/transport.h

new_store || { not_ok "store set-up"; exit 1; }
campaign_fixture || { not_ok "campaign set-up"; exit 1; }
start_tls_smtpd crash --pipelining || { not_ok "SMTP server"; exit 1; }
use_smtp "$PORT" || not_ok "smtp settings"
MAIL="$T/crash/mail"
as admin config set smtp.connections "$CONNS" >/dev/null
as admin config set send.rate 60 >/dev/null # spread the sending over the rounds

as marketer list add big >/dev/null
{ echo "email,name"; for i in $(seq -w 1 $N); do echo "r$i@crash.example,Person $i"; done; } >"$T/big.csv"
expect 0 "import $N recipients" as marketer import big "$T/big.csv"
as marketer campaign add crash --template t --list big --subject "Crash {{name}}" >/dev/null
send_now crash || not_ok "approve and send"

worker_bg() {
	"$HATO" --store "$STORE" --user operator --password-file "$T/pw.operator" worker "$@" \
		>>"$T/worker.out" 2>"$T/worker.$round.err" &
	WPID=$!
}
kills=0 max_recovered=0
for round in $(seq 1 $ROUNDS); do
	worker_bg
	for i in $(seq 100); do grep -q 'started as' "$T/worker.$round.err" && break; sleep 0.05; done
	sleep "$(printf '0.%02d' $((5 + RANDOM % 46)))" # 0.05 to 0.50 s into the sending
	kill -9 "$WPID" 2>/dev/null && kills=$((kills + 1))
	wait "$WPID" 2>/dev/null
	n=$(sed -n 's/.* \([0-9]*\) recipients in flight became uncertain.*/\1/p' "$T/worker.$round.err")
	[ -n "$n" ] && [ "$n" -gt "$max_recovered" ] && max_recovered=$n
done
round=final
expect 0 "after $kills kills, worker --once finishes the campaign" \
	"$HATO" --store "$STORE" --user operator --password-file "$T/pw.operator" worker --once
cp "$T/err" "$T/worker.final.err"
n=$(sed -n 's/.* \([0-9]*\) recipients in flight became uncertain.*/\1/p' "$T/worker.final.err")
[ -n "$n" ] && [ "$n" -gt "$max_recovered" ] && max_recovered=$n
echo "# $kills kills; at most $max_recovered became uncertain at one restart"
check "the worker was really killed mid-campaign several times" test "$kills" -ge 5

as operator campaign status crash >"$T/status"
sed 's/^/# /' "$T/status" | head -3
check "the campaign is sent" grep -q 'campaign crash: sent' "$T/status"
check "nobody is queued, deferred or failed" grep -q 'queued 0, sent [0-9]*, deferred 0, failed 0,' "$T/status"
check "no crash left more uncertain than could be in flight ($SLOTS x $CONNS)" \
	test "$max_recovered" -le $((SLOTS * CONNS))
unc=$(sed -n 's/.* uncertain \([0-9]*\) .*/\1/p' "$T/status")
check "uncertain in total: at most $SLOTS x connections per crash" test "${unc:-999}" -le $((SLOTS * CONNS * kills))
if [ "$max_recovered" -gt 0 ]; then
	check "the recovery log names the campaign to retry" \
		grep -q 'became uncertain; resend them with: hato campaign retry crash --uncertain$' \
		"$T"/worker.*.err
	check "status gives a recovered recipient's reason" \
		grep -q ' uncertain  *[^ ]*@crash.example  *the worker stopped while sending it; it may have arrived$' \
		"$T/status"
fi

sql "SELECT email, state, coalesce(message_id, '') FROM queue WHERE campaign = (SELECT id FROM campaigns WHERE name = 'crash') ORDER BY email" |
	tr '|' '\t' >"$T/queue"
$ARRIVED "$MAIL" counts >"$T/counts"
$ARRIVED "$MAIL" fields | cut -f1,3 | sort >"$T/mids"
check "the queue holds all $N recipients" test "$(wc -l <"$T/queue")" = "$N"
# state 2 = sent, 5 = uncertain
awk -F'\t' '
	FILENAME == ARGV[1] { got[$1] = $2; next }
	FILENAME == ARGV[2] { mid[$1] = mid[$1] " " $2; next }
	{
		n = ($1 in got) ? got[$1] : 0
		if ($2 == 2 && n != 1) { print "sent but got " n ": " $1; bad++ }
		else if ($2 == 5 && n > 1) { print "uncertain but got " n ": " $1; bad++ }
		else if ($2 != 2 && $2 != 5) { print "state " $2 ": " $1; bad++ }
		if ($2 == 2 && mid[$1] != " " $3) { print "Message-ID differs: " $1; bad++ }
		if ($2 == 2) sent++; else unc++
	}
	END { printf "%d sent, %d uncertain\n", sent, unc; exit bad > 0 }
' "$T/counts" "$T/mids" "$T/queue" >"$T/verdict"
rc=$?
sed 's/^/# /' "$T/verdict" | head -20
check "every sent recipient got exactly one message, with the Message-ID stored for it; \
every uncertain one at most one" test "$rc" = 0
check "nobody outside the list got anything" \
	test "$(awk '$1 !~ /@crash\.example$/' "$T/counts" | wc -l)" = 0
expect 0 "the audit trail still verifies" as admin audit verify
finish
