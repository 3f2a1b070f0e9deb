#!/usr/bin/env bash
# End to end: campaigns from draft to the recipient's mailbox, with the real
# binary against a real SMTP server on loopback (tests/servers/smtpd.py on
# aiosmtpd) that requires STARTTLS with a CA this test makes and AUTH.
# What arrives is read with tools we did not write: Python's email package,
# dkimpy, and the sqlcipher CLI with the data key (derived with PyNaCl).
# Issue 5, "Proofs that tests must show": what arrives, TLS, server replies,
# approval, pacing and warm-up, the circuit breaker, SIGTERM.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"
ARRIVED="$PY $SRC/tests/e2e/campaigns.d/arrived.py"

new_store || { not_ok "store set-up"; exit 1; }
campaign_fixture || { not_ok "campaign set-up"; exit 1; }
start_tls_smtpd main --pipelining || { not_ok "SMTP server"; exit 1; }
MAIN=$PORT MAIL="$T/main/mail"
use_smtp "$MAIN" || not_ok "smtp settings"

# worker: one `hato worker --once` as the operator; output in $T/out, $T/err.
worker() { expect 0 "$1" as operator worker --once; }
# status NAME: `campaign status` into $T/status.
status() { as operator campaign status "$1" >"$T/status" 2>&1; }
# cnt STATE: that count from the last status ("queued 0, sent 2, ...").
cnt() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" "$T/status" | head -1; }
# audit_has ACTION PATTERN: an audit record of ACTION matches PATTERN.
audit_has() { as admin audit log --action "$1" 2>/dev/null | grep -q "$2"; }
arrived() { $ARRIVED "$MAIL" counts | awk -v r="$1" '$1 == r {print $2}' | grep . || echo 0; }
cid() { sql "SELECT id FROM campaigns WHERE name = '$1'"; }

# ---- Warm-up: the day's cap is enforced and the status shows the plan --------
# (first, because the cap counts every message sent today)
as marketer list add w >/dev/null
for i in 1 2 3 4 5; do as marketer subscriber add "w$i@warm.example" --list w >/dev/null; done
as admin config set warmup.start "$(date -u +%F)" >/dev/null
as admin config set warmup.schedule 3 >/dev/null
as marketer campaign add warm --template t --list w --subject "Warm" >/dev/null
send_now warm || not_ok "warm: approve and send"
worker "warm-up: the worker runs"
check "warm-up: only 3 of 5 messages go on day 0 of a table \"3\"" \
	test "$($ARRIVED "$MAIL" counts | grep -c warm.example)" = 3
worker "warm-up: a second run the same day"
check "warm-up: still 3: the rest waits for the next day" \
	test "$($ARRIVED "$MAIL" counts | grep -c warm.example)" = 3
status warm
check "warm-up: status shows the plan (day, table, cap, sent)" \
	grep -q "warm-up: day 0 of the custom table: cap 3 today, 3 sent" "$T/status"
check "warm-up: status shows 2 still queued" test "$(cnt queued)" = 2
as admin config set warmup.start 2999-01-01 >/dev/null # warm-up over: no cap
worker "warm-up: after the ramp"
check "warm-up: without a cap the other 2 go, each of the 5 gets one" \
	test "$($ARRIVED "$MAIL" counts | grep warm.example | cut -f2 | sort -u | tr '\n' ' ')" = "1 "
check "warm-up: all 5 arrived" test "$($ARRIVED "$MAIL" counts | grep -c warm.example)" = 5

# ---- What arrives: the right people, personalised, signed, VERP --------------
as admin config set bounce.domain bounce.example.com >/dev/null
as marketer list add news >/dev/null
add() { as marketer subscriber add "$@" --list news >/dev/null || not_ok "add $1"; }
add alice@example.com --name "Alice Tanaka" --attr city=Tokyo --attr code=A1
add bob@example.org --name "Bob Sato" --attr city=Tokyo --attr code=B2
add carol@example.net --name "Carol" --attr city=Tokyo
add dave@example.com --name "Dave" --attr city=Tokyo
add erin@example.com --name "Erin" --attr city=Osaka
add frank@blocked.example --name "Frank" --attr city=Tokyo
add grace@example.com --name "Grace Ito" --attr city=Tokyo --attr code=G7
as marketer subscriber unsubscribe carol@example.net >/dev/null || not_ok "unsubscribe carol"
as marketer suppress add dave@example.com --reason "hard bounce" >/dev/null || not_ok "suppress dave"
as marketer suppress add @blocked.example >/dev/null || not_ok "suppress a domain"
as marketer segment add tokyo --list news --where 'attr.city = "Tokyo"' >/dev/null
expect 0 "a campaign on a segment" as marketer campaign add news --template t --segment tokyo \
	--subject "News for {{name|you}}"
