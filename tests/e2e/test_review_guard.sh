#!/usr/bin/env bash
# End to end: what is approved is what is sent, and it is lawful. Against the
# real SMTP test server (STARTTLS, AUTH); what arrives is read with Python's
# email package.
#  - Submitting, approving and sending a campaign whose pre-send checks fail
#    (no sender identity footer, which the Act on Specified Electronic Mail
#    requires) are refused; warnings do not block. A footer the HTML does
#    not display (in a comment, a hidden element, an image's alt text) is
#    no footer.
#  - The approval covers the settings that go into every message: changing
#    sender.postal_address or sender.from after the approval pauses the
#    campaign for a new review (not failed), and nothing is sent meanwhile;
#    restored, it resumes; reviewed again, it goes on where it stopped.
#  - `campaign retry` refuses a campaign that can no longer send.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"
ARRIVED="$PY $SRC/tests/e2e/campaigns.d/arrived.py"

campaign_setup rg || exit 1
state() { as operator campaign show "$1" 2>/dev/null | sed -n 's/^state: *//p'; }
status() { as operator campaign status "$1" >"$T/status" 2>&1; }
worker() { expect 0 "$1" as operator worker --once; }
setting() { as admin config set "$1" "$2" >/dev/null || not_ok "config set $1"; }

as marketer subscriber add p1@example.com --list m --name "P One" >/dev/null
as marketer subscriber add p2@example.com --list m --name "P Two" >/dev/null

# ---- Pre-send check errors block submit, approve and send --------------------
printf 'Hello {{name|there}}\n\n[Unsubscribe]({{unsubscribe_url}})\n' >"$T/nofooter.md"
as marketer template add nofooter "$T/nofooter.md" --layout none >/dev/null
as marketer campaign add bad --template nofooter --list m --subject "No footer" >/dev/null
expect 65 "campaign check fails a campaign with no sender identity footer" \
	as marketer campaign check bad
check "it reports footer-missing" grep -q 'footer-missing' "$T/out"
expect 65 "campaign submit refuses it (65)" as marketer campaign submit bad
check "printing the errors" sh -c "grep -q 'fails 3 pre-send checks' '$T/err' && \
grep -q 'footer-missing .*Act on Specified Electronic Mail' '$T/err'"
check "it stays a draft" test "$(state bad)" = draft
check "one error a line, indented under the first, with no literal \\n" sh -c "
	test \"\$(wc -l <'$T/err')\" = 4 && head -1 '$T/err' | grep -q '^hato: campaign bad fails 3 pre-send checks; .*):\$' &&
	test \"\$(tail -n +2 '$T/err' | grep -c '^  error ')\" = 3 && ! grep -qF '\\n' '$T/err'"

# The footer only in an HTML comment, or in a display:none element with an
# empty opt-out link: not displayed, so not there.
printf 'Footer: {{sender.name}} {{sender.postal_address}} {{sender.contact}} {{unsubscribe_url}}\n' >"$T/hid.txt"
printf '<p>Hello</p><!-- {{sender.name}} {{sender.postal_address}} {{sender.contact}} <a href="{{unsubscribe_url}}">unsubscribe</a> -->\n' >"$T/comment.html"
printf '<p>Hello</p><div style="display:none">{{sender.name}} {{sender.postal_address}} {{sender.contact}} <a href="{{unsubscribe_url}}"></a></div>\n' >"$T/hidden.html"
printf '<p><img src="https://example.com/logo.png" alt="{{sender.name}}"> {{sender.postal_address}} {{sender.contact}} <a href="{{unsubscribe_url}}">unsubscribe</a></p>\n' >"$T/alt.html"
for h in comment hidden alt; do
	as marketer template add "$h" "$T/$h.html" --text "$T/hid.txt" --layout none >/dev/null ||
		not_ok "template $h"
	as marketer campaign add "$h" --template "$h" --list m --subject "Hidden footer" >/dev/null
done
expect 65 "campaign check fails the footer and opt-out only in an HTML comment" \
	as marketer campaign check comment
