#!/usr/bin/env bash
# End to end: `hato campaign test NAME --to ADDR`, the test send that skips
# the review. Against the real SMTP test server (STARTTLS, AUTH): it never
# reaches an address that may not be mailed (suppressed by address or by
# domain, erased, unsubscribed from everything or from the campaign's list);
# each message is marked as a test in its Subject and a header, and still
# DKIM-signed (checked with dkimpy); and each user may send 20 in 24 hours,
# counted from the audit trail. What arrives is read with Python's email
# package.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"
ARRIVED="$PY $SRC/tests/e2e/campaigns.d/arrived.py"

campaign_setup ts || exit 1
total() { $ARRIVED "$MAIL" counts | awk '{n += $2} END {print n + 0}'; }
refused_audit() { as admin audit log --action campaign.test 2>/dev/null | grep -c 'refused'; }

for a in member@example.com gone@example.com left@example.com erased@example.com; do
	as marketer subscriber add "$a" --list m --name "Member" >/dev/null || not_ok "add $a"
done
as marketer list add other >/dev/null
as marketer subscriber add left@example.com --list other >/dev/null
as marketer subscriber unsubscribe gone@example.com >/dev/null || not_ok "unsubscribe gone"
as marketer subscriber unsubscribe left@example.com --list m >/dev/null || not_ok "left leaves m"
as marketer subscriber erase erased@example.com >/dev/null || not_ok "erase"
as marketer suppress add blocked@example.com --reason complaint >/dev/null || not_ok "suppress"
as marketer suppress add @suppdom.example >/dev/null || not_ok "suppress a domain"
as marketer campaign add c1 --template t --list m --subject "Spring for {{name|you}}" >/dev/null

# ---- Refused: whoever may not be mailed -------------------------------------
# refuse ADDR WHY: the test send to ADDR is refused (77) with a clear message.
refuse() {
	expect 77 "refused: $2 ($1)" as marketer campaign test c1 --to "$1"
	check "with a clear message saying why ($1)" sh -c \
		"head -1 '$T/err' | grep -q '^hato: a test message may not go to $1: '"
}
refuse blocked@example.com "a suppressed address"
check "it says the address is suppressed" grep -q 'suppression list' "$T/err"
refuse anyone@suppdom.example "an address in a suppressed domain"
refuse gone@example.com "a subscriber who unsubscribed from everything"
check "it says the subscriber unsubscribed" grep -q 'the subscriber is unsubscribed' "$T/err"
refuse left@example.com "a subscriber who left the campaign's list"
check "it names the list" grep -q 'unsubscribed from the list m' "$T/err"
refuse erased@example.com "an erased person"
refuse BLOCKED@Example.COM "a suppressed address in other case"
check "none of them got anything" test "$(total)" = 0
check "each refusal is in the audit trail" test "$(refused_audit)" = 6
as admin audit log --action campaign.test >"$T/audit" 2>&1
check "the audit trail holds no plain address" sh -c "! grep -q '@' '$T/audit'"

# Without pii the answer would tell a subscriber's address from another:
# refused alike, naming the permission.
as admin role add tester campaigns.read campaigns.edit >/dev/null || not_ok "role tester"
printf 'tester-password-1\n' >"$T/pw.tester"
as admin user add tester --role tester --kdf interactive --new-password-file "$T/pw.tester" >/dev/null
for a in gone@example.com me@team.example; do
	expect 77 "a user without pii may not test-send to an address ($a)" as tester campaign test c1 --to "$a"
	check "naming the pii permission ($a)" grep -q 'needs the permission "pii"' "$T/err"
done
check "nothing was sent" test "$(total)" = 0

# ---- Sent, and marked as a test ----------------------------------------------
expect 0 "a test to the team's own address (not a subscriber) is sent" \
	as marketer campaign test c1 --to me@team.example
check "the command says it was a marked test" grep -q 'X-Hato-Test: yes' "$T/out"
expect 0 "a test to an active subscriber of the list is sent" \
	as marketer campaign test c1 --to member@example.com
check "both arrived, once each" \
	test "$(arrived me@team.example)$(arrived member@example.com)" = 11
$ARRIVED "$MAIL" fields >"$T/fields"
check "the Subject starts with [TEST]" \
	test "$(cut -f4 "$T/fields" | grep -c '^\[TEST\] Spring for ')" = 2
check "the subscriber's test is personalised like the real one" \
	grep -q $'^member@example.com\t.*\t\[TEST\] Spring for Member\t' "$T/fields"