expect 0 "campaign check passes" as marketer campaign check news
check "campaign check counts 3 recipients after unsubscribes and suppressions" \
	grep -q '^recipients: 3 ' "$T/out"
send_now news || not_ok "news: approve and send"
# Grace unsubscribes after the approval, before the worker fixes the queue.
as marketer subscriber unsubscribe grace@example.com >/dev/null
worker "news: the worker sends"
$ARRIVED "$MAIL" counts | grep -v warm.example >"$T/who"
check "exactly alice and bob got it, once each (not the unsubscribed, suppressed, \
out-of-segment, domain-suppressed or late-unsubscribed)" \
	test "$(tr '\t' ' ' <"$T/who" | tr '\n' ';')" = "alice@example.com 1;bob@example.org 1;"
status news
check "news: status says sent 2, and grace failed as unsubscribed" \
	sh -c "grep -q 'campaign news: sent' '$T/status' && grep -q 'sent 2,' '$T/status'"
check "news: the rate of 2 messages a minute is given a minute, not rounded to 0.0/s" \
	grep -q '^  rate: 2 messages in the last minute (2/min)$' "$T/status"
$ARRIVED "$MAIL" fields | grep -v warm.example >"$T/fields"
check "personalised: Alice's message greets her by name with her attribute" \
	grep -q $'^alice@example.com\t.*\tNews for Alice Tanaka\t.*Hello Alice Tanaka.*News for Tokyo, code A1' "$T/fields"
check "personalised: Bob's too" \
	grep -q $'^bob@example.org\t.*\tNews for Bob Sato\t.*Hello Bob Sato.*code B2' "$T/fields"
ok_dkim=1
while IFS=$'\t' read -r rcpt from mid subj text path; do
	"$PY" "$SRC/tests/send/dkim_verify.py" "$path" "$T/records" >/dev/null 2>&1 || ok_dkim=0
done <"$T/fields"
check "every message's DKIM signature verifies with dkimpy" test "$ok_dkim" = 1
check "each message has its own Message-ID" \
	test "$(cut -f3 "$T/fields" | sort -u | wc -l)" = 2
C=$(cid news)
sql "SELECT email, message_id FROM queue WHERE campaign = $C AND state = 2 ORDER BY email" |
	tr '|' '\t' >"$T/stored"
check "the Message-ID of each message is the one stored with its recipient" \
	test "$(cut -f1,3 "$T/fields" | sort)" = "$(sort "$T/stored")"
sql "SELECT email, subscriber FROM queue WHERE campaign = $C AND state = 2 ORDER BY email" |
	tr '|' '\t' >"$T/ids"
verp_ok=1
while IFS=$'\t' read -r email sid; do
	from=$(awk -F'\t' -v r="$email" '$1 == r {print $2}' "$T/fields")
	echo "$from" | grep -Eq "^b\+$C\.$sid\.[0-9a-f]{16}@bounce\.example\.com$" || verp_ok=0
done <"$T/ids"
check "each envelope sender is VERP b+CAMPAIGN.SUBSCRIBER.MAC@bounce.domain" test "$verp_ok" = 1
check "and they differ per recipient" test "$(cut -f2 "$T/fields" | sort -u | wc -l)" = 2
check "every session used TLS and AUTH" "$PY" -c "
import json,glob,sys
ok=all(json.load(open(f))['tls'] for f in glob.glob('$MAIL/*.json'))
s=json.load(open('$T/main/stats.json'))
sys.exit(0 if ok and s['auth_ok']>=1 and s['auth_failed']==0 and s['tls_sessions']==s['sessions'] else 1)"
as admin config set bounce.domain "" >/dev/null

# ---- {{list.name}} is the list's name, not its id -----------------------------
as marketer list add ln --name "ニュース" >/dev/null
as marketer subscriber add ln1@example.com --list ln --name "Ln One" >/dev/null
printf 'From the list {{list.name}}.\n' >"$T/ln.md"
as marketer template add ln "$T/ln.md" --layout newsletter >/dev/null || not_ok "template ln"
as marketer campaign add lname --template ln --list ln --subject "List name" >/dev/null
send_now lname || not_ok "lname: approve and send"
worker "list.name: the worker sends"
$ARRIVED "$MAIL" fields | awk -F'\t' '$1 == "ln1@example.com"' >"$T/ln.fields"
check "{{list.name}} in the body is the list's name (ニュース), not its id (ln)" \
	grep -q 'From the list ニュース\.' "$T/ln.fields"
