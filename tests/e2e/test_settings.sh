#!/usr/bin/env bash
# End to end: `config set` refuses a value that sending would refuse or
# misread, with the parser sending reads it with (exit 65, one clear line),
# and keeps the old value; the pre-send checks report a bad unsubscribe.url;
# and a bad warm-up table put in the store behind hato's back (as a store set
# up before hato checked its settings could hold) is not read as "no cap".
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

new_store || { not_ok "store set-up"; exit 1; }
campaign_fixture || { not_ok "campaign set-up"; exit 1; }

# says KEY VALUE: one clear error line that names the setting or quotes the value.
says() { clear_error && grep -qF -e "$1" -e "\"$2\"" "$T/err"; }
# bad KEY VALUE: refused with 65 and a clear line; the setting keeps its value.
bad() {
	local before after
	before=$(as admin config get "$1" 2>&1)
	expect 65 "config set $1 \"$2\" is refused" as admin config set "$1" "$2"
	check "  with a clear message: $(head -1 "$T/err")" says "$1" "$2"
	after=$(as admin config get "$1" 2>&1)
	check "  and $1 keeps its value" test "$before" = "$after"
}
good() { expect 0 "config set $1 \"$2\" is accepted" as admin config set "$1" "$2"; }

# ---- What QA found accepted ----------------------------------------------------
bad warmup.schedule "abc,12"
bad warmup.schedule "5,1O,20" # a letter O: it was read as "5,1"
bad send.breaker x
bad pace.docomo.ne.jp abc
bad send.iso2022jp yes
bad smtp.url http://x
bad sender.from garbage
bad unsubscribe.url "not a url"
bad send.rate abc
# ---- and more of the same ------------------------------------------------------
bad warmup.start 2026-02-30
bad warmup.volume 0
bad send.breaker 101
bad send.retry_base -5
bad smtp.connections 65
bad smtp.tls maybe
# An empty value unsets the key, whether it was set or not (QA: it was kept, empty).
as admin config set smtp.connections 8 >/dev/null
expect 0 "config set KEY \"\" on a key set" as admin config set smtp.connections ""
check "  says it is unset" grep -qx 'smtp.connections unset' "$T/out"
expect 66 "  and config get finds it not set" as admin config get smtp.connections
expect 0 "config set KEY \"\" on a key not set changes nothing" as admin config set smtp.connections ""
bad smtp.ca_file /nonexistent/ca.pem # the worker could not read it (QA)
printf 'x\n' >"$T/ca.pem"
good smtp.ca_file "$T/ca.pem"
# smtp.tls = none only to a loopback relay, and never with smtps://, whichever
# of the two settings is set last.
good smtp.url smtp://mail.example.com:587
bad smtp.tls none
good smtp.url smtp://127.0.0.1:2525
good smtp.tls none
bad smtp.url smtp://mail.example.com:587
bad smtp.url smtps://127.0.0.1:465
good smtp.url smtp://[::1]:2525
good smtp.tls required
good smtp.url smtp://mail.example.com:587
bad pace.example.net 30/x
bad unsubscribe.url http://example.com/u/
bad unsubscribe.mailto "News <unsubscribe@example.com>"
bad bounce.domain "bounce example"
bad sender.name " "
bad sender.postal_address "   "
bad sender.contact "　" # U+3000, an ideographic space
# Characters that render as nothing (UTF-8 bytes): U+3164 a Hangul filler, U+2800 the
# Braille blank, U+00AD a soft hyphen, U+2060 U+FE0F a word joiner and a variation
# selector, U+E0041 a tag character.
bad sender.postal_address "$(printf '\343\205\244')"
bad sender.name "$(printf '\342\240\200')"
bad sender.contact "$(printf '\302\255')"
bad sender.name "$(printf '\342\201\240\357\270\217')"
bad sender.postal_address "$(printf '\363\240\201\201')"
# ---- What sending reads is accepted ---------------------------------------------
good warmup.schedule "50,80,120"
good warmup.schedule ramp
good warmup.start 2999-01-01
good send.breaker 10
good pace.docomo.ne.jp 30/100
good send.iso2022jp carriers
good send.iso2022jp off
good smtp.url "file:$T/outbox"
good sender.from "News <news@example.com>"
good unsubscribe.url https://example.com/u/
good send.rate 0
good send.rate "" # unset: the default

