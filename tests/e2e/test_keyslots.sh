#!/usr/bin/env bash
# End to end: the keyslot file is not trusted beyond what the encrypted store
# vouches for. Key rotation reseals the data key only to active users' slots;
# a change of one's own password touches only the keyslot file, so that a
# failure halfway leaves the old password working; lines someone adds to the
# keyslot file never become trusted audit records.
. "$(dirname "$0")/../lib.sh"

check "a new store" new_store
slot_of() { grep "^slot $1 " "$STORE.keys"; }
printf 'mallory-password-1\n' >"$T/pw.mallory"

# ---- Rotation: a disabled user's slot put back opens nothing new ------------
as admin user add mallory --role viewer --kdf interactive --new-password-file "$T/pw.mallory" >/dev/null
slot_of mallory >"$T/mallory.slot"
expect 0 "mallory is disabled" as admin user disable mallory
check "her slot left the keyslot file" sh -c "! grep -q '^slot mallory ' '$STORE.keys'"
cat "$T/mallory.slot" >>"$STORE.keys"
expect 77 "her slot put back opens the data key, but she is disabled" as mallory role list
check "saying so" grep -qx 'hato: the account mallory is disabled' "$T/err"
expect 0 "the audit log" as admin audit log --action login
check "has the attempt, denied" grep -q 'mallory.*login.*mallory.*denied.*disabled, yet its keyslot opened' "$T/out"
# A slot under a name the store doesn't know, and one that replaces an active
# user's slot with a key of someone else's: both with keys mallory holds.
sed 's/^slot mallory /slot eve /' "$T/mallory.slot" >>"$STORE.keys"
sed 's/^slot mallory /slot viewer /' "$T/mallory.slot" >"$T/viewer.slot"
grep -v '^slot viewer ' "$STORE.keys" >"$T/keys" && cat "$T/keys" "$T/viewer.slot" >"$STORE.keys"
expect 0 "the admin rotates the data key" as admin key rotate
check "saying three slots were dropped" grep -q 'dropped 3 keyslots of no active user' "$T/out"
check "the keyslot file holds the slots of admin, marketer and operator" \
	test "$(grep '^slot ' "$STORE.keys" | cut -d' ' -f2 | sort | tr '\n' ' ')" = "admin marketer operator "
expect 0 "the audit log" as admin audit log --action key.rotate
check "records 3 rewrapped and 3 dropped" grep -q '3 keyslots rewrapped; 3 dropped' "$T/out"
cat "$T/mallory.slot" >>"$STORE.keys"
expect 65 "mallory's old slot, put back after the rotation, does not open the store" \
	as mallory role list
check "it never reached the users table (that would say disabled)" \
	sh -c "! grep -q disabled '$T/err'"
grep -v '^slot mallory ' "$STORE.keys" >"$T/keys" && cat "$T/keys" >"$STORE.keys"
expect 0 "the admin gives the viewer a new slot" \
	as admin user passwd viewer --new-password-file "$T/pw.viewer"
expect 0 "and the viewer logs in" as viewer role list

# ---- One's own password: only the keyslot file changes -----------------------
cp "$STORE.keys" "$T/keys.before"
printf 'operator-password-2\n' >"$T/pw.op2"
expect 0 "the operator changes their own password" \
	as operator user passwd --new-password-file "$T/pw.op2"
expect 77 "the old password no longer logs in" as operator role list
sleep 1.1 # the delay after a failed login
cp "$T/pw.op2" "$T/pw.operator"
expect 0 "the new one does, signing key and all" as operator role list
# As if the keyslot file had not been written (disk full, a crash).
cat "$T/keys.before" >"$STORE.keys"
printf 'operator-password-1\n' >"$T/pw.operator"
expect 0 "with the keyslot file as before, the old password still works" as operator role list

# ---- A reset whose keyslot file was lost: the admin resets again -------------
cp "$STORE.keys" "$T/keys.before"
printf 'viewer-password-2\n' >"$T/pw.v2"
expect 0 "the admin resets the viewer's password" \
	as admin user passwd viewer --new-password-file "$T/pw.v2"
cat "$T/keys.before" >"$STORE.keys"
expect 65 "the old slot with the new signing key: a clear error" as viewer role list
check "saying an admin can reset the password" \
	grep -q 'signing key of viewer does not open with its keyslot; an admin can reset' "$T/err"
