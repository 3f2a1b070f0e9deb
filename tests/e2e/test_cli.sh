#!/usr/bin/env bash
# End-to-end tests of the command line's contract with the real binary: exit
# codes, what is refused and why, and what reaches the terminal.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh" # sql: the store read with its data key

new_store || { not_ok "store set-up"; exit 1; }

# ---- A campaign that does not exist is missing input (66) for every command --
for cmd in "operator send nope" "operator approve nope" "operator reject nope --comment x" \
	"operator schedule nope --at 2026-12-01T09:00+09:00" "operator pause nope" \
	"operator resume nope" "operator cancel nope" "operator retry nope" \
	"operator status nope" "operator preview nope --to a@example.com" \
	"marketer test nope --to a@example.com" "marketer show nope" "marketer check nope" \
	"marketer submit nope" "marketer edit nope --subject S" "marketer copy nope other"; do
	set -- $cmd
	who=$1
	shift
	expect 66 "campaign $* exits 66" as "$who" campaign "$@"
	check "campaign $* says there is no such campaign" grep -qx 'hato: there is no campaign nope; see: hato campaign ls' "$T/err"
done

expect 66 "template check of a template that does not exist exits 66" as marketer template check nope
check "and says there is no such template" grep -q 'there is no template nope' "$T/err"

# ---- config set refuses an SMTP URL that holds a user or password ----------
url_msg='hato: smtp: the URL must not hold a user or password; use smtp.user and smtp.password'
for url in 'smtps://bob:UrlPassw0rd@mail.example.com:465' 'smtp://bob@mail.example.com:587' \
	'SMTPS://bob:UrlPassw0rd@mail.example.com'; do
	expect 65 "config set smtp.url $url is refused (65)" as admin config set smtp.url "$url"
	check "with the worker's words" grep -qx "$url_msg" "$T/err"
	check "and the password is not echoed" sh -c "! grep -q UrlPassw0rd '$T/err' '$T/out'"
done
expect 66 "nothing was stored" as admin config get smtp.url
expect 0 "config list works" as admin config list
check "config list holds no smtp.url" sh -c "! grep -q 'smtp.url' '$T/out'"
expect 0 "audit log works" as admin audit log
check "the audit trail holds no password from the URL" sh -c "! grep -q UrlPassw0rd '$T/out'"
expect 0 "a URL without a user is accepted" as admin config set smtp.url smtps://mail.example.com:465
expect 0 "a file: URL whose folder holds an @ is accepted" as admin config set smtp.url "file:$T/out@box"

# ---- An empty value on stdin is refused and the old value kept --------------
# set_from FILE KEY: hato config set KEY - as admin, with FILE on stdin.
set_from() { as admin config set "$2" - <"$1"; }
# stored KEY: the value in the store, read with the data key behind hato's back.
stored() { sql "SELECT value FROM config WHERE key = '$1'"; }
secret_changes() { as admin audit log --action config.set | grep -c 'smtp.password.*secret changed'; }
printf 'Keep-This-Secret-1\n' >"$T/secret"
expect 0 "a secret is set from stdin" set_from "$T/secret" smtp.password
check "and stored" test "$(stored smtp.password)" = Keep-This-Secret-1
changes=$(secret_changes)
printf 'Keep-This-Name\n' >"$T/name"
expect 0 "a plain setting is set from stdin" set_from "$T/name" sender.name
: >"$T/empty"
printf '\n' >"$T/newline"
printf '\r\n' >"$T/crlf"
for f in empty newline crlf; do
	for key in smtp.password sender.name; do
		expect 65 "$key from stdin holding $f is refused (65)" set_from "$T/$f" "$key"
		check "with \"no value on stdin\"" grep -q '^hato: no value on stdin' "$T/err"
	done
