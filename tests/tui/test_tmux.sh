#!/usr/bin/env bash
# The terminal UI in a real terminal: tmux runs hato, send-keys types and
# capture-pane reads the screen. Logs in with a wrong and then the right
# password, opens the users and the audit trail, verifies the chain, resizes
# from 120x40 to 80x24 in the middle of a screen, quits with q and is killed
# with SIGTERM; each time the shell must get a sane terminal back. Esc on the
# dashboard asks before leaving, and escape sequences that the terminfo entry
# does not know are never read as Esc.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"
tmux_init hato-test

# Runs hato in a shell that reports how it ended and the terminal's modes.
cat >"$T/run.sh" <<RUN
"$HATO" --store "$STORE" --user admin 2>"$T/stderr"
echo EXITED-\$?
stty -a | tr ' ;' '\n\n' | grep -x -e echo -e -echo -e icanon -e -icanon | tr '\n' ' '
echo STTY-DONE
sleep 60
RUN
tm new-session -d -s a -x 120 -y 40 "bash $T/run.sh"

check "the login screen shows" wait_for a "Password"
tm send-keys -t a "wrong-password-1" Enter
check "a wrong password is refused" wait_for a "wrong user or password"
check "and the password was never shown" bash -c "! tmux -L $SOCK capture-pane -p -t a | grep -q wrong-password-1"
sleep 1.2 # the delay after one failure is 1 s
tm send-keys -t a "admin-password-1" Enter
check "the right password opens the dashboard" wait_for a "Dashboard"
check "with the user and role" wait_for a "admin · role admin"
check "the dashboard offers Users" wait_for a "Users"

tm send-keys -t a Enter
check "Users lists the marketer" wait_for a "marketer  marketer  active"
check "and the viewer" wait_for a "viewer    viewer    active"
tm send-keys -t a q
wait_for a "Dashboard" >/dev/null
tm send-keys -t a j j Enter
check "the audit trail opens" wait_for a "Audit trail, newest first"
tm send-keys -t a v
check "verify shows the result in the status line" wait_for a "the audit chain is intact"

# Resize in the middle of the screen.
tm resize-window -t a -x 80 -y 24
check "after the resize the screen is redrawn" wait_for a "Audit trail, newest first"
sleep 0.3
screen a >"$T/pane"
check "the pane has 24 rows" test "$(wc -l <"$T/pane")" -eq 24
check "no line is longer than 80 columns" test "$(longest "$T/pane")" -le 80
check "the hint line is row 23" bash -c "sed -n 23p '$T/pane' | grep -q 'verify the hash chain'"
tm send-keys -t a x
check "the status line is row 24" bash -c "sleep 0.5; tmux -L $SOCK capture-pane -p -t a | sed -n 24p | grep -q 'that key does nothing here'"

# Help is generated from the keymap.
tm send-keys -t a '?'
check "? shows the keys of the audit trail" wait_for a "verify the hash chain"
check "help names the keys" wait_for a "q, Esc, Left"
tm send-keys -t a q q q
check "q from the dashboard leaves with exit 0" wait_for a "EXITED-0"
check "the terminal is back in cooked mode with echo" wait_for a "icanon echo STTY-DONE"
check "nothing was written to stderr" test ! -s "$T/stderr"

# Killed with SIGTERM in the middle of a screen: the terminal is restored.
tm new-session -d -s b -x 100 -y 30 "bash $T/run.sh"
wait_for b "Password" >/dev/null
tm send-keys -t b "admin-password-1" Enter
wait_for b "Dashboard" >/dev/null
pid=$(pgrep -x -f -- "$HATO --store $STORE --user admin")
check "hato runs" test -n "$pid"
[ -n "$pid" ] && kill -TERM "$pid"
check "SIGTERM ends hato (143)" wait_for b "EXITED-143"
check "and the terminal is restored" wait_for b "icanon echo STTY-DONE"

# A viewer sees only what the role may open, and a refusal says why.
tm new-session -d -s c -x 100 -y 30 "$HATO --store $STORE --user viewer"
wait_for c "Password" >/dev/null
tm send-keys -t c "viewer-password-1" Enter
check "the viewer's dashboard" wait_for c "viewer · role viewer"
check "does not offer Users" bash -c "! tmux -L $SOCK capture-pane -p -t c | grep -q 'Users'"
tm send-keys -t c Enter n
check "adding a role is refused with the reason" wait_for c 'needs the permission "roles"'

# Without --user or HATO_USER the login screen asks for the user first.
tm new-session -d -s d -x 100 -y 30 "env -u HATO_USER $HATO --store $STORE"
wait_for d "Log in to hato" >/dev/null
check "the user is asked for first (the field is empty)" bash -c "tmux -L $SOCK capture-pane -p -t d | grep -qE '^ +User *\$'"
tm send-keys -t d "operator" Enter
wait_for d "Password" >/dev/null
tm send-keys -t d "operator-password-1" Enter
check "and then the password; the operator is in" wait_for d "operator · role operator"

# Esc on the dashboard asks before leaving; under a TERM whose terminfo entry
# does not name the End key, the terminal's End sequence is End, not Esc, and
# a sequence hato does not know is refused, never read as Esc.
tm new-session -d -s e -x 100 -y 30 "TERM=vt100 bash $T/run.sh"
wait_for e "Password" >/dev/null
tm send-keys -t e "admin-password-1" Enter
wait_for e "admin · role admin" >/dev/null
tm send-keys -t e -H 1b 5b 46
check "ESC [ F (End) under TERM=vt100 moves to the last row" wait_for e "> Templates"
tm send-keys -t e -H 1b 5b 39 39 7e
check "an unknown sequence does nothing, and says so" wait_for e "that key does nothing here"
stayed() { ! screen e | grep -q 'EXITED\|Leave hato'; }
check "neither leaves nor asks to leave" stayed
tm send-keys -t e Escape
check "Esc on the dashboard asks before leaving" wait_for e "Leave hato? (y/n)"
tm send-keys -t e n
sleep 0.3
check "n stays" stayed
tm send-keys -t e Left
check "Left asks too" wait_for e "Leave hato? (y/n)"
tm send-keys -t e y
check "y leaves with exit 0" wait_for e "EXITED-0"

finish
