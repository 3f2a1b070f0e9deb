#!/usr/bin/env bash
# End to end: `hato bounce read` with reports built from what the real SMTP
# server (tests/servers/smtpd.py) recorded. A campaign goes out with
# bounce.domain set; a DSN to the VERP envelope sender that reached the
# server, whose Final-Recipient names no one on file, makes the person that
# token names bounced, and the next campaign skips them. A 4.2.2 and a 5.7.1
# change nothing; an ARF complaint (its token's MAC bad, so found by address)
# makes another person complained and suppressed. A report naming nobody
# says so; a message that is no report is refused (65); a viewer is refused
# (77); the audit trail holds the person only as a keyed hash.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

campaign_setup bn || exit 1
as admin config set bounce.domain bounce.example.com >/dev/null || not_ok "bounce.domain"
for a in gone@example.org angry@example.org ok@example.org slow@example.org; do
	as marketer subscriber add "$a" --list m >/dev/null || not_ok "add $a"
done
as marketer campaign add c1 --template t --list m --subject "One" >/dev/null
send_now c1 || not_ok "approve and send c1"
expect 0 "the worker sends c1" as operator worker --once
check "c1 reached gone and ok" test "$(count_to "$MAIL" gone@example.org)$(count_to "$MAIL" ok@example.org)" = 11

# The envelope sender the server saw for a recipient.
envelope_from() {
	"$PY" -c "
import glob, json, sys
for f in sorted(glob.glob('$MAIL/*.json')):
    d = json.load(open(f))
    if d['rcpt'] == sys.argv[1]:
        print(d['mail_from']); break" "$1"
}
VERP=$(envelope_from gone@example.org)
check "the envelope sender is a VERP address" sh -c "echo '$VERP' | grep -Eq '^b\+[0-9]+\.[0-9]+\.[0-9a-f]{16}@bounce\.example\.com$'"

# dsn FILE TO RCPT STATUS [ACTION]: a DSN as a receiving server writes one.
dsn() {
	printf '%s\r\n' "Return-Path: <>" "Delivered-To: $2" \
		"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>" "To: $2" \
		"Subject: Undelivered Mail Returned to Sender" "MIME-Version: 1.0" \
		"Content-Type: multipart/report; report-type=delivery-status;" \
		"	boundary=\"B0UND\"" "" "--B0UND" "Content-Type: text/plain" "" \
		"Your message could not be delivered." "--B0UND" \
		"Content-Type: message/delivery-status" "" "Reporting-MTA: dns; mx.example.org" "" \
		"Final-Recipient: rfc822; $3" "Action: ${5:-failed}" "Status: $4" "" \
		"--B0UND" "Content-Type: text/rfc822-headers" "" "Return-Path: <$2>" \
		"Subject: One" "--B0UND--" >"$1"
}

# The final recipient is an alias no one is on file as: only the token names gone.
dsn "$T/dsn1" "$VERP" "mailbox-7@mx.example.org" "5.1.1"
expect 0 "bounce read of a 5.1.1 DSN" as marketer bounce read "$T/dsn1"
check "says gone@example.org is bounced" grep -q '^gone@example.org: bounced (hard bounce 5.1.1' "$T/out"
as operator subscriber show gone@example.org >"$T/show" 2>&1
check "gone is bounced" grep -Eq '^status +bounced' "$T/show"
check "with a bounced event in their history" grep -q 'hard bounce 5.1.1 (delivery report) in c1' "$T/show"
expect 0 "the same DSN again, from standard input" sh -c "'$HATO' --store '$STORE' --user marketer --password-file '$T/pw.marketer' bounce read < '$T/dsn1'"
check "changes nothing the second time" grep -q 'no change: already not active' "$T/out"

dsn "$T/dsn2" "$(envelope_from slow@example.org)" "slow@example.org" "4.2.2" delayed
expect 0 "bounce read of a 4.2.2 DSN" as marketer bounce read "$T/dsn2"
check "says it is not a failure and changes nothing" grep -q 'slow@example.org: delayed, 4.2.2: not a failure; no change' "$T/out"
dsn "$T/dsn3" "$(envelope_from ok@example.org)" "ok@example.org" "5.7.1"
expect 0 "bounce read of a 5.7.1 DSN" as marketer bounce read "$T/dsn3"
check "says it is a policy block and changes nothing" grep -q 'ok@example.org: 5.7.1: a policy or reputation block, not the address; no change' "$T/out"
as operator subscriber show ok@example.org >"$T/show" 2>&1
check "ok stays active" grep -Eq '^status +active' "$T/show"

dsn "$T/dsn4" "someone@example.com" "stranger@example.net" "5.1.1"
expect 0 "a DSN naming nobody on file" as marketer bounce read "$T/dsn4"
check "says nobody on file" grep -q 'stranger@example.net: nobody on file; no change' "$T/out"

# The next campaign skips the bounced person.
as marketer campaign add c2 --template t --list m --subject "Two" >/dev/null
send_now c2 || not_ok "approve and send c2"
expect 0 "the worker sends c2" as operator worker --once
check "c2 went to ok but not to gone" \
	test "$(count_to "$MAIL" ok@example.org)/$(count_to "$MAIL" gone@example.org)" = 2/1

