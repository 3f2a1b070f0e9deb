#!/usr/bin/env bash
# Every command, run by every built-in role: each role does what its
# permissions allow and gets exit 77 for the rest. The expectations below are
# this test's own table, written from the issue, not read from hato.
. "$(dirname "$0")/../lib.sh"
new_store || { not_ok "store set-up"; exit 1; }

declare -A perms=(
	[admin]="users roles settings keys audit reports campaigns.read"
	[marketer]="reports subscribers.read subscribers.write subscribers.export subscribers.erase pii lists segments templates campaigns.read campaigns.edit"
	[operator]="reports subscribers.read pii campaigns.read campaigns.approve campaigns.send"
	[viewer]="reports subscribers.read campaigns.read"
)
# command words | permission needed ("-": any user) | arguments that succeed (ROLE is replaced)
matrix=(
	"user list|users|"
	"user add|users|u_ROLE --role viewer --kdf interactive --new-password-file PWFILE"
	"user role|users|u_ROLE operator"
	"user unlock|users|u_ROLE"
	"user disable|users|u_ROLE"
	"user passwd|-|--new-password-file SELFPW"
	"role list|-|"
	"role add|roles|r_ROLE reports"
	"key rotate|keys|"
	"audit log|audit|"
	"audit verify|audit|"
	"audit sign|audit|"
	"config set|settings|sender.name Hato"
	"config unset|settings?|feedback.id"
	"config get|settings|sender.name"
	"config list|settings|"
)
# Extra rows from later issues live in tests/e2e/roles.d/*.rows, same format.
for f in "$(dirname "$0")"/roles.d/*.rows; do
	[ -f "$f" ] || continue
	while IFS= read -r line; do
		[ -n "$line" ] && [ "${line#\#}" = "$line" ] && matrix+=("$line")
	done <"$f"
done
printf 'new-user-password-1\n' >"$T/pw.new"
setup="$(dirname "$0")/roles.d/setup.sh"
[ -f "$setup" ] && . "$setup"

covered="|"
for role in admin marketer operator viewer; do
	for row in "${matrix[@]}"; do
		IFS='|' read -r words perm args <<<"$row"
		covered+="$words|"
		args=${args//ROLE/$role}
		args=${args//PWFILE/$T/pw.new}
		args=${args//SELFPW/$T/pw.$role}
		args=${args//IMPORTCSV/$T/import.csv}
		args=${args//TMPDIR/$T}
		loose=""
		if [ "${perm%\?}" != "$perm" ]; then loose=1; perm=${perm%\?}; fi
		if [ "$perm" = - ] || [[ " ${perms[$role]} " == *" $perm "* ]]; then
			if [ -n "$loose" ]; then
				# shellcheck disable=SC2086
				as "$role" $words $args >"$T/out" 2>"$T/err"
				check "$role may run hato $words (not refused)" test $? -ne 77
				continue
			fi
			# shellcheck disable=SC2086
			expect 0 "$role may run hato $words" as "$role" $words $args
		else
			# shellcheck disable=SC2086
			expect 77 "$role gets 77 for hato $words" as "$role" $words $args
			check "and is told which permission is missing" grep -q "needs the permission \"$perm\"" "$T/err"
			check "naming the command as typed, hato once" grep -q "^hato: $words is not allowed for $role (role $role)" "$T/err"
		fi
	done
done

# Every command that hato lists must be in the matrix.
"$HATO" --help | sed -n 's/^  hato \([a-z]*\) \([a-z]*\).*/\1 \2/p' | sort -u >"$T/listed"
missing=""
while read -r a b; do
	key="$a${b:+ $b}"
	if [[ "$covered" != *"|$key|"* ]] && [ "$a" != init ]; then
		missing+=" [$key]"
	fi
done <"$T/listed"
check "every listed command is in the matrix (missing:${missing:- none})" test -z "$missing"
finish