expect 0 "  which is on record" as admin audit log --action login --user viewer
check "  as a denied login" grep -q $'\tlogin\tviewer\tdenied\tthe keyslot opened, but not the signing key: a slot older than the last password reset$' "$T/out"
expect 0 "the admin resets it again" as admin user passwd viewer --new-password-file "$T/pw.v2"
cp "$T/pw.v2" "$T/pw.viewer"
expect 0 "and the viewer logs in" as viewer role list

# ---- Lines added to the keyslot file are not trusted audit records -----------
echo 'pending 2025-01-01T03:00:00Z operator laptop exported-every-list' >>"$STORE.keys"
echo 'pending 2025-01-01T03:05:00Z viewer ceo ok-while-store-busy' >>"$STORE.keys"
echo 'pending 2025-01-01T03:06:00Z viewer ceo ok-while-store-busy:00112233445566778899aabbccddeeff' >>"$STORE.keys"
echo 'pending 2025-01-01T03:07:00Z marketer ceo wrong-password' >>"$STORE.keys"
expect 0 "a login moves the pending lines into the audit trail" as marketer role list
expect 0 "the audit log" as admin audit log --since 2020-01-01
check "no record is dated 2025" sh -c "! grep -q $'\t2025-01-01' '$T/out'"
check "the made-up lines are said to be not hato's" \
	test "$(grep -c 'a line of the keyslot file that hato did not write' "$T/out")" = 3
check "none of them is a successful login" sh -c "! grep 'did not write' '$T/out' | grep -q $'\tok\t'"
check "a failed login keeps its claimed time in its details" \
	grep -q 'login.*marketer.*failed.*wrong password, at 2025-01-01T03:07:00Z' "$T/out"
expect 0 "audit verify" as admin audit verify
check "finds the trail whole" grep -q 'whole' "$T/out"

# ---- The only admin locked: unlocked by hand, as SECURITY.md says ------------
# (the last three fields of the slot line: failures, last failure, lock)
setfields() {
	/usr/bin/python3 -c 'import sys
p, who, vals = sys.argv[1], sys.argv[2], sys.argv[3].split()
ls = open(p).read().splitlines()
ls = [" ".join(l.split(" ")[:-3] + vals) if l.startswith("slot %s " % who) else l for l in ls]
open(p, "w").write("\n".join(ls) + "\n")' "$STORE.keys" "$1" "$2"
}
setfields admin "10 1700000000 1"
expect 77 "a locked admin can't log in" as admin audit verify
check "being locked" grep -q 'the account admin is locked' "$T/err"
setfields admin "0 0 0"
expect 0 "with the fields set to 0 0 0, the admin logs in" as admin audit verify

# ---- A rotation that fails changes nothing -----------------------------------
# The store is written anew under the new key beside the old one, and put in
# its place only once whole. A page of people's rows damaged on the disk
# stops the rotation half way: the store and its keyslot file stay as they
# were, and every user still logs in with the old key.
as marketer list add big >/dev/null
/usr/bin/python3 -c 'import sys
print("email,name")
for i in range(3000): print("p%d@example.com,%s" % (i, "n" * 200))' >"$T/big.csv"
as marketer import big "$T/big.csv" >/dev/null || not_ok "setup: import"
as admin audit verify >/dev/null # its last login, then the WAL folded into the file
size=$(stat -c %s "$STORE")
/usr/bin/python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2]) // 8192 // 2 * 8192 + 100)
b = f.read(1); f.seek(-1, 1); f.write(bytes([b[0] ^ 1]))' "$STORE" "$size"
cp "$STORE.keys" "$T/keys.before"
expect 65 "a rotation over a damaged page fails, as damage (65)" as admin key rotate
check "saying what, and that the store is unchanged" \
	grep -q 'writing the store under the new key (the store is unchanged): the store is damaged: database disk image is malformed' "$T/err"
check "the keyslot file is as it was" cmp -s "$STORE.keys" "$T/keys.before"
check "nothing is left beside the store" sh -c "! ls '$STORE'.rotate* '$STORE'.keys.rotate 2>/dev/null"
expect 0 "every user still logs in: the admin" as admin audit verify
check "and the trail is whole" grep -q 'whole' "$T/out"
expect 0 "the marketer" as marketer role list
expect 0 "the viewer" as viewer role list

finish