done
expect 65 "a missing file piped in is refused" sh -c "cat '$T/missing' 2>/dev/null | \"\$0\" \"\$@\"" \
	"$HATO" --store "$STORE" --user admin --password-file "$T/pw.admin" config set smtp.password -
check "the secret is kept" test "$(stored smtp.password)" = Keep-This-Secret-1
check "and no change of it was audited" test "$(secret_changes)" = "$changes"
expect 0 "config get of the plain setting works" as admin config get sender.name
check "and it is kept" grep -qx Keep-This-Name "$T/out"

# ---- config unset removes a setting, a mistaken secret too ------------------
expect 0 "config unset removes the secret" as admin config unset smtp.password
check "it is gone from the store" test -z "$(stored smtp.password)"
expect 66 "config get then says it is not set (66)" as admin config get smtp.password
expect 66 "unsetting what is not set is 66" as admin config unset smtp.password
check "saying so" grep -q 'smtp.password is not set' "$T/err"
expect 65 "an unknown key is refused" as admin config unset bogus.key
expect 0 "the removal is audited" as admin audit log --action config.unset
check "naming the key" grep -q 'config.unset.*smtp.password' "$T/out"
printf 'Keep-This-Secret-1\n' >"$T/secret"
expect 0 "the secret can be set again" set_from "$T/secret" smtp.password

# ---- config set KEY - on a terminal prompts and does not echo the value -----
ON_TTY="$PY $SRC/tests/e2e/cli.d/on_tty.py"
typed='Typed-Secret-42'
expect 0 "config set smtp.password - on a terminal works" $ON_TTY "$typed" "$typed" -- \
	"$HATO" --store "$STORE" --user admin --password-file "$T/pw.admin" config set smtp.password -
check "it prompts for the value on the terminal" grep -q 'Value of smtp.password: ' "$T/out"
check "and asks again to confirm it" grep -q 'Repeat the value: ' "$T/out"
check "the typed secret is not echoed" sh -c "! grep -q '$typed' '$T/out'"
check "the typed secret is stored" test "$(stored smtp.password)" = "$typed"
expect 65 "two different values typed are refused" $ON_TTY "$typed" "Other-Secret-43" -- \
	"$HATO" --store "$STORE" --user admin --password-file "$T/pw.admin" config set smtp.password -
check "saying they differ" grep -q 'the two values differ' "$T/out"
check "and the stored value is kept" test "$(stored smtp.password)" = "$typed"
expect 65 "an empty value typed is refused" $ON_TTY "" -- \
	"$HATO" --store "$STORE" --user admin --password-file "$T/pw.admin" config set smtp.password -
check "with \"no value\"" grep -q 'hato: no value' "$T/out"
check "and the stored value is kept" test "$(stored smtp.password)" = "$typed"

# ---- audit log --since takes dates and times, with their offsets ------------
# at TIME CMD...: runs CMD with the clock at TIME (UTC).
at() { local when=$1; shift; TZ=UTC FAKETIME="@$when" LD_PRELOAD=$FT "$@"; }
at "2030-05-01 03:30:00" as admin config set sender.contact early-record >/dev/null 2>&1
at "2030-05-01 04:30:00" as admin config set sender.contact late-record >/dev/null 2>&1
# since TZ T: which of the two records `audit log --since T` shows.
since() {
	TZ=$1 as admin audit log --action config.set --since "$2" >"$T/out" 2>"$T/err" || { echo "exit $?"; return; }
	echo $(grep -o '[a-z]*-record' "$T/out")
}
# TZ|T|the records shown|what it shows. POSIX TZ strings, so that no time-zone
# database is needed: JST-9 is UTC+9, XST4 is UTC-4.
while IFS='|' read -r tz t want what; do
	check "--since $t (TZ=$tz): $what" test "$(since "$tz" "$t")" = "$want"
