#!/usr/bin/env bash
# End-to-end tests of the foundation with the real binary: the encrypted
# store, logins, roles, the audit trail, settings and hostile input.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh" # sql

check "a new store is created with admin, marketer, operator and viewer" new_store
check "the store file is mode 0600" test "$(stat -c %a "$STORE")" = 600
check "the keyslot file is mode 0600" test "$(stat -c %a "$STORE.keys")" = 600
check "the store folder is mode 0700" test "$(stat -c %a "$(dirname "$STORE")")" = 700

expect 0 "--version works" "$HATO" --version
check "--version names hato" grep -q '^hato [0-9]' "$T/out"
expect 0 "--help lists commands" "$HATO" --help
check "--help shows the exit codes" grep -q '77 permission denied' "$T/out"
expect 0 "COMMAND --help shows the usage" "$HATO" user add --help
check "user add --help names --role" grep -q -- '--role ROLE' "$T/out"
expect 64 "hato with no command and no terminal says it needs one" as admin </dev/null
check "and says so in one clear line" clear_error

# ---- Encryption at rest ------------------------------------------------
canary="CanaryTaroYamada"
expect 0 "admin sets a plain setting" as admin config set sender.name "$canary"
printf 'SecretCanary-9f8e7d\n' >"$T/secret"
expect 0 "admin sets a secret from stdin" sh -c "\"$HATO\" --store \"$STORE\" --user admin --password-file \"$T/pw.admin\" config set smtp.password - < \"$T/secret\""
expect 0 "config get prints the plain setting" as admin config get sender.name
check "and it is the value set" grep -qx "$canary" "$T/out"
expect 0 "config get of a secret works" as admin config get smtp.password
check "but prints it masked" grep -qx '\*\*\*\*\*\*\*\*' "$T/out"
expect 0 "config list works" as admin config list
check "config list masks the secret" sh -c "grep -q 'smtp.password *\*\*\*\*\*\*\*\*' '$T/out' && ! grep -q SecretCanary '$T/out'"
expect 64 "a secret on the command line is refused" as admin config set smtp.password hunter2hunter2
expect 65 "an unknown setting is refused" as admin config set no.such.key 1
check "with a clear error" clear_error
for f in "$STORE" "$STORE.keys" "$STORE-wal"; do
	[ -f "$f" ] || continue
	check "$(basename "$f") holds no plaintext setting" sh -c "! grep -aq '$canary' '$f'"
	check "$(basename "$f") holds no plaintext secret" sh -c "! grep -aq 'SecretCanary' '$f'"
	check "$(basename "$f") holds no plaintext role name" sh -c "! grep -aq 'subscribers.export' '$f'"
done
expect 0 "the audit log works" as admin audit log
check "the audit trail never holds the secret" sh -c "! grep -q SecretCanary '$T/out'"
check "the audit trail records the secret change without its value" grep -q 'config.set.*smtp.password.*secret changed' "$T/out"
for tool in sqlite3 sqlcipher; do
	command -v $tool >/dev/null || continue
	check "$tool cannot read the store without the key" sh -c "! $tool '$STORE' 'SELECT * FROM sqlite_master' >'$T/out' 2>'$T/err'"
	check "$tool says it is not a database" grep -qi 'not a database\|encrypted' "$T/err"
done

# ---- Logins --------------------------------------------------------------
printf 'wrong-password-1\n' >"$T/pw.wrong"
# Both tries start their clocks at the same second: the delay (1 s, counted in
# whole seconds) is not over, however long the first took on a busy machine.
now=$(date -u '+%Y-%m-%d %H:%M:%S')
expect 77 "the wrong password gets exit 77" at "$now" "$HATO" --store "$STORE" --user viewer --password-file "$T/pw.wrong" role list
check "with a clear error" clear_error
check "and prints nothing from the store" test ! -s "$T/out"
expect 75 "right after a failure the next try is delayed" at "$now" as viewer role list
check "and the delay is explained" grep -q 'try again in' "$T/err"
# A failure while the clock was a day ahead: once it steps back, the delay
# still counts at most its own length (1 s here), not the day in between.
expect 77 "a failure while the clock is a day ahead" at "$(date -u -d '+1 day' '+%F %T')" "$HATO" --store "$STORE" --user marketer --password-file "$T/pw.wrong" role list
expect 75 "right after, with the clock back, the try is delayed" as marketer role list
check "by at most the delay of one failure" grep -q 'try again in [01] s' "$T/err"
sleep 2
expect 0 "and once it is over the right password logs in" as marketer role list
now=$(date -u '+%Y-%m-%d %H:%M:%S') # both at the same second, as above
expect 77 "an unknown user gets exit 77" at "$now" "$HATO" --store "$STORE" --user nobody --password-file "$T/pw.admin" role list
expect 75 "and right after, is delayed as a user is: the answers don't tell who exists" at "$now" "$HATO" --store "$STORE" --user nobody --password-file "$T/pw.admin" role list
check "with a user's words" grep -qx 'hato: login for nobody is delayed after 1 failed attempt; try again in [01] s' "$T/err"
expect 0 "admin reads the audit log" as admin audit log --action login
check "the failed login reached the audit trail" grep -q 'login	viewer	failed	wrong password, at 20' "$T/out"
check "the unknown user's attempt too" grep -q 'login	nobody	failed' "$T/out"