check "and so is the newsletter layout's banner, in the HTML part too" "$PY" -c "
import email, email.policy, sys
path = open('$T/ln.fields').read().split('\t')[5].strip()
m = email.message_from_binary_file(open(path, 'rb'), policy=email.policy.default)
text, html = m.get_body(('plain',)).get_content(), m.get_body(('html',)).get_content()
sys.exit(0 if text.startswith('ニュース\n====') and 'font-weight:bold;\">ニュース</td>' in html else 1)"

# ---- Server replies: 4xx deferred then retried, 5xx failed, drops uncertain --
as marketer list add r >/dev/null
for a in ok1@example.com greylist1@example.com fail1@example.com drop1@example.com; do
	as marketer subscriber add "$a" --list r >/dev/null
done
as marketer campaign add replies --template t --list r --subject "Replies" >/dev/null
send_now replies || not_ok "replies: approve and send"
# A retry a minute away: not due within the first run, however slow the machine.
as admin config set send.retry_base 60 >/dev/null
worker "replies: first run"
status replies
check "4xx: greylist1 is deferred, with the server's reply" \
	grep -q 'deferred  greylist1@example.com  451 4.7.1 greylisted' "$T/status"
check "5xx: fail1 failed, with the code and text" \
	grep -q 'failed    fail1@example.com  550 5.1.1 no such user' "$T/status"
check "a connection dropped after the data: drop1 is uncertain, with a clear reason" \
	grep -q 'uncertain drop1@example.com  smtp: 127.0.0.1:[0-9]*: .*delivery uncertain' "$T/status"
check "the campaign is still sending (a retry is due)" grep -q 'campaign replies: sending' "$T/status"
check "ok1 arrived, greylist1 not yet" test "$(arrived ok1@example.com)$(arrived greylist1@example.com)" = 10
mails_before=$("$PY" -c "import json; print(json.load(open('$T/main/stats.json'))['mail_from'])")
C=$(cid replies)
check "greylist1's retry is a minute away" \
	test "$(sql "SELECT next_try - strftime('%s','now') > 50 FROM queue WHERE campaign = $C AND email = 'greylist1@example.com'")" = 1
as admin config set send.retry_base 1 >/dev/null
sql "UPDATE queue SET next_try = 0 WHERE campaign = $C AND email = 'greylist1@example.com'" # the minute passes
worker "replies: the retry run"
check "4xx then retried: greylist1's message arrived" test "$(arrived greylist1@example.com)" = 1
status replies
check "the campaign is sent; 2 sent, 1 failed, 1 uncertain" \
	sh -c "grep -q 'campaign replies: sent' '$T/status' && grep -q 'sent 2, deferred 0, failed 1, uncertain 1' '$T/status'"
check "status tells how to resend the uncertain one" grep -q 'retry replies --uncertain' "$T/status"
mails_after=$("$PY" -c "import json; print(json.load(open('$T/main/stats.json'))['mail_from'])")
check "the retry run tried only greylist1: uncertain and failed are not resent on their own" \
	test "$((mails_after - mails_before))" = 1
check "the uncertain recipient keeps the Message-ID it was sent with" \
	test -n "$(sql "SELECT message_id FROM queue WHERE campaign = $C AND email = 'drop1@example.com' AND message_id LIKE '<%@example.com>'")"
expect 0 "retry --uncertain queues it again" as operator campaign retry replies --uncertain
check "one recipient queued again" grep -q 'queued 1 recipient of' "$T/out"
worker "replies: after retry --uncertain"
mails_last=$("$PY" -c "import json; print(json.load(open('$T/main/stats.json'))['mail_from'])")
check "only then is drop1 tried again" test "$((mails_last - mails_after))" = 1

# ---- Hard bounces: 5.1.x makes the person bounced; 5.7.x and 4.x.x do not --
as marketer list add hb >/dev/null
for a in okh1@example.com fail2@example.com latefail2@example.com greylist2@example.com \
	unauth1@example.com; do
	as marketer subscriber add "$a" --list hb >/dev/null
done
as admin config set send.breaker 100 >/dev/null # two 5xx of four would pause it
as marketer campaign add hb1 --template t --list hb --subject "Bounces" >/dev/null
send_now hb1 || not_ok "hb1: approve and send"
worker "hard bounce: the worker sends"
as admin config set send.breaker "" >/dev/null
# shown NAME ADDR: `subscriber show ADDR` into $T/NAME.
shown() { as operator subscriber show "$2" >"$T/$1" 2>&1; }
shown fail2 fail2@example.com
check "550 5.1.1: fail2 is now bounced" grep -q '^status  *bounced$' "$T/fail2"
check "and its history says why, naming the campaign and the reply" \
	grep -q ' bounced  *hb hard bounce in hb1: 550 5.1.1 no such user$' "$T/fail2"