done <<'ROWS'
UTC|2030-05-01T03:00Z|early-record late-record|the records were written at their times
UTC|2030-05-01T04:00Z|late-record|a time in UTC
UTC|2030-05-01T13:00+09:00|late-record|an offset is honoured
UTC|2030-05-01T12:00+0900|early-record late-record|an offset without a colon
UTC|2030-04-30T23:45-04:45|late-record|a negative offset
UTC|2030-05-01T04:30:00Z|late-record|seconds, and the bound is inclusive
UTC|2030-05-01T04:30:01Z||one second later
UTC|2030-05-01T04:00|late-record|a local time
JST-9|2030-05-01 13:00|late-record|a local time in another zone
UTC|2030-05-01|early-record late-record|a plain date
XST4|2030-05-01|late-record|a plain date is its local midnight
UTC|2030-05-02||the next day
ROWS
for bad in yesterday 1d 2030-05-01T13:00+09:00junk 2030-05-01T13:00+24:00 2030-13-01 "" 2030-05-01x \
	2030-02-30 2030-02-29T09:00Z 2030-04-31T09:00+09:00; do
	expect 64 "--since '$bad' is a usage error (64)" as admin audit log --since "$bad"
	check "that names the forms it takes" grep -q '^hato: --since takes a date such as 2026-11-29 or a time such as 2026-11-29T13:00+09:00' "$T/err"
	check "and lists nothing" test ! -s "$T/out"
done
expect 0 "hato --help works" "$HATO" --help
check "and says what --since takes" grep -q 'audit log.*--since.*2026-11-29' "$T/out"

# ---- No raw control, invalid or bidi-override character reaches the terminal -
csi_c1=$(printf 'A\xc2\x9b31mB')	# C1 CSI, U+009B
raw_9b=$(printf 'A\x9b31mB')	# 0x9B alone: not UTF-8
rlo=$(printf 'A\xe2\x80\xaeB')	# U+202E RIGHT-TO-LEFT OVERRIDE
lri=$(printf 'A\xe2\x81\xa6B')	# U+2066 LEFT-TO-RIGHT ISOLATE
esc=$(printf 'A\033[31mB')
tab=$(printf 'A\tB')
del=$(printf 'A\177B')
for v in "$csi_c1" "$raw_9b" "$rlo" "$lri" "$esc" "$tab" "$del"; do
	shown=$(printf '%s' "$v" | od -An -tx1 | tr -d ' \n')
	expect 65 "config set refuses a value holding bytes $shown" as admin config set sender.name "$v"
	check "with a clear error" clear_error
	check "that says what is wrong" grep -q 'control character\|not valid UTF-8\|bidirectional' "$T/err"
done
# What the store holds already (written behind hato's back, as an older hato
# or another tool could) comes back escaped, in listings and in errors.
sql "INSERT OR REPLACE INTO config (key, value) VALUES ('sender.name', CAST(X'41C29B33316D42E280AE1B5B33316D9B0A43' AS TEXT))"
n=$(sql "SELECT max(id) FROM audit")
sql "INSERT INTO audit (id, time, user, os_user, action, object, outcome, details, hash) VALUES ($((n + 1)), '2030-06-01T00:00:00Z', 'admin', CAST(X'E280AE' AS TEXT), 'config.set', 'sender.name', 'ok', CAST(X'3D201B5D303B7077640709C29B' AS TEXT), X'00')"
# clean FILE: no ESC, BEL, C1 control, lone 0x9B byte or U+202A..U+202E, U+2066..U+2069.
clean() { ! LC_ALL=C grep -qaP '[\x00-\x08\x0b-\x1f\x7f\x9b]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]' "$1"; }
expect 0 "config list works" as admin config list
check "config list shows no raw control or bidi character" clean "$T/out"
check "config list shows them escaped" grep -qxF 'sender.name              A\u009b31mB\u202e\x1b[31m\x9b\nC' "$T/out"
expect 0 "config get works" as admin config get sender.name
check "config get shows them escaped" grep -qxF 'A\u009b31mB\u202e\x1b[31m\x9b\nC' "$T/out"
check "and nothing raw" clean "$T/out"
expect 0 "audit log works" as admin audit log --since 2030-06-01
check "audit log shows no raw control or bidi character" clean "$T/out"
check "audit log shows them escaped, its tabs kept" grep -qxF "$(printf '%s\t' "$((n + 1))" 2030-06-01T00:00:00Z 'admin (\u202e)' config.set sender.name ok)"'= \x1b]0;pwd\x07\t\u009b' "$T/out"
for arg in "$(printf 'X\033]0;pwned\007')" "$csi_c1" "$raw_9b" "$rlo"; do
	shown=$(printf '%s' "$arg" | od -An -tx1 | tr -d ' \n')
	expect 66 "user role on a user named with bytes $shown fails" as admin user role "$arg" admin
	check "and the error shows no raw control or bidi character" clean "$T/err"
