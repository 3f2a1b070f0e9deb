#!/usr/bin/env bash
# End to end: a store whose folder can't be written. Failed logins are
# counted in the keyslot file, written anew beside itself: there, a wrong
# password would go uncounted (no delay, no lock), so hato checks no password
# at all and says why (74). Made writable again, the count and the lock work
# as ever. Runs as the user nobody (root can write any folder), so it needs
# root, as CI runs it. A store file that can't be written says why.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "# skipped: needs root and setpriv to run hato as nobody"
	finish
fi
D=$(mktemp -d /tmp/hato-unwritable-XXXXXX)
on_exit 'rm -rf "$D"'
chmod 755 "$D"
cp "$HATO" "$D/hato"
printf 'a-long-password-1\n' >"$D/pw"
printf 'not-the-password-1\n' >"$D/bad"
chmod 600 "$D/pw" "$D/bad"
chown -R nobody "$D"
# nobody HATO-ARGS...: hato as nobody, on the store in $D/s.
nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$D" \
		"$D/hato" --store "$D/s/hato.db" "$@"
}
setpriv --reuid=nobody --regid=nogroup --clear-groups mkdir -m 700 "$D/s"
expect 0 "nobody makes a store" nobody --password-file "$D/pw" init --admin alice --kdf interactive
expect 0 "  and logs in" nobody --user alice --password-file "$D/pw" user list

chmod 500 "$D/s"
for i in 1 2 3; do
	expect 74 "in a folder that can't be written, wrong password $i is not checked" \
		nobody --user alice --password-file "$D/bad" user list
done
check "  saying why" grep -q "^hato: cannot count failed logins in $D/s/hato.db.keys (Permission denied): hato checks a password only where a wrong one is counted$" "$T/err"
expect 74 "  nor is the right one" nobody --user alice --password-file "$D/pw" user list

chmod 700 "$D/s"
expect 77 "writable again, a wrong password is checked" nobody --user alice --password-file "$D/bad" user list
expect 75 "  and counted: the next try waits" nobody --user alice --password-file "$D/bad" user list

sleep 1.2 # the delay after one failure is 1 s
expect 0 "the right password logs in, and clears the count" nobody --user alice --password-file "$D/pw" user list
chmod 400 "$D/s/hato.db"
expect 74 "a store file that can't be written is an input/output error" nobody --user alice --password-file "$D/pw" user list
check "  naming the reason" grep -Eq "^hato: .*$D/s/hato.db.*(\(Permission denied\)|readonly database)$" "$T/err"
finish