shown late latefail2@example.com
check "554 5.7.1 (policy, after the data): latefail2 stays active" grep -q '^status  *active$' "$T/late"
shown grey greylist2@example.com
check "451 4.7.1: greylist2 stays active" grep -q '^status  *active$' "$T/grey"
status hb1
check "campaign status counts the bounced address among the failed" \
	grep -q '^  bounced: 1 of the failed is marked bounced' "$T/status"
check "and says what Gmail's 5.7.26 means, under that error" sh -c "grep -A1 'unauth1@example.com  550 5.7.26 This mail is unauthenticated' '$T/status' |
	grep -q '^      cause: unauthenticated: neither SPF nor DKIM passes for the From domain'"
shown unauth unauth1@example.com
check "550 5.7.26 (authentication): unauth1 stays active" grep -q '^status  *active$' "$T/unauth"
check "the bounce is in the audit trail, with the codes alone" \
	audit_has subscriber.bounce $'\tok\t550 5.1.1 in campaign hb1$'
as marketer campaign add hb2 --template t --list hb --subject "After the bounce" >/dev/null
expect 0 "campaign check of a later campaign" as marketer campaign check hb2
check "it counts 4 recipients: the bounced address is left out" grep -q '^recipients: 4 ' "$T/out"
send_now hb2 || not_ok "hb2: approve and send"
sleep 1.2 # greylist2's retry of hb1 is due too
worker "hard bounce: the later campaign"
status hb2
check "the later campaign queued 4, not the bounced address" grep -q '(of 4)$' "$T/status"
expect 65 "a bounced address is not subscribed again" \
	as marketer subscriber add fail2@example.com --list m
printf 'email\nfail2@example.com\n' >"$T/fail2.csv"
expect 0 "importing the bounced address into another list" as marketer import m "$T/fail2.csv"
check "  says it is bounced or the like and stays so, not that it unsubscribed" sh -c "
	grep -q '^1 of the updated is unsubscribed, bounced or complained and stays so$' '$T/out' &&
	! grep -q 'had unsubscribed' '$T/out'"
shown fail2 fail2@example.com
check "  and it stays bounced" grep -q '^status  *bounced$' "$T/fail2"

# ---- Pacing: a per-domain rule (messages per minute) ------------------------
as admin config set pace.slow.example 2 >/dev/null
as marketer list add p >/dev/null
for i in 1 2 3 4 5; do as marketer subscriber add "s$i@slow.example" --list p >/dev/null; done
for i in 1 2; do as marketer subscriber add "f$i@fast.example" --list p >/dev/null; done
as marketer campaign add paced --template t --list p --subject "Paced" >/dev/null
send_now paced || not_ok "paced: approve and send"
worker "pace: first run"
check "pace.slow.example = 2 is one every 30 s: only 1 of 5 went to slow.example, no burst" \
	test "$($ARRIVED "$MAIL" counts | grep -c slow.example)" = 1
check "the other domain is not held back" test "$($ARRIVED "$MAIL" counts | grep -c fast.example)" = 2
worker "pace: a second run in the same minute"
check "a new worker counts the minute's messages from the store: still 1" \
	test "$($ARRIVED "$MAIL" counts | grep -c slow.example)" = 1
# 35 s on (the clock moved by libfaketime), the next is due: a gap after the
# last one sent, not a gap after the new worker's start (QA: --once, run by a
# timer, sent nothing to a paced domain while anything went in the last minute).
at "$(date -u -d '+35 sec' '+%Y-%m-%d %H:%M:%S')" as operator worker --once >/dev/null 2>&1
check "a worker 35 s later sends the next one at once: 2" \
	test "$($ARRIVED "$MAIL" counts | grep -c slow.example)" = 2
status paced
check "3 wait in the queue" test "$(cnt queued)" = 3
as operator campaign cancel paced >/dev/null
as admin config set pace.slow.example 0 >/dev/null

# ---- Pacing: a per-connection rule (messages per SMTP session) -------------
# On a server of its own, which counts the sessions and each one's messages.
start_tls_smtpd pc || not_ok "per-connection: server"
use_smtp "$PORT" || not_ok "per-connection: smtp settings"
as admin config set pace.example.net 0/5 >/dev/null
as marketer list add pc >/dev/null
{ echo email; for i in $(seq 1 30); do echo "pc$i@example.net"; done; } >"$T/pc.csv"
as marketer import pc "$T/pc.csv" >/dev/null || not_ok "import pc"
as marketer campaign add perconn --template t --list pc --subject "Per connection" >/dev/null
send_now perconn || not_ok "perconn: approve and send"
worker "per-connection: the worker sends"
check "pace.example.net 0/5: each of the 30 got one message" \
	test "$($ARRIVED "$T/pc/mail" counts | awk '$2 == 1' | wc -l)" = 30