# ---- The pre-send checks report a bad unsubscribe.url ----------------------------
printf '# Hello {{name|there}}\n\nNews.\n' >"$T/ok.md"
as marketer template add ok "$T/ok.md" --layout plain >/dev/null || not_ok "template ok"
as marketer campaign add uc --template ok --list m --subject "Hello" >/dev/null || not_ok "campaign uc"
as marketer subscriber add u1@example.com --list m >/dev/null
expect 0 "template check passes with a good unsubscribe.url" as marketer template check ok
expect 0 "and so does campaign check" as marketer campaign check uc
sql "UPDATE config SET value = 'not a url' WHERE key = 'unsubscribe.url'"
expect 65 "template check: an unsubscribe.url the worker would refuse is an error" \
	as marketer template check ok
check "  reported as unsubscribe-url, saying why" \
	grep -q '^error .*unsubscribe-url .*unsubscribe.url "not a url" is not an https:// address' "$T/out"
expect 65 "campaign check reports it too" as marketer campaign check uc
check "  as unsubscribe-url" grep -q 'unsubscribe-url' "$T/out"
sql "DELETE FROM config WHERE key = 'unsubscribe.url'"
expect 65 "template check: no unsubscribe.url at all is an error too" as marketer template check ok
check "  saying it must be set" grep -q 'unsubscribe-url .*unsubscribe.url must be set' "$T/out"
good unsubscribe.url https://example.com/u/

# ---- A sender identity of blanks (stored behind hato's back) is sender-empty -------
sql "UPDATE config SET value = ' ' WHERE key = 'sender.name'"
sql "UPDATE config SET value = '　' WHERE key = 'sender.contact'"
expect 65 "campaign check: a sender name and contact of blanks fail, as unset ones do" \
	as marketer campaign check uc
check "  as sender-empty, saying they are only blanks" sh -c "
	grep -q '^error .*sender-empty .*the sender.s name is only blanks' '$T/out' &&
	grep -q '^error .*sender-empty .*a contact for complaints is only blanks' '$T/out'"
expect 65 "campaign submit refuses it" as marketer campaign submit uc
good sender.name "Hato Ltd"
good sender.contact "support@example.com"
expect 0 "with the values back, campaign check passes" as marketer campaign check uc

# ---- VERP's bounce.domain aligned with From (relaxed: one organisation) ----------
good bounce.domain bounce.example.com
expect 0 "a bounce domain under the From domain passes" as marketer campaign check uc
check "  with no bounce-domain warning" bash -c '! grep -q bounce-domain "$1"' _ "$T/out"
good send.dkim relay # no key for the next From domain: a warning only
good sender.from "News <news@mail.example.co.jp>"
good bounce.domain bounces.example.co.jp
expect 0 "one beside it in the same organisation under co.jp passes" as marketer campaign check uc
check "  with no bounce-domain warning" bash -c '! grep -q bounce-domain "$1"' _ "$T/out"
good bounce.domain other.co.jp
expect 0 "another organisation under co.jp is a warning" as marketer campaign check uc
check "  naming both domains" grep -q '^warning .*bounce-domain .*bounce.domain other.co.jp is not aligned with the From domain mail.example.co.jp.*use example.co.jp or a subdomain of it' "$T/out"
good sender.from "News <news@example.com>"
expect 0 "config unset send.dkim" as admin config unset send.dkim
good bounce.domain bounce.other-org.net
expect 0 "so is one of another organisation" as marketer campaign check uc
check "  as bounce-domain" grep -q '^warning .*bounce-domain .*bounce.other-org.net is not aligned with the From domain example.com' "$T/out"
expect 0 "config unset bounce.domain" as admin config unset bounce.domain

# ---- A message over 3 MB: au refuses it ----------------------------------------------
/usr/bin/python3 -c '
import sys
sys.stdout.write("# 大きなお知らせ\n\n" + ("年末のお知らせです。" * 60 + "\n\n") * 550)' >"$T/big.md"
as marketer template add big "$T/big.md" --layout plain >/dev/null || not_ok "template big"
as marketer list add au >/dev/null
as marketer subscriber add taro@example.com --list au >/dev/null
as marketer campaign add bigc --template big --list au --subject "Big" >/dev/null
expect 0 "a message over 3 MB with no recipient at au: campaign check passes" \
	as marketer campaign check bigc
check "  with a too-big-for-au warning that gives its size" \
	grep -q '^warning .*too-big-for-au .*the message is [0-9]* bytes; au (au.com, ezweb.ne.jp) refuses messages over 3145728 bytes:' "$T/out"
as marketer subscriber add hanako@ezweb.ne.jp --list au >/dev/null
expect 65 "with a recipient at ezweb.ne.jp it is an error" as marketer campaign check bigc
check "  saying the campaign has recipients there" \
	grep -q '^error .*too-big-for-au .*and this campaign has recipients there' "$T/out"
expect 65 "and campaign submit refuses it" as marketer campaign submit bigc
expect 0 "a small campaign to the same people has no such finding" as marketer campaign check uc
check "  (none)" bash -c '! grep -q too-big-for-au "$1"' _ "$T/out"

