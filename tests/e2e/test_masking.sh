#!/usr/bin/env bash
# End to end: a user without the pii permission (a viewer) sees addresses
# masked everywhere, also inside the server's words. Postfix quotes the
# recipient in its RCPT refusal ("550 5.1.1 <taro@example.com>: Recipient
# address rejected"; tests/servers/smtpd.py's reject*), and that reply is
# kept with the recipient's row and in the person's history. `campaign
# status` (what the terminal UI's monitor shows, through the same store
# call) must mask it for a viewer and not for an operator, who holds pii;
# `subscriber show` shows it whole to the operator and is refused to the
# viewer (a lookup by address needs pii; tests/tui opens a viewer's record
# by its row).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

campaign_setup mk || exit 1
as marketer subscriber add reject.secret.person@example.com --list m >/dev/null
as marketer subscriber add "reject.john.o'smith\`jr@example.com" --list m >/dev/null
as marketer subscriber add ok@example.com --list m >/dev/null
as marketer campaign add mk --template t --list m --subject "Masking" >/dev/null
send_now mk || not_ok "approve and send"
expect 0 "the worker sends" as operator worker --once

expect 0 "an operator reads the status" as operator campaign status mk
check "the operator (pii) sees the address in the server's reply" \
	grep -q 'failed .*<reject.secret.person@example.com>: Recipient address rejected' "$T/out"
check "and the one whose local part holds ' and \`" grep -q "<reject.john.o'smith\`jr@example.com>: Recipient" "$T/out"
expect 0 "a viewer reads the status" as viewer campaign status mk
check "the viewer sees the reply with the address masked" \
	grep -q 'failed .*r\*\*\*@example.com  550 5.1.1 <r\*\*\*@example.com>: Recipient address rejected' "$T/out"
check "and the full address nowhere" sh -c "! grep -q 'secret' '$T/out'"
check "nor any of a local part holding ' and \`, which atext allows" sh -c "! grep -q 'smith' '$T/out'"

expect 77 "a viewer may not look the person up by address" as viewer subscriber show reject.secret.person@example.com
check "and learns nothing of the record" sh -c "! grep -q 'secret\|Recipient' '$T/out'"
expect 0 "an operator opens it" as operator subscriber show reject.secret.person@example.com
check "and sees the reply whole" grep -q '<reject.secret.person@example.com>: Recipient address rejected' "$T/out"

# A segment's expression may name an address: `campaign show` masks it too.
as marketer segment add secret --list m --where 'email = "reject.secret.person@example.com"' >/dev/null
as marketer campaign add mseg --template t --list m --segment secret --subject "Segment" >/dev/null
expect 0 "a viewer shows the campaign" as viewer campaign show mseg
check "with the address in its segment masked" grep -q 'segment: *secret (email = "r\*\*\*@example.com")' "$T/out"
check "and nowhere whole" sh -c "! grep -q 'secret.person' '$T/out'"
expect 0 "an operator shows it" as operator campaign show mseg
check "and sees the address" grep -q 'segment: *secret (email = "reject.secret.person@example.com")' "$T/out"
# The audit trail keeps addresses only as keyed hashes, settings included.
expect 0 "sender.from with a name and an address" as admin config set sender.from "News <news@example.com>"
expect 0 "sender.contact with an address in a sentence" as admin config set sender.contact "write to help.desk@example.com or call"
expect 0 "unsubscribe.mailto" as admin config set unsubscribe.mailto "Unsub@Example.com"
expect 0 "smtp.user that is an address" as admin config set smtp.user "mailer@example.com"
expect 0 "sender.contact, an address in parentheses" as admin config set sender.contact "x (a+tag@example.com)"
expect 0 "sender.contact, a quoted local part" as admin config set sender.contact '"john doe"@example.com'
expect 0 "sender.contact, an address literal" as admin config set sender.contact 'john@[192.0.2.1]'
expect 0 "the settings' audit records" as admin audit log --action config.set
check "hold no address" sh -c "! grep -q '@' '$T/out'"
check "but the rest of the value, the address as its hash" grep -q 'sender.from	ok	= News <[0-9a-f]\{32\}>$' "$T/out"
check "in a sentence too" grep -q 'sender.contact	ok	= write to [0-9a-f]\{32\} or call$' "$T/out"
check "in parentheses, which stay" grep -q 'sender.contact	ok	= x ([0-9a-f]\{32\})$' "$T/out"
check "the others as the whole value's hash" test "$(grep -c 'sender.contact	ok	(a value that holds an email address: [0-9a-f]\{32\})$' "$T/out")" = 2
expect 0 "the settings themselves" as admin config list
check "keep the address" grep -q 'news@example.com' "$T/out"
finish
