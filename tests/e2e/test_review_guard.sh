#!/usr/bin/env bash
# End to end: what is approved is what is sent, and it is lawful. Against the
# real SMTP test server (STARTTLS, AUTH); what arrives is read with Python's
# email package.
#  - Submitting, approving and sending a campaign whose pre-send checks fail
#    (no sender identity footer, which the Act on Specified Electronic Mail
#    requires) are refused; warnings do not block.
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
setting sender.contact ""
expect 65 "and send refuses it while the contact is unset" as operator campaign send later
check "it is still approved, not scheduled" test "$(state later)" = approved
setting sender.contact "support@example.com"
expect 0 "with the contact back, it is sent" as operator campaign send later
worker "later: the worker sends"
check "both got it" test "$(arrived p1@example.com)$(arrived p2@example.com)" = 11

finish
