#!/usr/bin/env bash
# End to end: complaints (ARF feedback reports read with `bounce read`) are
# counted by campaign. campaign status gives their rate; past 0.3% of the
# sent, once 1000 went out, the worker's breaker pauses the campaign; and
# campaign check warns of the last 30 days' rate over 0.1%.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

new_store || { not_ok "store set-up"; exit 1; }
campaign_fixture || { not_ok "campaign set-up"; exit 1; }
mkdir -p "$T/outbox"
as admin config set smtp.url "file:$T/outbox" >/dev/null || not_ok "smtp.url"
# VERP: a report names the campaign by its envelope sender's token.
as admin config set bounce.domain bounce.example.com >/dev/null || not_ok "bounce.domain"
as marketer list add cm >/dev/null
{ echo email; for i in $(seq 1 1100); do echo "p$i@example.net"; done; } >"$T/cm.csv"
as marketer import cm "$T/cm.csv" >/dev/null || not_ok "import"
# The warm-up cap stops the campaign at 1010 sent: it is still sending.
as admin config set warmup.start "$(date -u +%F)" >/dev/null
as admin config set warmup.schedule 1010 >/dev/null
as marketer campaign add cx --template t --list cm --subject "News" >/dev/null
send_now cx || not_ok "approve and send cx"
expect 0 "the worker sends the day's 1010" as operator worker --once
check "  1010 messages" test "$(find "$T/outbox" -name '*.eml' | wc -l)" = 1010

