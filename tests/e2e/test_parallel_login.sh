#!/usr/bin/env bash
# Many login attempts at once with the wrong password: the delay after a
# failed login and the lock after 10 failures hold as they do one at a time.
# An attempt holds the keyslot file's lock from its check of the delay to the
# counting of its outcome, so attempts take turns and see the failures before
# them: the ones after a failure get the delay (exit 75). Right passwords
# given at once all log in.
# The checks count replies; none depends on how fast the machine is.
. "$(dirname "$0")/../lib.sh"
new_store || { not_ok "store set-up"; exit 1; }
printf 'wrong-password-1\n' >"$T/pw.wrong"
N=30

# race USER [PASSWORD-FILE]: N logins as USER at once, with the wrong password
# unless given; counts the replies.
# Each login reads its password from a pipe of its own, and waits there until
# all N have started: then the passwords are written, one after the other.
race() {
	local i
	rm -f "$T"/race.* "$T"/gate.*
	for i in $(seq 1 $N); do
		mkfifo "$T/gate.$i"
		("$HATO" --store "$STORE" --user "$1" --password-file "$T/gate.$i" role list \
			>/dev/null 2>"$T/race.$i.err"
		echo $? >"$T/race.$i.rc") &
	done
	for i in $(seq 1 $N); do
		timeout 60 sh -c "cat '${2:-$T/pw.wrong}' >'$T/gate.$i'"
	done
	wait
	checked=$(grep -l 'login failed: unknown user or wrong password' "$T"/race.*.err | wc -l)
	delayed=$(grep -l 'try again in' "$T"/race.*.err | wc -l)
	locked=$(grep -l "the account $1 is locked after" "$T"/race.*.err | wc -l)
	n75=$(grep -lx 75 "$T"/race.*.rc | wc -l)
	n77=$(grep -lx 77 "$T"/race.*.rc | wc -l)
	n0=$(grep -lx 0 "$T"/race.*.rc | wc -l)
	echo "# $1: $checked passwords checked, $delayed delayed, $locked locked"
}
# failures USER: the FAILURES column of `user list` ("3", or "LOCKED 10").
failures() {
	as admin user list | awk -v u="$1" '$1 == u { print ($4 == "LOCKED") ? $4 " " $5 : $4 }'
}

# ---- From no failures: one check at a time, the others wait ------------------
race viewer
check "each of the $N attempts got exit 77 or 75 ($n77 + $n75)" test $((n77 + n75)) = $N
check "at most 10 passwords were checked, not $N ($checked)" test "$checked" -le 10
check "the attempts made while a check ran got the delay ($delayed)" test "$delayed" -ge 1
check "each attempt was checked, delayed or told of the lock" \
	test $((checked + delayed + locked)) = $N
check "exit 75 is the delay, exit 77 the rest" test "$n75" = "$delayed"
check "user list counts each checked password once ($checked)" test "$(failures viewer)" = "$checked"
expect 0 "the right password, once the delay is over, logs in" \
	at "$(date -u -d '+1 day' '+%Y-%m-%d %H:%M:%S')" as viewer role list
check "and clears the count" test "$(failures viewer)" = 0

# ---- Right passwords at once: each waits its turn and logs in -------------------
race viewer "$T/pw.viewer"
check "all $N logins with the right password succeed at once ($n0)" test "$n0" = $N
check "and the count stays clear" test "$(failures viewer)" = 0

# ---- After 9 failures: one more check, then the lock ---------------------------
day=$(date -u -d '-2 day' '+%Y-%m-%d')
for i in 1 2 3 4 5 6 7 8 9; do
	at "$day 0$i:00:00" "$HATO" --store "$STORE" --user operator --password-file "$T/pw.wrong" \
		role list >/dev/null 2>&1
done
check "9 failures a while ago" test "$(failures operator)" = 9
race operator
check "exactly one more password was checked ($checked)" test "$checked" = 1
check "the others were delayed or found the account locked" test $((delayed + locked)) = $((N - 1))
check "the account is locked after 10 failures, not more" test "$(failures operator)" = "LOCKED 10"
expect 77 "the right password is refused" as operator role list
check "because the account is locked" grep -q 'locked after 10 failed logins' "$T/err"
expect 0 "an admin unlocks it" as admin user unlock operator
expect 0 "and the operator logs in" as operator role list
expect 0 "the failed logins reached the audit trail" as admin audit log --action login --user operator
check "one record for each checked password" \
	test "$(grep -c 'login	operator	failed	wrong password, at 20' "$T/out")" = 10
finish