# ---- docomo and the top of the hour: advice when scheduling ------------------------
as marketer list add dc >/dev/null
as marketer subscriber add hanako@docomo.ne.jp --list dc >/dev/null
as marketer subscriber add jiro@example.com --list dc >/dev/null
as marketer campaign add dcc --template ok --list dc --subject "Hello" >/dev/null
as marketer campaign submit dcc >/dev/null && as operator campaign approve dcc >/dev/null ||
	not_ok "dcc: submit and approve"
top=$(date -u -d 'tomorrow' +%F)T09:00+09:00
expect 0 "scheduled at the top of an hour, with a recipient at docomo" \
	as operator campaign schedule dcc --at "$top"
check "  notes that docomo watches for bursts then" \
	grep -q '^hato: note: the campaign starts at the top of an hour, with 1 recipient at docomo.ne.jp' "$T/err"
expect 0 "at :07" as operator campaign schedule dcc --at "${top%09:00+09:00}09:07+09:00"
check "  no note" test ! -s "$T/err"
as marketer subscriber unsubscribe hanako@docomo.ne.jp >/dev/null
expect 0 "the top of an hour, with no recipient at docomo left" \
	as operator campaign schedule dcc --at "${top%09:00+09:00}10:00+09:00"
check "  no note" test ! -s "$T/err"
as operator campaign cancel dcc >/dev/null

# ---- A warm-up table that does not parse is not "no cap" ---------------------------
mkdir -p "$T/outbox"
as marketer list add w >/dev/null
{ echo email; for i in $(seq 1 30); do echo "w$i@warm.example"; done; } >"$T/w.csv"
as marketer import w "$T/w.csv" >/dev/null || not_ok "import w"
as marketer campaign add warm --template ok --list w --subject "Warm" >/dev/null
send_now warm || not_ok "warm: approve and send"
good warmup.start "$(date -u +%F)"
sql "INSERT OR REPLACE INTO config (key, value) VALUES ('warmup.schedule', 'abc,12')"
expect 0 "the worker runs on day 0 of the stored table \"abc,12\"" as operator worker --once
check "  and sends nothing (it read as no cap and sent all 30)" \
	test "$(find "$T/outbox" -name '*.eml' | wc -l)" = 0
as operator campaign status warm >"$T/status" 2>&1
check "  campaign status says the table does not parse" \
	grep -q 'warm-up: day 0 of the custom table (it does not parse: nothing goes until warmup.schedule is fixed): cap 0 today' "$T/status"
good warmup.schedule "3,10"
expect 0 "fixed, the worker runs again" as operator worker --once
check "  and sends the day's cap of 3" test "$(find "$T/outbox" -name '*.eml' | wc -l)" = 3

# ---- 30 days without a message sent: the warm-up starts again --------------------
# The plan began 60 days ago (its table long over: no cap), and the 3 went
# out 40 days ago, nothing since.
good warmup.start "$(date -u -d '-60 days' +%F)"
sql "UPDATE queue SET updated = updated - 40 * 86400 WHERE state = 2"
expect 0 "campaign status after 40 idle days" as operator campaign status warm
check "  says day 0 of the table again, cap 3" \
	grep -q 'warm-up: day 0 of the custom table: cap 3 today, 0 sent; 10 tomorrow' "$T/out"
check "  because it started again" grep -q 'the warm-up started again after 30 days or more without a message sent' "$T/out"
expect 0 "the worker" as operator worker --once
check "  sends the cap of 3, not the 27 left" test "$(find "$T/outbox" -name '*.eml' | wc -l)" = 6
expect 0 "audit log --action warmup.restart" as admin audit log --action warmup.restart
check "  records the restart with why" grep -Eq "	warmup.restart	$(date -u +%F)T00:00:00Z	ok	(39|40) days without a message sent: day 0 again$" "$T/out"
# A restart recorded while the clock was a year ahead counts from today.
sql "UPDATE sequences SET value = value + 365 * 86400 WHERE name = 'warmup.restarted'"
expect 0 "campaign status after a restart recorded in the future" as operator campaign status warm
check "  keeps a cap: day 0 of the table" grep -q 'warm-up: day 0 of the custom table: cap 3 today' "$T/out"
sql "UPDATE sequences SET value = value - 365 * 86400 WHERE name = 'warmup.restarted'"
expect 0 "campaign status the next day" at "$(date -u -d '+1 day' '+%F 12:00:00')" "$HATO" --store "$STORE" --user operator --password-file "$T/pw.operator" campaign status warm
check "  is day 1 of the restarted plan" grep -q 'warm-up: day 1 of the custom table: cap 10 today' "$T/out"

finish
