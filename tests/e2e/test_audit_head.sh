#!/usr/bin/env bash
# End to end: signed heads of the audit trail (audit sign, audit verify
# --head). Someone holding the data key rewrites the trail behind hato's
# back and writes its hash chain anew, with Python's BLAKE2b (not our code),
# so that plain `audit verify` passes; the head signed before, kept
# elsewhere, still shows the rewrite, and a cut.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

new_store || { not_ok "store set-up"; exit 1; }
as marketer list add news >/dev/null
expect 0 "audit sign" as admin audit sign
cp "$T/out" "$T/head"
check "prints a signed head: record, hash, time, signer, key, signature" \
	grep -Eq '^hato audit head 1
record [0-9]+
hash [0-9a-f]{64}
time [0-9TZ:-]{20}
signer admin
key [0-9a-f]{64}
signature [0-9a-f]{128}$' <(tr '\n' '\r' <"$T/head" | sed 's/\r/\n/g')
expect 0 "audit log --action audit.sign" as admin audit log --action audit.sign
check "  names the record signed" grep -Eq $'\taudit.sign\trecord [0-9]+\tok\tthe head signed$' "$T/out"
as marketer list add more >/dev/null
expect 0 "verify --head, records added since" as admin audit verify --head "$T/head"
check "  says the trail holds the head, unchanged" grep -q '^it holds the head admin signed on .*: record [0-9]*, unchanged$' "$T/out"
expect 77 "a viewer may not sign" as viewer audit sign
# A copy that went through mail or Windows: CRLF, or its last LF lost.
sed 's/$/\r/' "$T/head" >"$T/head.crlf"
expect 0 "a CRLF copy of the head verifies" as admin audit verify --head "$T/head.crlf"
head -c -1 "$T/head" >"$T/head.nolf"
expect 0 "so does one without its last line end" as admin audit verify --head "$T/head.nolf"
mkdir "$T/afolder"
expect 66 "a folder given as the head can't be read" as admin audit verify --head "$T/afolder"
# An admin's reset of the signer's password gives them a new key: said, not failed.
printf 'admin2-password-1\n' >"$T/pw.admin2"
as admin user add admin2 --role admin --kdf interactive --new-password-file "$T/pw.admin2" >/dev/null
"$HATO" --store "$STORE" --user admin2 --password-file "$T/pw.admin2" audit sign >"$T/head2"
printf 'admin2-password-2\n' >"$T/pw.admin2b"
as admin user passwd admin2 --kdf interactive --new-password-file "$T/pw.admin2b" >/dev/null || not_ok "reset admin2"
expect 0 "a head signed before its signer's password was reset verifies" as admin audit verify --head "$T/head2"
check "  with a note that the key is not the signer's now" grep -q "^note: the head's key is not admin2's key in this store now" "$T/out"

# A head changed by hand, or not one at all.
sed 's/^record \([0-9]*\)/record 1\1/' "$T/head" >"$T/bad"
expect 65 "a head with another record number" as admin audit verify --head "$T/bad"
check "  does not verify" grep -q 'signature does not verify' "$T/err"
printf 'hello\n' >"$T/notahead"
expect 65 "a file that is no head" as admin audit verify --head "$T/notahead"
check "  says so" grep -q 'not a signed head' "$T/err"
expect 66 "a missing head file" as admin audit verify --head "$T/nope"

# rechain: records from 1 get their chain hashes written anew, as hato
# writes them: BLAKE2b-256 over the previous hash and each field, length
# first (8 bytes, little-endian).
rechain() {
	sql "SELECT id, quote(time), quote(user), quote(os_user), quote(action), quote(object), quote(outcome), quote(details) FROM audit ORDER BY id" >"$T/rows"
	"$PY" - "$T/rows" >"$T/rechain.sql" <<'PY'
import hashlib, sys
def unq(v):
    if v == "NULL":
        return b""
    assert v[0] == "'" and v[-1] == "'"
    return v[1:-1].replace("''", "'").encode()
prev = bytes(32)
for line in open(sys.argv[1], encoding="utf-8"):
    f = line.rstrip("\n").split("|")
    fields = [f[0].encode()] + [unq(x) for x in f[1:]]
    h = hashlib.blake2b(digest_size=32)
    h.update(prev)
    for x in fields:
        h.update(len(x).to_bytes(8, "little"))
        h.update(x)
    prev = h.digest()
    print("UPDATE audit SET hash = x'%s' WHERE id = %s;" % (prev.hex(), f[0]))
PY
	sql "$(cat "$T/rechain.sql")"
}
sql "UPDATE audit SET details = 'nothing happened here' WHERE id = 3"
expect 65 "a record changed: plain verify finds the break" as admin audit verify
rechain
expect 0 "the chain written anew: plain verify passes" as admin audit verify
expect 65 "but verify --head does not" as admin audit verify --head "$T/head"
check "  saying the trail was rewritten up to the record signed" grep -q 'is not the one admin signed on .*: the trail was rewritten, or cut and written on, up to it' "$T/err"
n=$(sed -n 's/^record //p' "$T/head")
sql "DELETE FROM audit WHERE id >= $n"
rechain
expect 0 "records cut off the end: plain verify passes" as admin audit verify
expect 65 "but verify --head does not" as admin audit verify --head "$T/head"
# The login of the check itself writes a record where the cut ones were.
check "  as the record signed is not there as it was" grep -q "record $n is not the one admin signed on" "$T/err"
finish