check "pace.example.net 0/5: no session carried more than 5, so 6 to 10 sessions over 4 \
connections, each with TLS and AUTH (not a session per message)" "$PY" -c "
import json,sys; s=json.load(open('$T/pc/stats.json')); p=s['per_session']
sys.exit(0 if sum(p)==30 and max(p)<=5 and 6<=len(p)<=10 and s['auth_ok']==len(p)==s['tls_sessions'] else 1)"
as admin config set pace.example.net 0 >/dev/null
use_smtp "$MAIN"

# ---- The circuit breaker: >5% 5xx, judged over at least 20 replies, pauses --
as marketer list add bk >/dev/null
{
	echo "email"
	for i in $(seq 1 38); do echo "fail$i@breaker.example"; done
	echo "okb1@breaker.example"
	echo "okb2@breaker.example"
} >"$T/bk.csv"
as marketer import bk "$T/bk.csv" >/dev/null || not_ok "import bk"
as marketer campaign add brk --template t --list bk --subject "Breaker" >/dev/null
send_now brk || not_ok "brk: approve and send"
worker "breaker: run"
status brk
check "the breaker paused the campaign, saying why" \
	grep -q 'paused: circuit breaker: [0-9]* of the last [0-9]* replies were 5xx' "$T/status"
check "it stopped early: recipients are left in the queue" test "$(cnt queued)" -gt 0
check "it did not wait for 20 replies: 2 5xx are over 5% of 20 already" \
	test "$(cnt failed)" -lt 20
expect 0 "audit log --action campaign." as admin audit log --action campaign.
check "the pause and its reason are in the audit trail" \
	grep -q 'campaign.state.brk.*sending -> paused: circuit breaker: .* were 5xx' "$T/out"
left=$(cnt queued)
worker "breaker: a paused campaign is not sent"
status brk
check "nothing more went out while it is paused" test "$(cnt queued)" = "$left"
as operator campaign cancel brk >/dev/null
# A campaign of fewer than 20: 3 of 5 replies 5xx pause it too.
as marketer list add bs >/dev/null
for a in fails1 fails2 fails3 oks1 oks2; do as marketer subscriber add "$a@small.example" --list bs >/dev/null; done
as marketer campaign add brks --template t --list bs --subject "Small breaker" >/dev/null
send_now brks || not_ok "brks: approve and send"
worker "breaker: a small campaign"
status brks
check "the breaker paused the small campaign, saying why" \
	grep -q 'paused: circuit breaker: [0-9]* of the last [0-9]* replies were 5xx, over the threshold of 5% of 20 replies already' "$T/status"
as operator campaign cancel brks >/dev/null
# The breaker stops at once: 40 whose RCPT is refused half a second late,
# over 4 connections, each with 7 more messages waiting for it. When it trips,
# the waiting ones go back to the queue untried; only those a connection had
# already taken are still tried: the first 4, and at most 4 more.
as marketer list add bw >/dev/null
{ echo email; for i in $(seq 1 40); do echo "slowfail$i@refusing.example"; done; } >"$T/bw.csv"
as marketer import bw "$T/bw.csv" >/dev/null || not_ok "import bw"
as marketer campaign add brw --template t --list bw --subject "Slow breaker" >/dev/null
send_now brw || not_ok "brw: approve and send"
mails() { "$PY" -c "import json; print(json.load(open('$T/main/stats.json'))['mail_from'])"; }
before=$(mails)
worker "breaker: refusals that come slowly"
status brw
check "the breaker paused it" grep -q 'paused: circuit breaker:' "$T/status"
check "the server was asked for at most 8 of the 40" test $(($(mails) - before)) -le 8
check "at most 8 failed; the rest wait in the queue, none in flight or uncertain" \
	sh -c "test $(cnt failed) -le 8 && test $(cnt queued) -ge 32 && test $(cnt uncertain) = 0 && \
	test $(($(cnt failed) + $(cnt queued))) = 40"
check "the ones that went back were never tried: no attempt is counted" \
	test "$(sql "SELECT count(*) FROM queue WHERE campaign = $(cid brw) AND state = 0 AND attempts = 0")" = "$(cnt queued)"
as operator campaign cancel brw >/dev/null