# Lockout: ten failures in a row, each after its delay (time moved by faketime).
day=$(date -u -d '+1 day' '+%Y-%m-%d')
for i in 1 2 3 4 5 6 7 8 9 10; do
	at "$day $(printf '%02d' "$i"):00:00" "$HATO" --store "$STORE" --user operator --password-file "$T/pw.wrong" role list >/dev/null 2>"$T/err"
done
expect 77 "after 10 failures the right password is refused" at "$day 12:00:00" "$HATO" --store "$STORE" --user operator --password-file "$T/pw.operator" role list
check "because the account is locked" grep -q 'locked after 10 failed logins' "$T/err"
expect 0 "user list shows the lock" as admin user list
check "as LOCKED" grep -q '^operator .*LOCKED 10' "$T/out"
expect 77 "a marketer cannot unlock" as marketer user unlock operator
expect 0 "an admin unlocks the account" as admin user unlock operator
# A refusal at the command line's gate is on record under the action's name,
# beside the unlock that went through: one filter finds both.
expect 0 "audit log --action user." as admin audit log --action user.
check "lists the marketer's refused unlock as user.unlock" grep -q $'\tmarketer ([^)]*)\tuser.unlock\t\tdenied\tneeds permission users$' "$T/out"
check "and the admin's unlock" grep -q $'\tadmin ([^)]*)\tuser.unlock\toperator\tok' "$T/out"
check "and no action named after the command" bash -c '! grep -q "hato user" "$1"' _ "$T/out"
expect 0 "the command's words find the same records" as admin audit log --action "hato user unlock"
check "the refusal among them" grep -q $'\tmarketer ([^)]*)\tuser.unlock\t\tdenied' "$T/out"
expect 0 "the operator logs in again" as operator role list

# ---- Password files --------------------------------------------------------
: >"$T/pw.empty"
expect 65 "an empty password file is refused" "$HATO" --store "$STORE" --user admin --password-file "$T/pw.empty" role list
check "with a clear error" clear_error
head -c 1048576 /dev/zero | tr '\0' 'a' >"$T/pw.big"
expect 65 "a 1 MB password file is refused" "$HATO" --store "$STORE" --user admin --password-file "$T/pw.big" role list
check "with a clear error" clear_error
printf 'admin-pass\0word-1\n' >"$T/pw.nul"
expect 65 "a password file with a NUL byte is refused" "$HATO" --store "$STORE" --user admin --password-file "$T/pw.nul" role list
check "with a clear error" clear_error
expect 66 "a missing password file gets exit 66" "$HATO" --store "$STORE" --user admin --password-file "$T/nope" role list
printf 'admin-password-1\n' >"$T/pw.loose"
chmod 644 "$T/pw.loose"
expect 0 "a password file others can read still logs in" "$HATO" --store "$STORE" --user admin --password-file "$T/pw.loose" role list
check "with a warning to chmod 600 it" grep -q "^hato: warning: other users can read the password file $T/pw.loose (chmod 600" "$T/err"
expect 0 "a password file only its owner can read" as admin role list
check "gets no warning" test ! -s "$T/err"
long=$(head -c 10240 /dev/zero | tr '\0' 'u')
expect 77 "a 10 KB user name is refused" "$HATO" --store "$STORE" --user "$long" --password-file "$T/pw.admin" role list
check "with a clear error" clear_error
expect 65 "a 10 KB new user name is refused" as admin user add "$long" --role viewer --new-password-file "$T/pw.viewer"
check "with a clear error" clear_error
printf 'short\n' >"$T/pw.short"
expect 65 "a password under 12 characters is refused" as admin user add shorty --role viewer --new-password-file "$T/pw.short"
printf 'samenameuser\n' >"$T/pw.same"
expect 65 "a password equal to the user name is refused" as admin user add samenameuser --role viewer --new-password-file "$T/pw.same"

