#!/usr/bin/env bash
# End to end: the audit trail's retention (audit.retention). Records written
# in January 2025, the clock moved with libfaketime, are removed by the first
# login more than the retention later, all but the last, kept blanked as the
# chain's anchor; `audit verify` still passes and an audit.prune record
# counts them. What features read from those records outlives them: an
# erased person stays on the suppression list, a rejected campaign still
# says who rejected it. A record blanked as an anchor after the first breaks
# the chain; a head signed before the pruning is said to be pruned. Unset,
# the retention keeps every record.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/campaigns.d/lib.sh"

# lacks PATTERN FILE: FILE has no line that matches.
lacks() { ! grep -q "$1" "$2"; }

OLD="2025-01-10 10:00:00" RECENT="2025-12-01 10:00:00" LATER="2026-02-01 10:00:00"

at "$OLD" new_store || { not_ok "store set-up"; exit 1; }
at "$OLD" campaign_fixture || { not_ok "campaign set-up"; exit 1; }
for a in gone@example.com stays@example.com; do
	at "$OLD" as marketer subscriber add "$a" --list m >/dev/null || not_ok "subscriber add $a"
done
expect 0 "an erasure in January 2025" at "$OLD" as marketer subscriber erase gone@example.com
at "$OLD" as marketer campaign add c1 --template t --list m --subject "Hello" >/dev/null &&
	at "$OLD" as marketer campaign submit c1 >/dev/null || not_ok "campaign add and submit"
expect 0 "a rejection in January 2025" at "$OLD" as operator campaign reject c1 --comment "fix the subject"
at "$OLD" as admin audit sign >"$T/head.old" || not_ok "audit sign"

expect 65 "a retention of 89 days is refused" at "$OLD" as admin config set audit.retention 89
check "  saying it must be 90 days or more, and why" grep -q '^hato: audit.retention must be 90 days or more, not 89: the audit trail backs rate limits, approvals and who did what$' "$T/err"
expect 65 "so is 30d" at "$OLD" as admin config set audit.retention 30d
expect 65 "and a value that is no number of days" at "$OLD" as admin config set audit.retention "a year"
check "  saying what it takes" grep -q '^hato: audit.retention takes a number of days, 90 to 36500 (365 or 365d)$' "$T/err"
expect 77 "a marketer may not set it" at "$OLD" as marketer config set audit.retention 365
printf 'settings-password-1\n' >"$T/pw.cfg"
at "$OLD" as admin role add cfg settings >/dev/null && at "$OLD" as admin user add cfg --role cfg --kdf interactive --new-password-file "$T/pw.cfg" >/dev/null || not_ok "a role with the settings permission alone"
expect 0 "a user with the settings permission alone sets other settings" at "$OLD" as cfg config set feedback.id "a:b:c"
expect 77 "  but not the retention, which needs the audit permission too" at "$OLD" as cfg config set audit.retention 365
check "  saying so" grep -q 'audit' "$T/err"
expect 0 "an admin sets a retention of 365 days" at "$OLD" as admin config set audit.retention 365d
expect 0 "  audited as config.set" at "$OLD" as admin audit log --action config.set
check "  with its value" grep -q $'\tconfig.set\taudit.retention\tok\t= 365d$' "$T/out"

# In December 2025 nothing is older than 365 days yet.
expect 0 "a record in December 2025" at "$RECENT" as marketer list add recent
at "$RECENT" as admin audit log >"$T/before"
n=$(grep -c $'^[0-9]*\t2025-01-10T' "$T/before")
last=$(grep $'^[0-9]*\t2025-01-10T' "$T/before" | tail -1 | cut -f1)
check "nothing is removed within the retention ($n records of January)" test "$n" -gt 20
check "  and no audit.prune record written" lacks $'\taudit.prune\t' "$T/before"
check "  the erasure is on record" grep -q $'\tsubscriber.erase\t[0-9a-f]*\tok\t' "$T/before"
check "  and the rejection" grep -q $'\tcampaign.reject\tc1\tok\t' "$T/before"
at "$RECENT" as admin audit sign >"$T/head.recent" || not_ok "audit sign"