# An ARF complaint whose token has a bad MAC: the person is found by address.
GOOD=$(envelope_from angry@example.org)
BAD=$(echo "$GOOD" | sed -E 's/\.[0-9a-f]{16}@/.ffffffffffffffff@/')
check "the token is changed" test "$BAD" != "$GOOD"
# arf FILE TO TYPE RCPT: a feedback report of TYPE about RCPT, sent to TO.
arf() {
	printf '%s\n' "From: <abuse@isp.example>" "To: $2" "MIME-Version: 1.0" \
		"Content-Type: multipart/report; report-type=feedback-report;" \
		"     boundary=\"part1\"" "" "--part1" "Content-Type: text/plain" "" "A report." \
		"--part1" "Content-Type: message/feedback-report" "" "Feedback-Type: $3" \
		"Version: 1" "Original-Rcpt-To: <$4>" "" "--part1" \
		"Content-Type: message/rfc822" "" "From: News <news@example.com>" \
		"To: <$4>" "Subject: One" "" "Hello." "--part1--" >"$1"
}
# Reports that are not complaints change nothing: not-spam says the
# opposite, and auth-failure (a DMARC failure report) is about forged mail.
for t in not-spam auth-failure; do
	arf "$T/arf.$t" "$GOOD" "$t" angry@example.org
	expect 0 "bounce read of a feedback report of type $t" as marketer bounce read "$T/arf.$t"
	check "  says it is no complaint" grep -q "^a feedback report of type $t, which is not a complaint; no change$" "$T/out"
	as operator subscriber show angry@example.org >"$T/show" 2>&1
	check "  angry stays active" grep -Eq '^status +active' "$T/show"
done
# A comment after the type is allowed (RFC 5965): it is still abuse.
arf "$T/arf" "$BAD" "abuse (the user marked it as spam)" angry@example.org
expect 0 "bounce read of an ARF complaint" as marketer bounce read "$T/arf"
check "says the token did not verify" grep -q 'VERP token did not verify' "$T/out"
check "says angry is complained and suppressed" grep -q '^angry@example.org: complained (complaint (feedback report, abuse)); suppressed' "$T/out"
as operator subscriber show angry@example.org >"$T/show" 2>&1
check "angry is complained" grep -Eq '^status +complained' "$T/show"
as marketer suppress ls >"$T/supp" 2>&1
check "and on the suppression list" grep -q 'complaint (feedback report)' "$T/supp"
expect 65 "the same address can't be added back" as marketer subscriber add angry@example.org --list m

# An mbox of three messages: two DSNs (found by address) around a message
# that is no report. A "From " line inside a message (no blank line before
# it) does not start a new one.
for a in mb1@example.org mb2@example.org; do
	as marketer subscriber add "$a" --list m >/dev/null || not_ok "add $a"
done
dsn "$T/mb1" "postmaster@example.com" "mb1@example.org" "5.1.1"
dsn "$T/mb2" "postmaster@example.com" "mb2@example.org" "5.1.2"
{
	echo "From MAILER-DAEMON Sun Nov 29 12:00:00 2026"
	cat "$T/mb1"
	echo
	echo "From someone@example.net Sun Nov 29 12:01:00 2026"
	printf 'Subject: hi\n\nHello.\nFrom here on, nothing is a report.\n>From the desk\n\n'
	echo "From MAILER-DAEMON Sun Nov 29 12:02:00 2026"
	cat "$T/mb2"
} >"$T/mbox"
expect 0 "bounce read of an mbox" as marketer bounce read "$T/mbox"
check "names each message with its first line" sh -c "
	grep -q '^message 1 (line 1):$' '$T/out' && grep -q '^message 2 (line [0-9]*):$' '$T/out' &&
	grep -q '^message 3 (line [0-9]*):$' '$T/out' && ! grep -q '^message 4' '$T/out'"
check "applies the first and the last" sh -c "
	grep -q '^  mb1@example.org: bounced (hard bounce 5.1.1' '$T/out' &&
	grep -q '^  mb2@example.org: bounced (hard bounce 5.1.2' '$T/out'"
check "skips the one that is not a report, saying so" grep -q '^  not a report: .*; skipped$' "$T/out"
check "and sums up" grep -qx '3 messages: 2 read as reports, 1 not a report, 0 too large' "$T/out"
as operator subscriber show mb2@example.org >"$T/show" 2>&1
check "mb2 is bounced" grep -Eq '^status +bounced' "$T/show"
{
	echo "From someone@example.net Sun Nov 29 12:01:00 2026"
	printf 'Subject: hi\n\nHello.\n'
} >"$T/mbox2"
expect 65 "an mbox without a report" as marketer bounce read "$T/mbox2"
check "says no message in it is a report" grep -q "no message in it is a bounce or complaint report" "$T/err"

# Not a report; a viewer; the audit trail.
printf 'Subject: hi\n\nHello.\n' >"$T/plain"
expect 65 "a message that is not a report" as marketer bounce read "$T/plain"
check "is refused with a clear error" clear_error
expect 66 "a missing file" as marketer bounce read "$T/nope"
expect 66 "a directory" as marketer bounce read "$T"
check "is named one" grep -q 'is a directory, not a file' "$T/err"
expect 77 "a viewer is refused" as viewer bounce read "$T/dsn1"
as admin role add writer subscribers.read subscribers.write >/dev/null || not_ok "role writer"
printf 'writer-password-1\n' >"$T/pw.np"
as admin user add np --role writer --kdf interactive --new-password-file "$T/pw.np" >/dev/null ||
	not_ok "user np"
expect 77 "a user without pii is refused an mbox" as np bounce read "$T/mbox"
check "  before anything is read or said" test ! -s "$T/out"
as admin audit log >"$T/audit" 2>&1
check "the audit trail records bounce.read" grep -q 'bounce.read' "$T/audit"
check "without the address in clear" sh -c "! grep 'bounce.read' '$T/audit' | grep -q 'gone@\|angry@'"
check "no sanitizer report" sh -c "! grep -q 'Sanitizer\|runtime error' '$T/err'"
finish