# arf N: a complaint about the message to pN, by its envelope sender (VERP).
arf() {
	local f from
	f=$(grep -l "^Delivered-To: p$1@example.net" "$T"/outbox/*.eml | head -1)
	from=$(sed -n 's/^Return-Path: <\(.*\)>\r*$/\1/p' "$f" | head -1)
	printf '%s\n' "From: <abuse@isp.example>" "To: $from" "MIME-Version: 1.0" \
		"Content-Type: multipart/report; report-type=feedback-report;" \
		"     boundary=\"part1\"" "" "--part1" "Content-Type: text/plain" "" "Abuse." \
		"--part1" "Content-Type: message/feedback-report" "" "Feedback-Type: abuse" \
		"Version: 1" "Original-Rcpt-To: <p$1@example.net>" "" "--part1" \
		"Content-Type: message/rfc822" "" "From: News <news@example.com>" \
		"To: p$1@example.net" "Subject: News" "" "Hello." "--part1--" >"$T/arf"
	as marketer bounce read "$T/arf"
}
sent_to() { grep -l "^Delivered-To: p$1@example.net" "$T"/outbox/*.eml >/dev/null 2>&1; }
n=0
for i in $(seq 1 1100); do
	sent_to "$i" || continue
	arf "$i" >/dev/null || not_ok "bounce read $i"
	n=$((n + 1))
	[ $n = 3 ] && break
done
expect 0 "campaign status" as operator campaign status cx

check "  counts 3 complaints, 0.30% of the sent" grep -q '^  complaints: 3 (0.30% of the sent' "$T/out"
expect 0 "the worker at 0.297%" as operator worker --once
expect 0 "  leaves the campaign as it was" as operator campaign status cx
check "  sending" grep -q '^campaign cx: sending' "$T/out"
expect 0 "the same complaint read again" arf "$i"
expect 0 "  is not counted twice" as operator campaign status cx
check "  (3)" grep -q '^  complaints: 3 ' "$T/out"
for i in $(seq $((i + 1)) 1100); do
	sent_to "$i" && break
done
arf "$i" >/dev/null || not_ok "bounce read $i"
expect 0 "the worker at 0.396%" as operator worker --once
expect 0 "  pauses the campaign" as operator campaign status cx
check "  paused" grep -q '^campaign cx: paused' "$T/out"
as operator campaign show cx >"$T/show" 2>&1
check "  saying why" grep -q 'circuit breaker: 4 complaints of 1010 sent (0.40%), over the 0.3% mailbox providers allow' "$T/show"
as operator campaign resume cx >/dev/null 2>&1
expect 0 "resumed, the worker" as operator worker --once
expect 0 "  pauses it again at once" as operator campaign status cx
check "  paused" grep -q '^campaign cx: paused' "$T/out"
check "  having sent nothing more" test "$(find "$T/outbox" -name '*.eml' | wc -l)" = 1010

# An unsubscribe request sent to unsubscribe.mailto, as List-Unsubscribe's
# mailto writes it, is followed by bounce read as the https link is.
for u in $(seq 1100 -1 1); do sent_to "$u" && break; done # the last sent, no complaint
f=$(grep -l "^Delivered-To: p$u@example.net" "$T"/outbox/*.eml | head -1)
mailto=$("$PY" -c '
import email, re, sys, urllib.parse
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
lu = re.sub(r"\s+", " ", m["List-Unsubscribe"])
mt = re.search(r"<mailto:([^?>]*)\?subject=([^>]*)>", lu)
print(mt.group(1) + " " + urllib.parse.unquote(mt.group(2)))' "$f")
check "List-Unsubscribe's mailto carries a token in its subject" \
	grep -Eq '^unsubscribe@example.com unsubscribe [A-Za-z0-9_-]{66}$' <<<"$mailto"
printf '%s\n' "From: <p$u@example.net>" "To: <${mailto%% *}>" "Subject: ${mailto#* }" \
	"Date: $(date -R)" "" "" >"$T/req"
expect 0 "bounce read of the request" as marketer bounce read "$T/req"
check "  unsubscribes the person it names from the list" \
	grep -q '^an unsubscribe request by mail: unsubscribed the person it names from cm$' "$T/out"
expect 0 "subscriber show" as marketer subscriber show "p$u@example.net"
check "  says unsubscribed from cm" grep -Eq '^ *cm +unsubscribed' "$T/out"
check "  and its history says it came by mail" grep -Eq ' unsubscribed +cm +by an unsubscribe request by mail$' "$T/out"
expect 0 "the same request again" as marketer bounce read "$T/req"
check "  changes nothing" grep -q 'already unsubscribed from cm' "$T/out"
# The subject encoded (RFC 2047), as mail clients and phones often send it.
as marketer subscriber add "p$u@example.net" --list cm >/dev/null 2>&1 # back, to go again
tok=${mailto##* }
printf '%s\n' "From: <p$u@example.net>" "To: <${mailto%% *}>" \
	"Subject: =?UTF-8?B?$(printf 'unsubscribe %s' "$tok" | base64 -w0)?=" "" "" >"$T/req_b"
printf '%s\n' "From: <p$u@example.net>" "To: <${mailto%% *}>" \
	"Subject: =?ISO-2022-JP?Q?unsubscribe_${tok//_/=5F}?=" "" "" >"$T/req_q"
expect 0 "a request with its subject B-encoded is read" as marketer bounce read "$T/req_b"
check "  as the plain one (the person is unsubscribed already)" grep -q 'already unsubscribed from cm' "$T/out"
expect 0 "Q-encoded too" as marketer bounce read "$T/req_q"
check "  the same" grep -q 'already unsubscribed from cm' "$T/out"
sed -E 's/(Subject: unsubscribe [A-Za-z0-9_-]{60})[A-Za-z0-9_-]{6}/\1AAAAAA/' "$T/req" >"$T/bad"
expect 65 "a request whose token is changed is refused" as marketer bounce read "$T/bad"
check "  saying its token does not verify" grep -q 'token does not verify' "$T/err"

# The last 30 days, every campaign: a warning in the pre-send checks.
as marketer campaign add next --template t --list cm --subject "Next" >/dev/null
expect 0 "campaign check of another campaign" as marketer campaign check next
check "  warns of the complaint rate" grep -q '^warning .*complaint-rate .*4 complaints in the last 30 days, 0.40% of the 1010 messages sent' "$T/out"

# A complaint about a person erased since still counts against its campaign,
# once (found in QA).
for k in $(seq 1000 -1 1); do sent_to "$k" && [ "$k" != "$u" ] && break; done
as marketer subscriber erase "p$k@example.net" >/dev/null || not_ok "erase p$k"
expect 0 "a complaint about an erased person" arf "$k"
check "  nobody on file, but counted against its campaign" grep -q 'nobody on file; no change; the complaint is counted against its campaign' "$T/out"
expect 0 "the same report again" arf "$k"
check "  is not counted twice" bash -c '! grep -q "counted against" "$1"' _ "$T/out"
expect 0 "campaign status" as operator campaign status cx
check "  counts 5 complaints" grep -q '^  complaints: 5 ' "$T/out"

# An unsubscribe request by mail for a person erased since: nobody gets mail,
# so no change, and an mbox goes on to the messages after it (QA).
as marketer subscriber erase "p$u@example.net" >/dev/null || not_ok "erase p$u"
expect 0 "an unsubscribe request for an erased person" as marketer bounce read "$T/req"
check "  says so, and changes nothing" grep -q 'someone no longer on the list (erased, or the list removed); no change' "$T/out"
{ echo "From MAILER-DAEMON Mon Nov 30 08:00:00 2026"; cat "$T/req"; echo
  echo "From MAILER-DAEMON Mon Nov 30 08:00:01 2026"; cat "$T/req_b"; } >"$T/req.mbox"
expect 0 "an mbox of two such requests" as marketer bounce read "$T/req.mbox"
check "  reads both" grep -q '^2 messages: 2 read as reports' "$T/out"
finish