check "  footer-missing three times, no-unsubscribe once, saying they are not seen" sh -c "
	test \"\$(grep -c 'footer-missing .*only where a reader does not see it' '$T/out')\" = 3 &&
	grep -q 'no-unsubscribe .*is not shown' '$T/out'"
expect 65 "campaign submit refuses it" as marketer campaign submit comment
expect 65 "and the same in a display:none element with an empty link" \
	as marketer campaign check hidden
check "  footer-missing three times, no-unsubscribe once" sh -c "
	test \"\$(grep -c 'footer-missing' '$T/out')\" = 3 && grep -q 'no-unsubscribe' '$T/out'"
expect 65 "and the sender's name only in an image's alt text" as marketer campaign check alt
check "  footer-missing for the name alone" sh -c "
	test \"\$(grep -c 'footer-missing' '$T/out')\" = 1 && grep -q 'footer-missing .*sender.s name' '$T/out'"

# Hidden by other common means: a <style> class rule, a font size of zero, a style
# written with character references, and an opt-out link in a font size of zero.
printf '<style>.h{display:none}</style><p>Hello</p><div class="h">{{sender.name}} {{sender.postal_address}} {{sender.contact}} <a href="{{unsubscribe_url}}">unsubscribe</a></div>\n' >"$T/classed.html"
printf '<p>Hello</p><p style="font-size:0">{{sender.name}} {{sender.postal_address}} {{sender.contact}} <a href="{{unsubscribe_url}}">unsubscribe</a></p>\n' >"$T/tiny.html"
printf '<p>Hello</p><div style="display&#58;none">{{sender.name}} {{sender.postal_address}} {{sender.contact}}</div><a href="{{unsubscribe_url}}">unsubscribe</a>\n' >"$T/encoded.html"
printf '<p>Hello</p><p>{{sender.name}} {{sender.postal_address}} {{sender.contact}} <a href="{{unsubscribe_url}}" style="font-size:0">unsubscribe</a></p>\n' >"$T/tinylink.html"
# hidden_check NAME FOOTERS UNSUB DESC: campaign check NAME fails with FOOTERS footer-missing
# errors and UNSUB no-unsubscribe errors.
hidden_check() {
	as marketer template add "$1" "$T/$1.html" --text "$T/hid.txt" --layout none >/dev/null ||
		not_ok "template $1"
	as marketer campaign add "$1" --template "$1" --list m --subject "Hidden footer" >/dev/null
	expect 65 "campaign check fails $4" as marketer campaign check "$1"
	check "  footer-missing $2 times, no-unsubscribe $3 times" sh -c "
		test \"\$(grep -c 'footer-missing .*only where a reader does not see it' '$T/out')\" = $2 &&
		test \"\$(grep -c 'no-unsubscribe .*is not shown' '$T/out')\" = $3"
}
hidden_check classed 3 1 "the footer in an element a <style> class rule hides"
hidden_check tiny 3 1 "the footer in a font size of zero"
hidden_check encoded 3 0 "the footer hidden by style=\"display&#58;none\""
hidden_check tinylink 0 1 "an opt-out link in a font size of zero"

printf 'Hello {{name|there}}, see http://example.com/plain\n' >"$T/warn.md"
as marketer template add warn "$T/warn.md" >/dev/null
as marketer campaign add warned --template warn --list m --subject "A warning" >/dev/null
expect 0 "campaign check passes with a warning" as marketer campaign check warned
check "the warning is shown" grep -q '^warning .*http-link' "$T/out"
expect 0 "a warning does not block submit" as marketer campaign submit warned

as marketer campaign add later --template t --list m --subject "Later" >/dev/null
expect 0 "a campaign whose checks pass is submitted" as marketer campaign submit later
setting sender.postal_address ""
expect 65 "approve refuses it once the settings changed since submit (postal address unset)" \
	as operator campaign approve later
check "saying why" grep -q 'sender-empty .*postal address' "$T/err"
check "it stays in review" test "$(state later)" = in_review
setting sender.postal_address "1-2-3 Marunouchi, Tokyo"
expect 0 "with the address back, approve passes" as operator campaign approve later
expect 64 "schedule refuses a day that does not exist (2030-02-30)" \
	as operator campaign schedule later --at 2030-02-30T09:00+09:00