# ---- Users -----------------------------------------------------------------
printf 'temp-password-1\n' >"$T/pw.temp"
expect 0 "admin adds a user" as admin user add temp --role viewer --kdf interactive --new-password-file "$T/pw.temp"
cp "$STORE.keys" "$T/keys.before"
printf 'temp-password-2\n' >"$T/pw.temp2"
expect 0 "a user changes the own password" as temp user passwd --new-password-file "$T/pw.temp2"
check "only that user's keyslot changed" bash -c "diff <(grep -v '^slot temp ' '$T/keys.before') <(grep -v '^slot temp ' '$STORE.keys') >/dev/null && ! diff -q '$T/keys.before' '$STORE.keys' >/dev/null"
expect 77 "the old password no longer opens the store" as temp role list
sleep 1.5 # the failed login above delays the next one by a second
cp "$T/pw.temp2" "$T/pw.temp"
expect 0 "the new one does" as temp role list
expect 0 "admin changes temp's role" as admin user role temp operator
expect 0 "admin disables temp" as admin user disable temp
check "temp's keyslot is gone" sh -c "! grep -q '^slot temp ' '$STORE.keys'"
expect 77 "temp can no longer log in" as temp role list
expect 65 "the last admin cannot be demoted" as admin user role admin viewer
expect 65 "an admin cannot disable the own account" as admin user disable admin

# A locked or disabled admin does not count as an admin left: they cannot log in.
for u in admin2 admin3 su; do printf '%s-password-1\n' "$u" >"$T/pw.$u"; done
expect 0 "admin adds admin2" as admin user add admin2 --role admin --kdf interactive --new-password-file "$T/pw.admin2"
expect 0 "and admin3" as admin user add admin3 --role admin --kdf interactive --new-password-file "$T/pw.admin3"
expect 0 "and disables admin3" as admin user disable admin3
expect 0 "admin adds a role holding every permission" as admin role add super $(as admin role list --perms | awk '{ print $1 }')
expect 0 "and su, who holds it" as admin user add su --role super --kdf interactive --new-password-file "$T/pw.su"
for i in 1 2 3 4 5 6 7 8 9 10; do
	at "$day $(printf '%02d' $((12 + i))):00:00" "$HATO" --store "$STORE" --user admin2 --password-file "$T/pw.wrong" role list >/dev/null 2>&1
done
expect 0 "user list" as admin user list
check "shows admin2 locked after 10 failures" grep -q '^admin2 .*LOCKED 10' "$T/out"
expect 65 "admin cannot give up the admin role while admin2 is locked" as admin user role admin viewer
check "because admin is the last admin who can log in" grep -q 'admin is the last admin who can log in' "$T/err"
expect 65 "a user holding every permission cannot disable admin either" as su user disable admin
check "for the same reason" grep -q 'admin is the last admin who can log in' "$T/err"
expect 65 "nor take the admin role away" as su user role admin viewer
expect 0 "admin is still an admin who can unlock admin2" as admin user unlock admin2
expect 0 "admin2 logs in" as admin2 role list
expect 0 "now that admin is not the last, su may take admin2's admin role away" as su user role admin2 viewer
# Two admins disabling each other at once leave one: each checks that an
# admin is left, and disables, under the store's write lock. The sqlcipher CLI
# holds that lock while both commands start, so that both have logged in and
# wait to write when it lets go: checked outside the lock, both went through.
R="$T/race/hato.db"
"$HATO" --store "$R" --password-file "$T/pw.admin" init --admin admin --kdf interactive >/dev/null
"$HATO" --store "$R" --user admin --password-file "$T/pw.admin" user add ad2 --role admin \
	--kdf interactive --new-password-file "$T/pw.admin2" >/dev/null
