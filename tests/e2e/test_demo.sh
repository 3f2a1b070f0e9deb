#!/usr/bin/env bash
# make run's demo store: created on first use with printed passwords, and a
# newcomer can take its draft campaign to "sent" without any mail server.
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
D="$T/demo"
HATO_DEMO_DIR=$D bash "$SRC/tui/demo.sh" </dev/null >"$T/out" 2>"$T/err"
check "the demo store is created" test -f "$D/hato.db"
check "the passwords are printed once" grep -q '^  operator  ' "$T/out"
for u in admin marketer operator viewer; do
	sed -n "s/^  $u  *\\([^ ]*\\)\$/\\1/p" "$T/out" >"$T/pw.$u"
done
STORE="$D/hato.db"
check "the demo store does not keep the passwords" sh -c "! grep -rqF \"\$(cat '$T/pw.admin')\" '$D'"
expect 0 "the demo has English and Japanese lists" as viewer list ls
check "both lists" sh -c "grep -q english '$T/out' && grep -q japanese '$T/out'"
expect 0 "the marketer submits the draft" as marketer campaign submit welcome
expect 0 "the operator approves it" as operator campaign approve welcome
expect 0 "and sends it now" as operator campaign send welcome
expect 0 "a worker sends it through the file transport" as operator worker --once
expect 0 "status says sent" as operator campaign status welcome
check "state sent, six messages" sh -c "grep -q 'campaign welcome: sent' '$T/out' && grep -q 'sent 6' '$T/out'"
check "six .eml files are in the outbox" test "$(ls "$D/outbox" | grep -c '\.eml$')" = 6
HATO_DEMO_DIR=$D bash "$SRC/tui/demo.sh" </dev/null >"$T/out2" 2>&1
check "a second make run reuses the store and prints no password" sh -c "! grep -q 'operator  ' '$T/out2'"
finish
