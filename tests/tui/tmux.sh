# tests/tui/tmux.sh: what the tests of hato in a real terminal share. Source
# it after tests/lib.sh, then call tmux_init NAME: tmux runs hato on a
# private server, send-keys types and capture-pane reads the screen.
#
#   tm ARGS...               tmux on this test's server
#   screen WINDOW            the text of the pane
#   wait_for WINDOW TEXT [S] polls the pane until it shows TEXT
#   longest FILE             the length of the longest line of FILE
#   open_menu WINDOW NAME    opens the dashboard's row NAME

# tmux_init NAME: needs tmux, makes the store (new_store), sets a UTF-8
# terminal and starts nothing yet; the server, on the socket NAME-PID-RANDOM,
# is killed when the test exits. Exits the test when tmux or the store is missing.
tmux_init() {
	command -v tmux >/dev/null || { not_ok "tmux is not installed"; exit 1; }
	new_store || { not_ok "store set-up"; exit 1; }
	export LC_ALL=C.UTF-8 TERM=xterm-256color
	SOCK="$1-$$-$RANDOM"
	on_exit 'tmux -L "$SOCK" kill-server 2>/dev/null'
}

tm() { tmux -L "$SOCK" "$@"; }
screen() { tm capture-pane -p -t "$1"; }

# wait_for WINDOW TEXT [SECONDS]: polls the pane until it shows TEXT.
wait_for() {
	local i n=$(( ${3:-10} * 10 ))
	for ((i = 0; i < n; i++)); do
		screen "$1" 2>/dev/null | grep -qF -- "$2" && return 0
		sleep 0.1
	done
	echo "# waited for \"$2\"; the screen was:"
	screen "$1" 2>/dev/null | sed 's/^/#   /'
	return 1
}

longest() { local l m=0; while IFS= read -r l; do [ ${#l} -gt $m ] && m=${#l}; done <"$1"; echo $m; }

# open_menu WINDOW NAME: moves the dashboard's cursor to NAME and opens it.
open_menu() {
	local i
	tm send-keys -t "$1" g
	for ((i = 0; i < 20; i++)); do
		sleep 0.15
		screen "$1" | grep -q "^> $2 " && { tm send-keys -t "$1" Enter; return 0; }
		tm send-keys -t "$1" j
	done
	echo "# no menu row $2"
	return 1
}