key=$(/usr/bin/python3 "$(dirname "$0")/campaigns.d/dbkey.py" "$R" admin "$T/pw.admin")
mkfifo "$T/lock"
sqlcipher -batch "$R" <"$T/lock" >"$T/lock.out" 2>&1 &
lockpid=$!
exec 7>"$T/lock"
printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_page_size = 8192;\nBEGIN IMMEDIATE;\nSELECT 1 FROM users;\n" "$key" >&7
sleep 0.5
"$HATO" --store "$R" --user admin --password-file "$T/pw.admin" user disable ad2 >"$T/o1" 2>&1 &
p1=$!
"$HATO" --store "$R" --user ad2 --password-file "$T/pw.admin2" user disable admin >"$T/o2" 2>&1 &
p2=$!
sleep 3
printf 'COMMIT;\n.quit\n' >&7
exec 7>&-
wait $p1; r1=$?; wait $p2; r2=$?; wait $lockpid
check "two admins disabling each other at once: one goes through" test "$r1$r2" = 065 -o "$r1$r2" = 650
check "  the other is refused: the last admin who can log in" grep -q 'is the last admin who can log in' "$T/o1" "$T/o2"
check "  one admin's slot is left" test "$(grep -c '^slot' "$R.keys")" = 1
expect 0 "admin creates a custom role" as admin role add auditor audit reports
expect 0 "role list shows it" as admin role list
check "with its permissions" grep -q '^auditor  *custom  *audit reports' "$T/out"
expect 65 "a custom role with an unknown permission is refused" as admin role add bad nosuchperm
expect 65 "a role named as another but for case is refused" as admin role add Auditor reports
check "saying names may not differ only in case" grep -qx 'hato: a role named auditor exists already; role names may not differ only in case' "$T/err"
expect 65 "so is a user" as admin user add MARKETER --role viewer --kdf interactive --new-password-file "$T/pw.admin2"
check "saying so" grep -qx 'hato: a user named marketer exists already; user names may not differ only in case' "$T/err"
check "and no slot was added" sh -c "! grep -q '^slot MARKETER ' '$STORE.keys'"
# A role held only by a disabled user can still be removed, as its advice says.
expect 0 "a role for one user" as admin role add tmp reports
printf 'tu-password-123\n' >"$T/pw.tu"
expect 0 "a user who holds it" as admin user add tu --role tmp --kdf interactive --new-password-file "$T/pw.tu"
expect 0 "is disabled" as admin user disable tu
expect 65 "the role can't be removed while the disabled user holds it" as admin role rm tmp
check "and the advice names the way out" grep -q 'hato user role NAME ROLE' "$T/err"
expect 0 "which works for a disabled user" as admin user role tu viewer
expect 0 "and then the role goes" as admin role rm tmp
expect 0 "the user stays disabled" as admin user list
check "with the new role" grep -q '^tu .*viewer.*disabled' "$T/out"
expect 77 "and can't log in" "$HATO" --store "$STORE" --user tu --password-file "$T/pw.tu" role list

# ---- Audit trail and key rotation -----------------------------------------------
expect 0 "audit verify passes on an untouched trail" as admin audit verify
check "and counts the records" grep -q 'whole: [0-9]* records' "$T/out"
expect 0 "audit log filters by user" as admin audit log --user temp
check "only temp's records" sh -c "! cut -f3 '$T/out' | grep -v '^temp ' | grep -q ."
expect 0 "the key is rotated" as admin key rotate
expect 0 "every user still logs in after rotation" sh -c "$(printf '"%s" --store "%s" --user %s --password-file "%s" role list >/dev/null && ' "$HATO" "$STORE" marketer "$T/pw.marketer" "$HATO" "$STORE" viewer "$T/pw.viewer") true"
expect 0 "the audit log records the rotation" as admin audit log --action key.rotate
check "with the number of slots" grep -q 'keyslots rewrapped' "$T/out"