done
check "the error shows U+202E escaped" grep -qxF 'hato: there is no user A\u202eB' "$T/err"
expect 66 "an OSC title sequence in an argument" as admin user role "$(printf 'X\033]0;pwned\007')" admin
check "is shown as \\x1b...\\x07 in the error" grep -qxF 'hato: there is no user X\x1b]0;pwned\x07' "$T/err"
expect 65 "an unknown key with an escape" as admin config set "$(printf 'k\033[2J')" x
check "is shown escaped" grep -qF 'unknown setting k\x1b[2J' "$T/err"
expect 0 "user list works" as admin user list
check "and holds nothing raw" clean "$T/out"
printf 'Hello {{name}}\n' >"$T/t.md"
as marketer template add t "$T/t.md" >/dev/null && as marketer list add l >/dev/null
expect 0 "a campaign's subject may hold U+202E and a C1 control" as marketer campaign add c --template t --list l --subject "$(printf 'S\xe2\x80\xaeX\xc2\x9b')"
expect 0 "campaign show works" as marketer campaign show c
check "and shows them escaped" grep -qxF 'subject:   S\u202eX\u009b' "$T/out"
check "and nothing raw" clean "$T/out"
# An SMTP server's reply and a pause reason are anyone's words.
sql "INSERT INTO queue (campaign, subscriber, email, domain, state, reply, updated) SELECT id, 999, 'x@example.com', 'example.com', 4, CAST(X'35353020411B5D303B7807' AS TEXT), 1 FROM campaigns WHERE name = 'c'; UPDATE campaigns SET state = 'paused', pause_reason = CAST(X'421B5B324A' AS TEXT) WHERE name = 'c'"
expect 0 "campaign status works" as marketer campaign status c
check "and shows the server's reply escaped" grep -qF 'x@example.com  550 A\x1b]0;x\x07' "$T/out"
check "and the pause reason" grep -qxF '  paused: B\x1b[2J' "$T/out"
check "and nothing raw" clean "$T/out"