expect 65 "and a time gone by, which would mean now" \
	as operator campaign schedule later --at 2020-01-01T00:00Z
check "saying to send it instead" grep -q 'that time has passed; to send now, use: hato campaign send later' "$T/err"
check "it is still approved, not scheduled" test "$(state later)" = approved
setting sender.contact ""
expect 65 "and send refuses it while the contact is unset" as operator campaign send later
check "it is still approved, not scheduled" test "$(state later)" = approved
setting sender.contact "support@example.com"
expect 0 "with the contact back, it is sent" as operator campaign send later
worker "later: the worker sends"
check "both got it" test "$(arrived p1@example.com)$(arrived p2@example.com)" = 11

# ---- A setting changed after approval pauses the campaign; nothing is sent ---
as marketer campaign add addr --template t --list m --subject "Address" >/dev/null
send_now addr || not_ok "addr: approve and send"
setting sender.postal_address ""
worker "addr: the worker meets a changed setting"
check "nothing was sent without the address" test "$(arrived p1@example.com)" = 1
status addr
check "the campaign is paused, not failed" grep -q 'campaign addr: paused' "$T/status"
check "status says the approved content changed and to review it again" \
	grep -q 'paused: the approved content changed: .*submit it for review again' "$T/status"
refused() { as admin audit log --action campaign.refused 2>/dev/null | grep -q "$1"; }
check "the refusal is in the audit trail" refused 'addr.*approved content changed'
expect 65 "resume is refused while the approved content differs" as operator campaign resume addr
check "saying the approval no longer holds and to submit it again" \
	grep -q 'campaign addr is not resumed, as its approval no longer holds: .*hato campaign submit addr' "$T/err"
check "it stays paused" test "$(state addr)" = paused
setting sender.postal_address "1-2-3 Marunouchi, Tokyo"
expect 0 "with the setting restored, the operator resumes it" as operator campaign resume addr
worker "addr: resumed"
check "then each gets it once" test "$(arrived p1@example.com)$(arrived p2@example.com)" = 22
$ARRIVED "$MAIL" fields | grep $'\tAddress\t' >"$T/fields"
check "with the postal address in the footer" \
	test "$(grep -c '1-2-3 Marunouchi, Tokyo' "$T/fields")" = 2

# ---- A temporary sender.from while sending: paused, then reviewed again -----
as marketer subscriber add defer1@example.com --list m >/dev/null
as marketer campaign add r1 --template t --list m --subject "R1" >/dev/null
send_now r1 || not_ok "r1: approve and send"
worker "r1: the first run (defer1 is deferred)"
status r1
check "r1 is sending with defer1 deferred" \
	sh -c "grep -q 'campaign r1: sending' '$T/status' && grep -q 'sent 2, deferred 1' '$T/status'"
setting sender.from "Other <other@example.com>"
sleep 1.1 # send.retry_base is 1 second
worker "r1: the worker meets the new sender.from"
status r1
check "r1 is paused for a new review, not failed" \
	sh -c "grep -q 'campaign r1: paused' '$T/status' && grep -q 'paused: the approved content changed' '$T/status'"
check "its deferred recipient is kept" grep -q 'deferred 1' "$T/status"
expect 0 "the marketer submits r1 for review again" as marketer campaign submit r1
check "it is in review" test "$(state r1)" = in_review
expect 0 "the operator approves the new From" as operator campaign approve r1
expect 0 "and sends it" as operator campaign send r1
as marketer subscriber add p3@example.com --list m >/dev/null # after the queue was fixed
worker "r1: after the new review"
status r1
check "it went on where it stopped: nobody got it twice" \
	test "$(arrived p1@example.com)$(arrived p2@example.com)$(arrived p3@example.com)" = 330
check "the queue is as it was: defer1 still deferred, retried" \
	sh -c "grep -q 'campaign r1: sending' '$T/status' && grep -q 'sent 2, deferred 1' '$T/status'"
expect 0 "an operator pauses r1" as operator campaign pause r1
expect 65 "campaign submit of a paused campaign whose approval holds is refused" \
	as marketer campaign submit r1