# ---- Unsafe and damaged files ------------------------------------------------
chmod 666 "$STORE"
expect 78 "a store others can write to is refused" as admin role list
check "with the fix" grep -q 'chmod 600' "$T/err"
chmod 600 "$STORE"
chmod 777 "$(dirname "$STORE")"
expect 78 "a store folder others can write to is refused" as admin role list
check "saying who can write to it" grep -q "^hato: $(dirname "$STORE") can be written by its group and others; fix it with: chmod 700 " "$T/err"
chmod 770 "$(dirname "$STORE")"
expect 78 "so is one its group can write to" as admin role list
check "saying it is the group" grep -qx "hato: $(dirname "$STORE") can be written by its group; fix it with: chmod 700 $(dirname "$STORE")" "$T/err"
chmod 703 "$(dirname "$STORE")"
expect 78 "and one only others can write to" as admin role list
check "saying it is others" grep -qx "hato: $(dirname "$STORE") can be written by others; fix it with: chmod 700 $(dirname "$STORE")" "$T/err"
chmod 700 "$(dirname "$STORE")"
chmod 666 "$STORE.keys"
expect 78 "a keyslot file others can write to is refused" as admin role list
check "with the fix" grep -q "^hato: $STORE.keys can be written by its group and others; fix it with: chmod 600 $STORE.keys" "$T/err"
check "and its mode is left for the user to fix" test "$(stat -c %a "$STORE.keys")" = 666
chmod 620 "$STORE.keys"
expect 78 "so is one its group can write to" as admin role list
check "naming the group" grep -q "^hato: $STORE.keys can be written by its group; fix it with" "$T/err"
chmod 600 "$STORE.keys"
ln -s "$T/elsewhere" "$STORE-wal"
expect 78 "a symlink where the store's write-ahead log goes is refused" as admin role list
check "  naming it" grep -q "^hato: $STORE-wal is not a regular file$" "$T/err"
check "  and nothing is written where it points" test ! -e "$T/elsewhere"
rm "$STORE-wal"
cp -a "$(dirname "$STORE")" "$T/backup"
# restore: the store file from the backup, without the write-ahead log a
# refused command may have left (SQLite would apply it to the file put back).
restore() { cp "$T/backup/hato.db" "$STORE" && rm -f "$STORE-wal" "$STORE-shm"; }
head -c 100 "$T/backup/hato.db.keys" >"$STORE.keys"
expect 65 "a truncated keyslot file is refused" as admin role list
check "with a clear error" clear_error
head -c 3000 /dev/urandom >"$STORE.keys"
expect 65 "a garbage keyslot file is refused" as admin role list
check "with a clear error" clear_error
sed 's/$/\r/' "$T/backup/hato.db.keys" >"$STORE.keys"
expect 0 "a keyslot file edited by hand with CRLF line ends still opens" as admin role list
: >"$STORE.keys"
expect 65 "an empty keyslot file is refused" as admin role list
check "  saying it is empty" grep -q "^hato: the keyslot file $STORE.keys is empty; restore it from a backup$" "$T/err"
cp "$T/backup/hato.db.keys" "$STORE.keys"
truncate -s 5000 "$STORE"
expect 65 "a truncated store is refused" as admin audit verify
check "with a clear error" clear_error
check "that says what it may be and what to do" grep -q "^hato: the key in admin's slot does not open $STORE: the slot is older than the store's key (a key rotation since, or an old line of the keyslot file put back), or the store is damaged. If another user can log in, an admin can give admin a new slot with: hato user passwd admin; if nobody can, restore the store and its keyslot file from a backup$" "$T/err"
restore
expect 0 "put back, the store opens" as admin audit log --action login
check "  and the trail has the login whose slot did not open it" grep -q $'\tlogin\tadmin\tfailed\tthe password opened the slot, but its key does not open the store' "$T/out"
: >"$STORE"
expect 65 "an empty (0-byte) store is refused" as admin user list
check "with a clear error" grep -q "^hato: $STORE is damaged or does not match its keyslot file; restore both from a backup" "$T/err"
check "and nothing is written to it" test ! -s "$STORE"
for bytes in x 'SQLite format 3' "$(head -c 4000 /dev/zero | tr '\0' 'z')"; do
	printf '%s' "$bytes" >"$STORE"
	expect 65 "a store of ${#bytes} byte(s), shorter than a page, is refused" as admin user list
	check "  with the same error" grep -q "^hato: $STORE is damaged or does not match its keyslot file" "$T/err"
	check "  and no new store is written over it" test "$(wc -c <"$STORE")" = "${#bytes}"
done
restore
printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' | dd of="$STORE" bs=1 seek=6000 conv=notrunc 2>/dev/null
expect 65 "a corrupted store page is refused" as admin audit log
check "with a clear error" clear_error
restore
# A byte changed in the audit trail's root page, which every command reads.
root=$(sql "SELECT rootpage FROM sqlite_master WHERE name = 'audit'")
check "the audit table's root page is found (page $root)" test "$root" -gt 1
printf 'X' | dd of="$STORE" bs=1 seek=$(((root - 1) * 8192 + 1000)) conv=notrunc 2>/dev/null
expect 65 "a damaged page further in is refused as damage, not an error of hato's" as admin audit verify
check "  with a clear error" clear_error
check "  saying so" grep -q "the store is damaged: a page of it does not check out; restore it and its keyslot file from a backup" "$T/err"
rm -f "$STORE"
expect 66 "a missing store, its keyslot file still there, is missing input" as admin role list
check "saying to put it back from a backup (hato init would refuse)" grep -q 'put the store back from a backup' "$T/err"
mv "$STORE.keys" "$STORE.keys.away"
expect 66 "a store never made says how to create one" as admin role list
check "naming hato init" grep -q 'hato init' "$T/err"
mv "$STORE.keys.away" "$STORE.keys"
finish
