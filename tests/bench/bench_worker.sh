#!/usr/bin/env bash
# tests/bench/bench_worker.sh: the whole sending worker (`hato worker --once`:
# claiming, composing, DKIM, SMTP, recording each outcome) to Postfix's
# smtp-sink on loopback, against Postfix's smtp-source in the same run, and
# the worker's peak memory on a 1,000,000-recipient campaign (issue 5,
# "Performance"). Prints tables; it is a measurement, not a timed test.
#
#   bash tests/bench/bench_worker.sh
#
# Env: HATO (default ./hato, the release build), BENCH_MSGS (messages per
# throughput run, default 20000: about a second and a half each, long enough
# that starting and finishing weigh little), BENCH_RUNS (3), BENCH_CONNS (4),
# BENCH_BIG (recipients of the memory run, default 1000000), BENCH_BIG_SECS
# (how long the memory run sends before SIGTERM, default 60; 0: to the end).
#
# smtp-sink has no TLS, so hato runs with smtp.tls = none to 127.0.0.1 (the
# loopback-only cleartext the issue allows). Messages are about 5 KB.
# A worker's run includes its login (Argon2id, --kdf interactive); the
# throughput is computed from the worker's own log lines, which bracket the
# sending, and the login time is shown separately. Signed mail is set beside
# `openssl speed rsa2048` (one core's signing rate, measured after each
# signed run), the bound the issue names for it.
set -euo pipefail
umask 077 # password files are private
cd "$(dirname "$0")/../.."
HATO=${HATO:-$PWD/hato}
MSGS=${BENCH_MSGS:-20000}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNS:-4}
BIG=${BENCH_BIG:-1000000}
BIG_SECS=${BENCH_BIG_SECS:-60}
BODY=5120
SINK=/usr/sbin/smtp-sink
SOURCE=/usr/sbin/smtp-source
PY=/usr/bin/python3
for b in "$SINK" "$SOURCE" "$HATO"; do
	[ -x "$b" ] || { echo "bench_worker: $b missing"; exit 1; }
done
T=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "${BENCH_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user_opt=()
[ "$(id -u)" -eq 0 ] && user_opt=(-u nobody)
"$SINK" "${user_opt[@]}" 127.0.0.1:"$PORT" 256 >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
	sleep 0.1
done

# ---- A store with a sender, a ~5 KB template and MSGS recipients ------------
STORE="$T/store/hato.db"
printf 'bench-admin-pw-1\n' >"$T/pw.admin"
printf 'bench-mkt-pw-1\n' >"$T/pw.mkt"
printf 'bench-op-pw-1\n' >"$T/pw.op"
as() { local u=$1; shift; "$HATO" --store "$STORE" --user "$u" --password-file "$T/pw.$u" "$@"; }
"$HATO" --store "$STORE" --password-file "$T/pw.admin" init --admin admin --kdf interactive >/dev/null
as admin user add mkt --role marketer --kdf interactive --new-password-file "$T/pw.mkt" >/dev/null
as admin user add op --role operator --kdf interactive --new-password-file "$T/pw.op" >/dev/null
for kv in "smtp.url smtp://127.0.0.1:$PORT" "smtp.tls none" "smtp.connections $CONNS" \
	"sender.from News <news@example.com>" "sender.name Hato Ltd" \
	"sender.postal_address 1-2-3 Marunouchi, Tokyo" "sender.contact support@example.com" \
	"unsubscribe.url https://example.com/u/" "unsubscribe.mailto unsubscribe@example.com"; do
	as admin config set "${kv%% *}" "${kv#* }" >/dev/null
done
$PY - "$T/tpl.md" <<'EOF'
import sys
words = ("hato sends campaigns to people who asked for them at a pace the "
         "receivers accept and it never sends anyone the same message twice ").split()
lines, line = ["# News for {{name|you}}", ""], []
n = 0
while n < 700:
    w = words[len(line) % len(words)]
    line.append(w)
    if len(" ".join(line)) > 70:
        lines.append(" ".join(line)); n += len(lines[-1]) + 1; line = []
        if len(lines) % 8 == 0:
            lines.append("")
open(sys.argv[1], "w").write("\n".join(lines) + "\n\nYour city: {{attr.city}}.\n")
EOF
as mkt list add b >/dev/null
as mkt template add t "$T/tpl.md" --layout plain >/dev/null
$PY - "$MSGS" "$T/small.csv" <<'EOF'
import sys
n = int(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write("email,name,city\n")
    for i in range(n):
        f.write("r%07d@d%d.example,Person %d,Tokyo\n" % (i, i % 50, i))
EOF
as mkt import b "$T/small.csv" >/dev/null

k=0
# campaign: a fresh approved campaign to list b, due now; prints its name.
campaign() {
	k=$((k + 1))
	as mkt campaign add "c$k" --template t --list b --subject "News {{name}}" >/dev/null
	as mkt campaign submit "c$k" >/dev/null
	as op campaign approve "c$k" >/dev/null
	as op campaign send "c$k" >/dev/null
	echo "c$k"
}
# A From domain without a DKIM key fails the pre-send checks unless the relay
# signs: send.dkim = relay lets the rows without DKIM send unsigned, which is
# what they measure (smtp-sink signs nothing; the rows with a key are signed
# by hato all the same).
as admin config set send.dkim relay >/dev/null
as mkt campaign add probe --template t --list b --subject "News {{name}}" >/dev/null
SIZE=$(as mkt campaign preview probe --to r0000001@d1.example | wc -c)

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# A worker run: msg/s over the sending (from "sending to" to "finished" in its
# log, with sub-second times taken from the log's arrival), and the login.
worker_run() {
	local t0 t1 t2 line
	t0=$(now)
	"$HATO" --store "$STORE" --user op --password-file "$T/pw.op" worker --once 2>&1 |
		while IFS= read -r line; do
			case $line in
			*"sending to"*) now >"$T/t1" ;;
			*finished*) now >"$T/t2" ;;
			esac
		done
	t1=$(cat "$T/t1") t2=$(cat "$T/t2")
	awk -v n="$MSGS" -v a="$t1" -v b="$t2" 'BEGIN { printf "%.0f", n / (b - a) }' >"$T/rate"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }' >"$T/login"
}
source_run() {
	local a b
	a=$(now)
	"$SOURCE" -d -s "$CONNS" -m "$MSGS" -l "$BODY" 127.0.0.1:"$PORT" >/dev/null
	b=$(now)
	awk -v n="$MSGS" -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", n / (b - a) }'
}