check "saying to resume it" grep -q 'its approval still holds: resume it' "$T/err"
check "it stays paused" test "$(state r1)" = paused
setting sender.from "News <news@example.com>"

# ---- retry refuses a campaign that can no longer send -------------------------
as marketer campaign add fg --template t --list m --subject "Forged" >/dev/null
send_now fg || not_ok "fg: approve and send"
sleep 1.1
worker "fg: the first run"
sql "UPDATE approvals SET sig = randomblob(64) WHERE campaign = (SELECT id FROM campaigns WHERE name = 'fg')"
sleep 1.1
worker "fg: a forged approval"
check "fg failed: its approval does not verify" test "$(state fg)" = failed
expect 65 "retry --deferred refuses a failed campaign (exit 65)" \
	as operator campaign retry fg --deferred
check "with a clear message" clear_error
check "saying it can no longer send" grep -q 'failed and can no longer send' "$T/err"
check "nothing was queued again" \
	test "$(sql "SELECT count(*) FROM queue WHERE campaign = (SELECT id FROM campaigns WHERE name = 'fg') AND state = 3")" = 1

# ---- The list is approved: it can't be removed, and made again with another
# name or other people, under a campaign on its way
as marketer list add ln --name "Monthly News" >/dev/null
as marketer subscriber add p1@example.com --list ln >/dev/null
printf '# News of {{list.name}}\n\nHello {{name|there}}.\n' >"$T/ln.md"
as marketer template add ln "$T/ln.md" >/dev/null
as marketer campaign add ln --template ln --list ln --subject "List news" >/dev/null
send_now ln || not_ok "ln: approve and send"
expect 65 "the list of a scheduled campaign can't be removed" as marketer list rm ln
check "naming the campaign and what to do" grep -q 'the list ln is the audience of the campaign ln, which is scheduled; cancel the campaign first' "$T/err"
as marketer list add ln2 --name "Segment news" >/dev/null
as marketer subscriber add p1@example.com --list ln2 >/dev/null
as marketer segment add ln2seg --list ln2 --where 'domain = "example.com"' >/dev/null
as marketer campaign add ln2 --template ln --segment ln2seg --subject "Segment news" >/dev/null
as marketer campaign submit ln2 >/dev/null
expect 65 "nor the list of a segment of a campaign in review" as marketer list rm ln2
as operator campaign cancel ln2 >/dev/null
worker "ln: sent to the list approved"
check "under its approved name" grep -rqa 'News of Monthly News' "$MAIL"
expect 0 "once sent, its list can go" as marketer list rm ln

# ---- Sending what changed since the approval is refused, not re-signed -------
as marketer campaign add chg --template t --list m --subject "Changed" >/dev/null
as marketer campaign submit chg >/dev/null && as operator campaign approve chg >/dev/null ||
	not_ok "chg: submit and approve"
setting sender.contact "help@example.com"
expect 65 "campaign send of an approved campaign whose settings changed since is refused" \
	as operator campaign send chg
check "saying it changed since it was approved, and what to do" \
	grep -q 'campaign chg is not sent, as its approval no longer holds: the approved content changed: .*hato campaign submit chg' "$T/err"
on_record() { as admin audit log --action "$1" 2>/dev/null | grep -q "$2"; }
check "the refusal is in the audit trail" on_record campaign.schedule 'chg.*refused.*its approval no longer holds'
check "it is still approved" test "$(state chg)" = approved
check "with its approval" sh -c "grep -q 'approved by operator'" < <(as operator campaign show chg)
expect 0 "its author submits it again" as marketer campaign submit chg
check "it is back in review, its approvals dropped" test "$(state chg)" = in_review
expect 0 "approved again" as operator campaign approve chg
expect 0 "it is sent" as operator campaign send chg

# ---- A DKIM key removed after the approval: paused, nothing sent unsigned ----
as marketer campaign add dk --template t --list m --subject "Signed" >/dev/null
send_now dk || not_ok "dk: approve and send"
as admin dkim rm example.com ed1 >/dev/null
before=$(ls "$MAIL" | wc -l)
worker "dk: the worker meets a From domain without a key"
status dk
check "dk is paused, saying why and what to do" \
	grep -q 'paused: the pre-send checks failed .*no DKIM key.*then resume the campaign (hato campaign resume dk)' "$T/status"