# ---- TLS: no STARTTLS, a wrong name, an unknown CA -> nothing sent, paused, exit 69 ---
bash "$SRC/tests/servers/mkca.sh" "$T/ca2" || not_ok "second CA"
as marketer list add tl >/dev/null
as marketer subscriber add t1@example.com --list tl >/dev/null
as marketer subscriber add t2@example.com --list tl >/dev/null
as marketer campaign add tls --template t --list tl --subject "TLS" >/dev/null
send_now tls || not_ok "tls: approve and send"
# tls_case NAME PATTERN SERVER-OPTIONS...: the campaign pauses, nothing arrives.
tls_case() {
	local what=$1 pat=$2 pid; shift 2
	start_smtpd "$what" "$@" --auth "$SMTP_USER:$SMTP_PASS" || { not_ok "$what: server"; return; }
	pid=$SMTPD_PID
	as admin config set smtp.url "smtp://127.0.0.1:$PORT" >/dev/null
	as operator campaign resume tls >/dev/null 2>&1
	sleep 1.1 # the deferred rows' next try
	expect 69 "$what: worker --once exits 69 (unavailable), so scripts and systemd notice" \
		as operator worker --once
	check "$what: the worker's log says what failed" grep -q "tls: paused: circuit breaker: $pat" "$T/err"
	tail -1 "$T/err" >"$T/last"
	check "$what: and its last line says the server is unavailable" \
		grep -q "^hato: the mail server is unavailable (circuit breaker: $pat" "$T/last"
	status tls
	check "$what: the campaign is paused by the breaker with the reason" \
		grep -q "paused: circuit breaker: $pat" "$T/status"
	check "$what: nothing was sent" "$PY" -c "
import json,sys; s=json.load(open('$T/$what/stats.json')); sys.exit(0 if s['mail_from']==0 and s['messages']==0 else 1)"
	check "$what: nobody was marked sent or failed" \
		sh -c "grep -q 'sent 0, deferred 2, failed 0' '$T/status'"
	stop_smtpd "$pid"
}
tls_case no-starttls "smtp: STARTTLS refused by 127.0.0.1:[0-9]*: the server does not offer it" \
	--cert "$T/ca/server.pem" --key "$T/ca/server.key" --no-starttls
tls_case wrong-name "smtp: TLS certificate of 127.0.0.1:[0-9]* not accepted: .*name" \
	--cert "$T/ca/other.pem" --key "$T/ca/other.key"
tls_case self-signed "smtp: TLS certificate of 127.0.0.1:[0-9]* not accepted: .*self.signed" \
	--cert "$T/ca/self.pem" --key "$T/ca/self.key"
as admin config set smtp.ca_file "$T/ca2/ca.pem" >/dev/null # a CA that did not sign it
tls_case unknown-ca "smtp: TLS certificate of 127.0.0.1:[0-9]* not accepted: " \
	--cert "$T/ca/server.pem" --key "$T/ca/server.key"
use_smtp "$MAIN"
as operator campaign resume tls >/dev/null
sleep 1.1
worker "tls: resumed against a good server"
check "tls: both messages then arrive, once" \
	test "$(arrived t1@example.com)$(arrived t2@example.com)" = 11
# Cleartext is a configuration error unless the relay is on loopback: config
# set refuses it (test_settings.sh); stored behind hato's back, so do the
# worker and a test send.
as admin config set smtp.url "smtp://mail.example.com:587" >/dev/null
sql "INSERT OR REPLACE INTO config (key, value) VALUES ('smtp.tls', 'none')"
expect 78 "smtp.tls=none to a non-loopback host: the worker exits 78 (configuration)" \
	as operator worker --once
check "with a clear message" grep -q '^hato: smtp: smtp.tls = none is allowed only to a loopback relay' "$T/err"
expect 78 "and so does a test send" as marketer campaign test news --to alice@example.com
as admin config set smtp.tls required >/dev/null
expect 65 "config set refuses an unknown transport URL" as admin config set smtp.url "gopher://127.0.0.1"
sql "UPDATE config SET value = 'gopher://127.0.0.1' WHERE key = 'smtp.url'"
expect 78 "one stored behind hato's back is a configuration error to the worker" \
	as operator worker --once
use_smtp "$MAIN"

# ---- Approval: four eyes, enforced by signatures ------------------------------
as marketer list add ap >/dev/null
as marketer subscriber add ap1@example.com --list ap >/dev/null
n_ap() { arrived ap1@example.com; }
refusals() { as admin audit log --action campaign.refused 2>/dev/null | grep -c "$1"; }
for c in un1 un2 ed1 ed2 ed3 fg fg2; do
	as marketer campaign add "$c" --template t --list ap --subject "Approval $c" >/dev/null
done
expect 77 "a marketer cannot approve" as marketer campaign approve un1
# Unapproved, forced to scheduled or sending with the data key.
sql "UPDATE campaigns SET state = 'scheduled', scheduled_at = 0 WHERE name = 'un1'"
sql "UPDATE campaigns SET state = 'sending', scheduled_at = 0, started_at = 1 WHERE name = 'un2'"
check "with the data key, the database now says un1 is scheduled" \
	test "$(sql "SELECT state FROM campaigns WHERE name = 'un1'")" = scheduled