src=() plain=() rsa=() logins=()
for i in $(seq "$RUNS"); do
	src+=("$(source_run)")
	campaign >/dev/null
	worker_run
	plain+=("$(cat "$T/rate")") logins+=("$(cat "$T/login")")
done
as admin dkim keygen example.com bench --alg rsa >/dev/null
ossl=()
for i in $(seq "$RUNS"); do
	campaign >/dev/null
	worker_run
	rsa+=("$(cat "$T/rate")")
	# the bound the issue names for signed mail: RSA-2048 signing, one core
	ossl+=("$(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {printf "%.0f", $6}')")
done
m_src=$(median "${src[@]}") m_plain=$(median "${plain[@]}") m_rsa=$(median "${rsa[@]}")
m_ossl=$(median "${ossl[@]}")
echo "hato worker to smtp-sink on 127.0.0.1: $MSGS messages of $SIZE bytes, $CONNS connections, median of $RUNS"
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs)"
printf '%-40s %8s   %s\n' "sender" "msg/s" "runs"
printf '%-40s %8s   %s\n' "smtp-source -d ($BODY-byte body)" "$m_src" "${src[*]}"
printf '%-40s %8s   %s\n' "hato worker, no DKIM" "$m_plain" "${plain[*]}"
printf '%-40s %8s   %s\n' "hato worker, RSA-2048 DKIM" "$m_rsa" "${rsa[*]}"
printf '%-40s %8s   %s\n' "openssl speed rsa2048, sign/s, one core" "$m_ossl" "${ossl[*]}"
ratio=$(awk -v h="$m_plain" -v s="$m_src" 'BEGIN { printf "%.2f", h / s }')
echo "ratio hato (no DKIM) / smtp-source: $ratio (target >= 0.8)"
echo "ratio hato (RSA DKIM) / smtp-source: $(awk -v h="$m_rsa" -v s="$m_src" 'BEGIN { printf "%.2f", h / s }')"
echo "ratio hato (RSA DKIM) / one core's signing rate: $(awk -v h="$m_rsa" -v s="$m_ossl" 'BEGIN { printf "%.2f", h / s }') (the bound; $(nproc) cores sign, and also run smtp-sink and the sending thread)"
echo "worker login (Argon2id interactive), median: $(median "${logins[@]}") s (not in the rates)"

# ---- Peak memory: a 1,000,000-recipient campaign -----------------------------
$PY - "$BIG" "$T/big.csv" <<'EOF'
import sys
n = int(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write("email,name,city\n")
    for i in range(n):
        f.write("m%07d@d%d.example,Member %d,Osaka\n" % (i, i % 500, i))
EOF
as mkt list add big >/dev/null
a=$(now)
as mkt import big "$T/big.csv" >/dev/null
b=$(now)
rm -f "$T/big.csv"
as mkt campaign add big --template t --list big --subject "News {{name}}" >/dev/null
as mkt campaign submit big >/dev/null
as op campaign approve big >/dev/null
as op campaign send big >/dev/null
as admin dkim rm example.com bench >/dev/null # unsigned, as the rows above
"$HATO" --store "$STORE" --user op --password-file "$T/pw.op" worker --once 2>"$T/big.log" &
wpid=$!
pids+=($wpid)
# After the login (Argon2id's 64 MiB), reset the high-water mark: the second
# figure is the worker's own peak.
for _ in $(seq 200); do grep -q 'started as' "$T/big.log" && break; sleep 0.05; done
hwm_login=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$wpid/status)
echo 5 >/proc/$wpid/clear_refs 2>/dev/null || true
hwm=0 t0=$(now) sent=0
while kill -0 "$wpid" 2>/dev/null; do
	v=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$wpid/status 2>/dev/null || true)
	[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
	if [ "$BIG_SECS" -gt 0 ] && awk -v a="$t0" -v b="$(now)" -v s="$BIG_SECS" 'BEGIN { exit !(b - a > s) }'; then
		kill -TERM "$wpid"
		break
	fi
	sleep 0.2
done
wait "$wpid" || true
t1=$(now)
sent=$(as op campaign status big | sed -n 's/.* sent \([0-9]*\),.*/\1/p')
echo
echo "peak memory of the worker on a $BIG-recipient campaign (import took $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", b - a }') s)"
printf '%-58s %8s\n' "what" "MB"
printf '%-58s %8s\n' "VmHWM at the end of login (Argon2id interactive: 64 MiB)" "$(awk -v k="$hwm_login" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-58s %8s\n' "VmHWM after login: fixing the queue + sending" "$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')"
echo "($sent messages sent in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s, then SIGTERM; target < 64 MB)"