check "nothing was sent unsigned" test "$(ls "$MAIL" | wc -l)" = "$before"
expect 65 "campaign check calls it an error" as marketer campaign check dk
expect 65 "resume is refused while the key is missing" as operator campaign resume dk
check "saying to add a key" grep -q 'no DKIM key.*add a DKIM key for the From domain' "$T/err"
check "dk stays paused" test "$(state dk)" = paused
setting send.dkim relay
expect 0 "with send.dkim = relay (the relay signs) it is a warning" as marketer campaign check dk
check "saying to check the relay's signature" grep -q '^warning .*no-dkim.*relay' "$T/out"
expect 65 "resume is refused now, as send.dkim is part of what was approved" \
	as operator campaign resume dk
check "saying to submit it again" grep -q 'dk is not resumed, as its approval no longer holds' "$T/err"
check "on record" on_record campaign.resume 'dk.*refused.*its approval no longer holds'
setting send.dkim hato
as admin dkim keygen example.com ed1 --alg ed25519 >/dev/null
expect 0 "with a key made again, dk is resumed" as operator campaign resume dk
check "and is due again (it had not started)" test "$(state dk)" = scheduled
expect 65 "send.dkim takes hato or relay" as admin config set send.dkim maybe

# ---- A campaign whose segment went with its list is not for the whole list ---
as marketer list add gone >/dev/null
for p in g1 g2; do as marketer subscriber add "$p@example.com" --list gone >/dev/null; done
as marketer segment add g1only --list gone --where 'email = "g1@example.com"' >/dev/null
as marketer campaign add sg --template t --segment g1only --subject "One" >/dev/null
expect 0 "a campaign on a segment of one passes its checks" as marketer campaign check sg
check "counting one" grep -q '^recipients: 1 ' "$T/out"
expect 0 "the draft's list is removed, with its segment" as marketer list rm gone
as marketer list add gone >/dev/null
for p in g3 g4 g5; do as marketer subscriber add "$p@example.com" --list gone >/dev/null; done
expect 65 "made again, its new members are not the campaign's: campaign check fails it" \
	as marketer campaign check sg
check "saying the segment no longer exists and what to do" grep -q \
	'^error   audience       segment-missing  the segment g1only no longer exists: .*(hato campaign edit sg --segment S)' "$T/out"
check "counting nobody" grep -q '^recipients: 0 ' "$T/out"
expect 65 "campaign submit refuses it" as marketer campaign submit sg
expect 0 "campaign show says the segment is gone" as marketer campaign show sg
check "  beside its name" grep -q '^segment: *g1only (no longer exists)$' "$T/out"

# ---- An attribute some recipients lack, with no fallback: a warning -----------
as marketer list add u >/dev/null
for p in u1 u2; do as marketer subscriber add "$p@example.com" --list u >/dev/null; done
as marketer subscriber add u3@example.com --list u --attr first_name=Pat >/dev/null
printf 'Dear {{attr.frist_name}} and {{attr.first_name}}, {{attr.first_name|friend}}\n\n{{sender.name}} {{sender.postal_address}} {{sender.contact}} {{unsubscribe_url}}\n' >"$T/typo.md"
as marketer template add typo "$T/typo.md" >/dev/null || not_ok "template typo"
as marketer campaign add typo --template typo --list u --subject "Hi" >/dev/null
expect 0 "campaign check of a template with a misspelt attribute passes, with warnings" \
	as marketer campaign check typo
check "  {{attr.frist_name}} is empty for every recipient" \
	grep -q 'unset-attr .*{{attr.frist_name}} has no value for 3 of the 3 recipients.*is the name right' "$T/out"
check "  {{attr.first_name}} for the two without it" \
	grep -q 'unset-attr .*{{attr.first_name}} has no value for 2 of the 3 recipients' "$T/out"
check "  once each: the tag with a fallback is not counted" test "$(grep -c unset-attr "$T/out")" = 2
finish