worker "approval: the worker meets forced campaigns"
check "an unapproved campaign forced to scheduled is never sent" test "$(n_ap)" = 0
check "the worker refused it in the audit trail" test "$(refusals un1)" -ge 1
check "the refusal says it has no approval" audit_has campaign.refused 'un1.*no approval'
check "one forced to sending is refused as well" test "$(refusals un2)" -ge 1
status un1
check "it is marked failed with the reason" \
	grep -q 'failed: campaign un1 has 0 valid approvals of 1 needed: it has no approval' "$T/status"
# Approved, then edited: back to draft, approvals dropped; forcing it back is refused.
send_now ed1 || not_ok "ed1: approve and send"
expect 0 "the author edits the approved, scheduled campaign" \
	as marketer campaign edit ed1 --subject "Changed after approval"
as operator campaign show ed1 >"$T/show"
check "an edit returns it to draft" grep -q '^state:     draft' "$T/show"
check "and drops its approvals" sh -c "! grep -q 'approved by' '$T/show'"
sql "UPDATE campaigns SET state = 'scheduled' WHERE name = 'ed1'"
worker "approval: edited, forced back to scheduled"
check "an edited campaign forced back to scheduled is never sent" test "$(n_ap)" = 0
check "refused as campaign.refused" test "$(refusals ed1)" -ge 1
# Approved; its old approval put back after an edit: the hash no longer matches.
send_now ed2 || not_ok "ed2: approve and send"
saved=$(sql "SELECT quote(hash), quote(sig), time FROM approvals a JOIN campaigns c ON c.id = a.campaign WHERE c.name = 'ed2' AND approver = 'operator'")
as marketer campaign edit ed2 --subject "Something else" >/dev/null
IFS='|' read -r h s tm <<<"$saved"
sql "INSERT INTO approvals (campaign, approver, hash, sig, time) SELECT id, 'operator', $h, $s, '$tm' FROM campaigns WHERE name = 'ed2'; UPDATE campaigns SET state = 'scheduled' WHERE name = 'ed2'"
worker "approval: an old approval replayed after an edit"
check "a replayed approval of other content does not send it" test "$(n_ap)" = 0
check "refused: the approval covers other content" audit_has campaign.refused 'ed2.*covers other content'
# Approved and scheduled, then changed in the database behind hato's back.
send_now ed3 || not_ok "ed3: approve and send"
sql "UPDATE campaigns SET subject = 'Tampered' WHERE name = 'ed3'"
worker "approval: content changed in the database"
check "a campaign changed in the database after approval is never sent" test "$(n_ap)" = 0
check "refused as well" test "$(refusals ed3)" -ge 1
# Forged approvals: the right hash with another signature, or relabelled as
# another approver's.
send_now fg || not_ok "fg: approve and send"
send_now fg2 || not_ok "fg2: approve and send"
sql "UPDATE approvals SET sig = randomblob(64) WHERE campaign = (SELECT id FROM campaigns WHERE name = 'fg')"
sql "UPDATE approvals SET approver = 'admin' WHERE campaign = (SELECT id FROM campaigns WHERE name = 'fg2')"
worker "approval: forged approval rows"
check "forged approvals do not send anything" test "$(n_ap)" = 0
check "refused: a signature that does not verify" audit_has campaign.refused "fg.*operator's signature does not verify"
check "refused: an approval relabelled as another user's" audit_has campaign.refused "fg2.*admin's signature does not verify"
# Self-approval: a role that may both edit and approve.
as admin role add editor campaigns.read campaigns.edit campaigns.approve templates >/dev/null ||
	not_ok "custom role"
printf 'eve-password-1\n' >"$T/pw.eve"
as admin user add eve --role editor --kdf interactive --new-password-file "$T/pw.eve" >/dev/null
as eve campaign add mine --template t --list ap --subject "Eve's own" >/dev/null
as eve campaign submit mine >/dev/null
expect 77 "the author may not approve their own campaign, even with the permission" \
	as eve campaign approve mine
check "with a clear message" clear_error
expect 0 "the refusal is audited" as admin audit log --action campaign.approve
check "as denied, four-eyes" grep -q 'eve.*campaign.approve.*mine.*denied.*four-eyes' "$T/out"
expect 0 "another user may approve it" as operator campaign approve mine
expect 0 "and it goes out" as operator campaign send mine
worker "approval: the properly approved one"
check "the approved campaign is the one message ap1 got" test "$(n_ap)" = 1

