# tests/lib.sh: helpers for the shell tests. Source it; it makes a temp
# folder $T, removed on exit, and counts checks for the closing summary.
set -u
umask 077 # password files and stores are private, as a user's would be
HATO=${HATO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/test/hato}
T=$(mktemp -d)
STORE="$T/store/hato.db"
_cleanup_hooks=()
_cleanup() {
	local h
	for h in "${_cleanup_hooks[@]}"; do eval "$h"; done
	rm -rf "$T"
}
trap _cleanup EXIT
on_exit() { _cleanup_hooks+=("$1"); }
_nfail=0

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; _nfail=$((_nfail + 1)); }

# check DESC CMD...: passes when CMD succeeds.
check() {
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# expect RC DESC CMD...: runs CMD, output in $T/out and $T/err, wants exit RC.
expect() {
	local want=$1 d=$2 rc; shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$d"
	else
		not_ok "$d (exit $rc, wanted $want)"
		sed 's/^/#   /' "$T/err" | head -5
	fi
}

# A clear error: one line on stderr that starts with "hato: ", and no crash.
clear_error() {
	[ "$(wc -l <"$T/err")" -ge 1 ] && head -1 "$T/err" | grep -q '^hato: ' &&
		! grep -q 'Sanitizer\|runtime error\|Segmentation' "$T/err"
}

# at "YYYY-MM-DD HH:MM:SS" CMD...: runs CMD with the clock at that time (libfaketime).
FT=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
at() { local when=$1; shift; FAKETIME="@$when" LD_PRELOAD=$FT "$@"; }

# as USER CMD...: runs hato as USER with that user's password file.
as() {
	local u=$1; shift
	"$HATO" --store "$STORE" --user "$u" --password-file "$T/pw.$u" "$@"
}

# new_store: a store with admin, and a marketer, operator and viewer.
new_store() {
	printf 'admin-password-1\n' >"$T/pw.admin"
	"$HATO" --store "$STORE" --password-file "$T/pw.admin" init --admin admin --kdf interactive >/dev/null || return 1
	local r
	for r in marketer operator viewer; do
		printf '%s-password-1\n' "$r" >"$T/pw.$r"
		as admin user add "$r" --role "$r" --kdf interactive --new-password-file "$T/pw.$r" >/dev/null || return 1
	done
}

finish() {
	[ "$_nfail" -eq 0 ]
}
