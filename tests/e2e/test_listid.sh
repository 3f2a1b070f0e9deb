#!/usr/bin/env bash
# End to end: a list's id labels every message's List-Id header,
# <LIST.example.com>, which must be a dot-atom (RFC 2919, RFC 5322 3.2.3).
# `list add` refuses ids that would break it ("a..b", "a."), and a list so
# named in an older store still gets a valid List-Id: its empty labels are
# written '=' (a..b -> a.=b). Python's email parser reads the header back.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

new_store || { not_ok "store set-up"; exit 1; }
campaign_fixture || { not_ok "campaign set-up"; exit 1; }

for id in a..b a. x.y..z; do
	expect 65 "list add refuses the id $id" as marketer list add "$id"
	check "saying why ($id)" grep -q "^hato: a list ID may not hold \"..\" or end with '.'" "$T/err"
done
expect 0 "an id with single dots is fine" as marketer list add news.jp

# list_id_of LIST: the List-Id of the message rendered for bob on LIST, as
# Python's email package reads it, if it is a dot-atom in angle brackets.
list_id_of() {
	as marketer template render t --to bob@example.com --list "$1" >"$T/msg.eml" 2>"$T/err" &&
		"$PY" -c "
import email, email.policy, re, sys
m = email.message_from_binary_file(open('$T/msg.eml', 'rb'), policy=email.policy.default)
v = str(m['List-Id']).strip()
atext = r\"[A-Za-z0-9!#\$%&'*+/=?^_\`{|}~-]+\"
sys.exit(0 if re.fullmatch(r'<%s(\.%s)*>' % (atext, atext), v) and print(v) is None else 1)"
}
as marketer subscriber add bob@example.com --list news.jp >/dev/null
check "news.jp gives List-Id <news.jp.example.com>" test "$(list_id_of news.jp)" = "<news.jp.example.com>"

# Lists made before list add refused such ids, as an older store may hold them.
now=$(date +%s)
sql "INSERT INTO lists (id, name, description, created) VALUES ('a..b', 'a..b', '', $now), ('a.', 'a.', '', $now)"
for l in a..b a.; do as marketer subscriber add bob@example.com --list "$l" >/dev/null || not_ok "add bob to $l"; done
check "an old list a..b gets a valid List-Id, <a.=b.example.com>" test "$(list_id_of a..b)" = "<a.=b.example.com>"
check "an old list a. gets a valid List-Id, <a=.example.com>" test "$(list_id_of a.)" = "<a=.example.com>"
check "and the message still verifies with dkimpy" "$PY" "$SRC/tests/send/dkim_verify.py" "$T/msg.eml" "$T/records"
finish