# approvals.required raised while a campaign is in review applies to it.
as marketer campaign add raise --template t --list ap --subject "Raised" >/dev/null
as marketer campaign submit raise >/dev/null
as admin config set approvals.required 2 >/dev/null
as operator campaign show raise >"$T/show"
check "raised after submit: campaign show says it needs 2" grep -q '^approvals: *2 needed$' "$T/show"
expect 0 "the first approval is taken" as operator campaign approve raise
check "one approval of 2: it stays in review" \
	test "$(sql "SELECT state FROM campaigns WHERE name = 'raise'")" = in_review
expect 65 "and it can't be sent" as operator campaign send raise
expect 0 "a second approver" as eve campaign approve raise
check "two of 2: approved" test "$(sql "SELECT state FROM campaigns WHERE name = 'raise'")" = approved
# The schedule is approved too: the scheduler's approval is one of the 2, and
# the approval that completes them makes the campaign due then.
at=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:07Z)
expect 0 "one of them schedules it" as operator campaign schedule raise --at "$at"
check "which sends it back to review, saying so" grep -q '^campaign raise is in review again: the schedule is part of what is approved, and it needs 2 approvals of it' "$T/out"
check "  in review" test "$(sql "SELECT state FROM campaigns WHERE name = 'raise'")" = in_review
expect 0 "the other approves the schedule" as eve campaign approve raise
check "and it is scheduled" test "$(sql "SELECT state FROM campaigns WHERE name = 'raise'")" = scheduled
as admin config set approvals.required 1 >/dev/null
as operator campaign show raise >"$T/show"
check "the requirement it was approved under stays: 2" grep -q '^approvals: *2 needed$' "$T/show"
check "the time shown keeps its seconds" grep -q "^scheduled: *$at\$" "$T/show"
as operator campaign cancel raise >/dev/null

# ---- SIGTERM: the long-running worker --------------------------------------
as marketer list add sg >/dev/null
{ echo email; for i in $(seq 1 40); do echo "sig$i@sig.example"; done; } >"$T/sg.csv"
as marketer import sg "$T/sg.csv" >/dev/null
as marketer campaign add sig --template t --list sg --subject "Signal" >/dev/null
as marketer campaign submit sig >/dev/null
as operator campaign approve sig >/dev/null
as admin config set send.rate 10 >/dev/null
"$HATO" --store "$STORE" --user operator --password-file "$T/pw.operator" worker \
	>"$T/wd.out" 2>"$T/wd.err" &
WPID=$!
on_exit "kill $WPID 2>/dev/null"
for i in $(seq 50); do grep -q 'started as' "$T/wd.err" && break; sleep 0.1; done
as operator campaign send sig >/dev/null
t0=$(date +%s%N)
for i in $(seq 100); do [ "$($ARRIVED "$MAIL" counts | grep -c sig.example)" -gt 0 ] && break; sleep 0.1; done
t1=$(date +%s%N)
check "the running worker picks up a newly due campaign within a few seconds" \
	test "$($ARRIVED "$MAIL" counts | grep -c sig.example)" -gt 0 -a $(((t1 - t0) / 1000000)) -lt 5000
sleep 0.5
kill -TERM "$WPID"
wait "$WPID"
check "on SIGTERM it exits 0" test "$?" = 0
status sig
got=$($ARRIVED "$MAIL" counts | grep -c sig.example)
check "it stopped part-way (send.rate 10 over 40 recipients)" test "$got" -lt 40
check "no recipient is left uncertain or in flight" \
	sh -c "grep -q 'uncertain 0' '$T/status' && ! grep -q in_flight '$T/status'"
check "every message that arrived is recorded as sent" test "$(cnt sent)" = "$got"
as admin config set send.rate 0 >/dev/null
worker "sig: the rest"
check "then each of the 40 has exactly one message" \
	test "$($ARRIVED "$MAIL" counts | grep sig.example | awk '$2 == 1' | wc -l)" = 40

# Erased after a mail, a person's consent records stay a month (the Act on
# Specified Electronic Mail), and subscriber data shows them.
expect 0 "erasing a person just mailed" as marketer subscriber erase sig1@sig.example
check "says the consent records are kept until a month after the mail" \
	grep -qE "^the consent records are kept until ($(date -u -d '+31 days -5 minutes' +%F)|$(date -u -d '+31 days' +%F))T" "$T/out"
expect 0 "subscriber data shows what was kept" as marketer subscriber data sig1@sig.example
check "the address, erased, and its consent record" sh -c "
	grep -q '\"email\": \"sig1@sig.example\"' '$T/out' &&
	grep -q '\"status\": \"erased\"' '$T/out' && grep -q '\"list\": \"sg\"' '$T/out'"
expect 77 "and still refuses the viewer, who may not look addresses up" \
	as viewer subscriber data sig1@sig.example

finish
