#!/usr/bin/env bash
# End-to-end tests of the command line's contract with the real binary: exit
# codes, what is refused and why, and what reaches the terminal.
. "$(dirname "$0")/../lib.sh"

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

finish