# ---- Messages that say what is wrong and what to do -------------------------
# Without a terminal (setsid: no controlling one) and without a password file.
expect 65 "user add with no new password and no terminal fails" setsid -w "$HATO" --store "$STORE" --user admin --password-file "$T/pw.admin" user add bob --role viewer </dev/null
check "naming --new-password-file" grep -qx 'hato: no new password given: use --new-password-file FILE, or run in a terminal' "$T/err"
expect 65 "user passwd likewise" setsid -w "$HATO" --store "$STORE" --user admin --password-file "$T/pw.admin" user passwd viewer </dev/null
check "naming --new-password-file" grep -q 'use --new-password-file FILE' "$T/err"
expect 77 "a login with no password and no terminal fails" setsid -w "$HATO" --store "$STORE" --user admin role list </dev/null
check "naming --password-file" grep -qx 'hato: no password given: use --password-file FILE or HATO_PASSWORD_FILE, or run in a terminal' "$T/err"
mkdir -p "$T/i" && chmod 700 "$T/i" && printf 'stale' >"$T/i/hato.db.keys"
expect 65 "init beside a stale keyslot file is refused" "$HATO" --store "$T/i/hato.db" --password-file "$T/pw.admin" init --admin a --kdf interactive
check "saying it is a keyslot file without its store" grep -qx "hato: $T/i/hato.db.keys is a keyslot file without its store $T/i/hato.db: move it away, or put the store back, before hato init" "$T/err"
check "and the keyslot file is left as it was" test "$(cat "$T/i/hato.db.keys")" = stale
expect 66 "a login to a store gone from beside its keyslot file" "$HATO" --store "$T/i/hato.db" --user a --password-file "$T/pw.admin" role list
check "says to put it back, not to make one" grep -qx "hato: there is no store at $T/i/hato.db, but its keyslot file $T/i/hato.db.keys is there: put the store back from a backup" "$T/err"
expect 65 "init where a store exists is refused" "$HATO" --store "$STORE" --password-file "$T/pw.admin" init --admin a --kdf interactive
check "saying a store exists" grep -q 'a store exists already' "$T/err"
expect 65 "config set of an unknown key is refused" as admin config set bogus.key x
check "and the message does not send to config list" sh -c "! grep -q 'config list' '$T/err'"
check "it lists the settings, pace.DOMAIN included" grep -q '^hato: unknown setting bogus.key; the settings are smtp.url, smtp.user, .*warmup.volume, audit.retention and pace.DOMAIN' "$T/err"
check "and names the man page" grep -q 'SETTINGS in hato(1)' "$T/err"
expect 66 "a password file that is a directory is refused" "$HATO" --store "$STORE" --user admin --password-file "$T/i" role list
check "saying it is a directory" grep -qx "hato: the password file $T/i is a directory, not a file" "$T/err"
# A password file that can't be opened is missing input (66), whichever option names it.
expect 66 "a missing --password-file" "$HATO" --store "$STORE" --user admin --password-file "$T/nope" role list
expect 66 "a missing HATO_PASSWORD_FILE" env HATO_PASSWORD_FILE="$T/nope" "$HATO" --store "$STORE" --user admin role list
expect 66 "a missing --new-password-file of user add" as admin user add zz --role viewer --new-password-file "$T/nope"
check "naming the file" grep -qx "hato: cannot read the password file $T/nope: No such file or directory" "$T/err"
expect 66 "a missing --new-password-file of user passwd" as admin user passwd viewer --new-password-file "$T/nope"
expect 66 "a missing --password-file of init" "$HATO" --store "$T/j/hato.db" --password-file "$T/nope" init --admin a --kdf interactive
check "which creates nothing" test ! -e "$T/j/hato.db"

# ---- Exit codes: every one the binary uses is documented ---------------------
# tui/exit.c is the one mapping; the literal EX_ codes used beside it count too.
root=$(cd "$(dirname "$0")/../.." && pwd)
codes=$(grep -ho 'EX_[A-Z]*' "$root"/tui/*.c | sort -u | python3 -c "import os,sys; print(' '.join(str(getattr(os, n)) for n in sys.stdin.read().split() if hasattr(os, n)))")
check "the binary uses exit codes ($codes)" test -n "$codes"
"$HATO" --help | sed -n '/^Exit codes/,$p' >"$T/help.codes"
for c in $codes; do
	check "hato(1) documents exit code $c" sh -c "sed -n '/^\.SH EXIT STATUS/,/^\.SH FILES/p' '$root/docs/hato.1' | grep -qw '$c'"
	check "and the README too" sh -c "grep -A6 '^Exit codes follow' '$root/README.md' | grep -qw '$c'"
	check "and hato --help too" grep -qw "$c" "$T/help.codes"
done
check "hato --help names 128 + N for a signal, as hato(1) does" grep -q '128 + N when signal N' "$T/help.codes"
finish