check "every test message carries X-Hato-Test: yes" "$PY" -c "
import email, glob, sys
fs = glob.glob('$MAIL/*.eml')
ok = fs and all(email.message_from_binary_file(open(f, 'rb')).get_all('X-Hato-Test') == ['yes'] for f in fs)
sys.exit(0 if ok else 1)"
ok_dkim=1
for f in "$MAIL"/*.eml; do
	"$PY" "$SRC/tests/send/dkim_verify.py" "$f" "$T/records" >/dev/null 2>&1 || ok_dkim=0
done
check "test messages are DKIM-signed, and the signatures verify with dkimpy" test "$ok_dkim" = 1
check "the signature covers X-Hato-Test, so the mark can't be taken off" "$PY" -c "
import email, glob, re, sys
fs = glob.glob('$MAIL/*.eml')
def h(f):
    sig = email.message_from_binary_file(open(f, 'rb')).get_all('DKIM-Signature')[0]
    return re.search(r'(?:^|;)h=([^;]*)', re.sub(r'\s', '', sig)).group(1).lower().split(':')
sys.exit(0 if fs and all(h(f).count('x-hato-test') == 2 for f in fs) else 1)"
check "each send is audited as ok" \
	test "$(as admin audit log --action campaign.test 2>/dev/null | grep -c $'\tok\t')" = 2

# ---- The daily cap: 20 per user in 24 hours ---------------------------------
for i in $(seq 3 20); do
	as marketer campaign test c1 --to "me$i@team.example" >/dev/null 2>&1 || not_ok "test send $i"
done
check "20 test messages went out" test "$(total)" = 20
expect 75 "the 21st test send in 24 hours is refused (75, try later)" \
	as marketer campaign test c1 --to me21@team.example
check "with a clear message" grep -q 'sent 20 test messages in the last 24 hours' "$T/err"
check "and nothing more arrived" test "$(total)" = 20
capped() { as admin audit log --action campaign.test 2>/dev/null | grep -q 'refused.*daily cap'; }
check "the refusal is audited" capped
printf 'eve-password-1\n' >"$T/pw.eve"
as admin user add eve --role marketer --kdf interactive --new-password-file "$T/pw.eve" >/dev/null
expect 0 "the cap is per user: another marketer may still send a test" \
	as eve campaign test c1 --to me@team.example
check "it arrived" test "$(total)" = 21

# ---- The cap holds for tests run at once ------------------------------------
# Each test send is reserved in the audit trail in the same write transaction
# as the count, before it is sent: 25 at once give exactly 20.
printf 'par-password-1\n' >"$T/pw.par"
as admin user add par --role marketer --kdf interactive --new-password-file "$T/pw.par" >/dev/null
mkdir -p "$T/par"
pids=()
for i in $(seq 25); do
	(as par campaign test c1 --to "par$i@team.example" >/dev/null 2>"$T/par/$i.err"; echo $? >"$T/par/$i.rc") &
	pids+=($!)
done
wait "${pids[@]}" # not the SMTP server
check "25 test sends at once: 20 are sent" test "$(cat "$T"/par/*.rc | grep -c '^0$')" = 20
check "and 5 are refused (75) for the cap" sh -c "test \"\$(cat '$T'/par/*.rc | grep -c '^75$')\" = 5 &&
	test \"\$(grep -l 'sent 20 test messages in the last 24 hours' '$T'/par/*.err | wc -l)\" = 5"
check "exactly 20 more messages arrived" test "$(total)" = 41
as admin audit log --action campaign.test --user par >"$T/par/audit" 2>&1
check "the audit trail has a reservation and an outcome for each sent" \
	test "$(grep -c $'\tstarted\t' "$T/par/audit") $(grep -c $'\tok\t' "$T/par/audit")" = "20 20"

# ---- What the server answers --------------------------------------------------
expect 75 "a test deferred by the server (451) exits 75, try later" \
	as eve campaign test c1 --to defer@team.example
check "saying the server deferred it, with its reply" \
	grep -q '^hato: the server deferred the test message; try again later: 451 4.3.0 try later' "$T/err"
expect 65 "a test refused by the server (550) exits 65" as eve campaign test c1 --to fail@team.example
check "saying the server refused it, with its reply" \
	grep -q '^hato: the server refused the test message: 550 5.1.1 no such user' "$T/err"
expect 75 "a connection dropped after the data exits 75" as eve campaign test c1 --to drop@team.example
check "saying it may have arrived, not that it was not sent" sh -c "
	grep -q '^hato: the connection was lost after the test message was sent, so it may have arrived' '$T/err' &&
	! grep -q 'not sent\|354 End data' '$T/err'" # (354 alone may be in the port)
as admin audit log --action campaign.test --user eve >"$T/audit" 2>&1
check "audited as uncertain" grep -q $'\tuncertain\t' "$T/audit"
dead=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
use_smtp "$dead" || not_ok "smtp.url to a closed port"
expect 69 "a server that can't be reached exits 69 (unavailable)" as eve campaign test c1 --to me@team.example
check "saying the message was not sent" grep -q '^hato: the test message was not sent: ' "$T/err"

finish