# February 2026: the January records are more than 365 days old.
expect 0 "the first login in February 2026 prunes" at "$LATER" as admin audit log
check "  the January records are gone but the anchor" test "$(grep -c $'^[0-9]*\t2025-01-10T' "$T/out")" = 1
check "  the anchor is the last of them, blanked" grep -q "^$last"$'\t2025-01-10T10:00:[0-9]*Z\t\taudit.pruned\t\tpruned\tthe records up to this one were removed by the retention' "$T/out"
check "  it comes first" test "$(head -1 "$T/out" | cut -f1)" = "$last"
check "  the December record stays" grep -q $'\tlist.add\trecent\tok\t$' "$T/out"
check "  an audit.prune record counts them and names the anchor" grep -q $'\taudit.prune\trecord '"$last"$'\tok\t'"$n"' records removed by the retention of 365 days (audit.retention), up to record '"$last"', which is kept blanked for its hash' "$T/out"
check "  the erasure and the rejection records among them" lacks $'\tsubscriber.erase\t\|\tcampaign.reject\t' "$T/out"
expect 0 "audit verify passes" at "$LATER" as admin audit verify
check "  saying what the retention removed" grep -q "^the records up to $last were removed by the retention of 365 days (the last pruning, on 2026-02-01T10:00:[0-9]*Z, removed $n); the chain goes on from record $last's hash, which is kept$" "$T/out"

# The terminal UI's verify says so too, in a real terminal (tmux).
. "$(dirname "$0")/../tui/tmux.sh"
SOCK="retention-$$-$RANDOM"
on_exit 'tmux -L "$SOCK" kill-server 2>/dev/null'
tm new-session -d -s a -x 120 -y 40 "env LC_ALL=C.UTF-8 TERM=xterm-256color FAKETIME='@$LATER' LD_PRELOAD='$FT' '$HATO' --store '$STORE' --user admin; sleep 60"
check "the terminal UI asks for the password" wait_for a "Password"
tm send-keys -t a "admin-password-1" Enter
check "  opens the audit trail" open_menu a Audit
check "  which shows the anchor first" wait_for a "audit.pruned"
tm send-keys -t a End
check "  selected, the anchor is shown with no user and no object" wait_for a "Z: audit.pruned pruned"
check "  its details alone below" bash -c "tmux -L $SOCK capture-pane -p -t a | grep -q '^  the records up to this one were removed by the retention'"
tm send-keys -t a v
check "  and its verify names the record the chain goes on from" wait_for a "the audit chain is intact from record $last on: "
check "  and the retention" wait_for a "(365-day retention)"
tm kill-session -t a

expect 0 "the next login removes nothing more" at "$LATER" as admin audit log --action audit.prune
check "  one audit.prune record" test "$(wc -l <"$T/out")" = 1

# What features read from the pruned records holds.
expect 65 "the erased person's suppression entry still can't be removed" at "$LATER" as marketer suppress rm gone@example.com
check "  saying the address was erased" grep -q 'was erased at the person.s request' "$T/err"
expect 65 "nor can they be added again" at "$LATER" as marketer subscriber add gone@example.com --list m
expect 0 "the rejected campaign" at "$LATER" as marketer campaign show c1
check "  still says who rejected it, when and why" grep -q '^rejected: *by operator on 2025-01-10T10:00:[0-9]*Z: fix the subject$' "$T/out"

# Signed heads: one signed before the pruning, whose record it removed, and one since.
expect 0 "verify --head of a head the retention removed" at "$LATER" as admin audit verify --head "$T/head.old"
check "  says so, and that the rest verifies" grep -q "^note: record [0-9]*, which admin signed on 2025-01-10T10:00:[0-9]*Z, was removed by the retention of 365 days (the pruning on 2026-02-01T10:00:[0-9]*Z removed what was written before 2025-02-01T10:00:[0-9]*Z); the remaining chain verifies" "$T/out"
expect 0 "verify --head of a head signed since" at "$LATER" as admin audit verify --head "$T/head.recent"
check "  holds it, unchanged" grep -q '^it holds the head admin signed on 2025-12-01T10:00:[0-9]*Z: record [0-9]*, unchanged$' "$T/out"

# Unset, the retention keeps everything, however old.
expect 0 "the retention unset" at "$LATER" as admin config unset audit.retention
expect 0 "a login two years later" at "2028-01-01 10:00:00" as admin audit log --action list.add
check "  keeps the December 2025 record" grep -q $'\tlist.add\trecent\tok\t$' "$T/out"
check "  and prunes nothing more" test "$(at "2028-01-01 10:00:00" as admin audit log --action audit.prune | wc -l)" = 1

# A later record blanked as an anchor hides it: the chain is broken there.
id=$(grep $'\tlist.add\trecent\t' "$T/out" | cut -f1)
sql "UPDATE audit SET user = '', os_user = '', action = 'audit.pruned', object = '', outcome = 'pruned', details = '' WHERE id = $id"
expect 65 "a later record blanked as an anchor: verify fails" at "2028-01-01 10:00:00" as admin audit verify
check "  naming it" grep -q "the audit trail is broken at record $id: it is blanked as what a pruning keeps, which only the first record may be" "$T/err"
finish
