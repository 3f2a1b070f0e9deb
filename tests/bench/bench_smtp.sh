#!/usr/bin/env bash
# tests/bench/bench_smtp.sh: SMTP throughput to Postfix's smtp-sink on
# loopback. Compares Postfix's own smtp-source (the ceiling on this machine)
# with hato's transport (tests/bench/bench_smtp.c) at the same message size
# and number of connections, in the same run, and prints the median of 3
# runs of each and the ratio (target >= 0.8, without DKIM).
#
#   bash tests/bench/bench_smtp.sh [COUNT [CONNECTIONS [BODY_BYTES]]]
#
# smtp-source is run twice: with -d (it keeps each connection for many
# messages, as hato does; the like-for-like ceiling) and without (a new
# connection per message, its default). Both ratios are printed; the one
# against -d is the like-for-like figure.
# smtp-sink has no TLS, so hato runs with smtp.tls = none to 127.0.0.1.
# smtp-sink lists PIPELINING, so hato sends MAIL, RCPT and DATA in one write
# (RFC 2920); smtp-source does not pipeline. The CPU column is the sender's
# own user and system time per message.
# BENCH_SMTP may name a built bench_smtp binary; otherwise this script
# builds one from send/transport*.c.
set -eu
umask 077 # password files are private
cd "$(dirname "$0")/../.."
COUNT=${1:-10000}
CONNS=${2:-4}
BODY=${3:-5120}
RUNS=3
SINK=/usr/sbin/smtp-sink
SOURCE=/usr/sbin/smtp-source
for b in "$SINK" "$SOURCE"; do
	[ -x "$b" ] || { echo "bench_smtp: $b missing (apt-get install postfix)"; exit 1; }
done
T=$(mktemp -d)
sink_pid=
cleanup() {
	[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

BIN=${BENCH_SMTP:-}
if [ -z "$BIN" ] && [ -x build/release/tests/bench/bench_smtp ]; then
	BIN=build/release/tests/bench/bench_smtp
fi
if [ -z "$BIN" ]; then
	BIN=$T/bench_smtp
	cc -std=c17 -O2 -D_GNU_SOURCE -I. $(pkg-config --cflags libcurl opendkim) \
		-o "$BIN" tests/bench/bench_smtp.c send/transport*.c send/dkim.c \
		$(pkg-config --libs libcurl libsodium opendkim libssl libcrypto) -lresolv
fi

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user_opt=()
[ "$(id -u)" -eq 0 ] && user_opt=(-u nobody)
"$SINK" "${user_opt[@]}" 127.0.0.1:"$PORT" 256 >/dev/null 2>&1 &
sink_pid=$!
for _ in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
	sleep 0.1
done

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
now() { date +%s.%N; }
# cpu FILE: user+sys seconds that /usr/bin/time wrote, as microseconds per message.
cpu_us() { awk -v n="$COUNT" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$1"; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=
# run NAME CMD...: one timed run; appends msg/s to NAME and CPU us/msg to NAME_cpu.
run() {
	local name=$1 a b; shift
	a=$(now)
	if [ -n "$TIME" ]; then
		"$TIME" -f '%U %S' -o "$T/cpu" "$@" >/dev/null
	else
		"$@" >/dev/null; echo "0 0" >"$T/cpu"
	fi
	b=$(now)
	eval "$name+=(\"\$(rate \"\$COUNT\" \"\$a\" \"\$b\")\")"
	eval "${name}_cpu+=(\"\$(cpu_us \"\$T/cpu\")\")"
}

src_d=() src_nod=() hato=() src_d_cpu=() src_nod_cpu=() hato_cpu=()
for i in $(seq "$RUNS"); do
	run src_d "$SOURCE" -d -s "$CONNS" -m "$COUNT" -l "$BODY" 127.0.0.1:"$PORT"
	run hato "$BIN" "smtp://127.0.0.1:$PORT" "$CONNS" "$COUNT" "$BODY"
	run src_nod "$SOURCE" -s "$CONNS" -m "$COUNT" -l "$BODY" 127.0.0.1:"$PORT"
done

m_d=$(median "${src_d[@]}")
m_nod=$(median "${src_nod[@]}")
m_h=$(median "${hato[@]}")
ratio=$(awk -v h="$m_h" -v s="$m_d" 'BEGIN { printf "%.2f", h / s }')
ratio_nod=$(awk -v h="$m_h" -v s="$m_nod" 'BEGIN { printf "%.2f", h / s }')
echo "SMTP throughput to smtp-sink on 127.0.0.1: $COUNT messages of $BODY bytes, $CONNS connections, median of $RUNS runs"
echo "(load average before: $LOAD0)"
printf '%-36s %10s %12s   %s\n' "sender" "msg/s" "CPU us/msg" "runs (msg/s)"
printf '%-36s %10s %12s   %s\n' "smtp-source -d (connection reuse)" "$m_d" "$(median "${src_d_cpu[@]}")" "${src_d[*]}"
printf '%-36s %10s %12s   %s\n' "smtp-source (connection per msg)" "$m_nod" "$(median "${src_nod_cpu[@]}")" "${src_nod[*]}"
printf '%-36s %10s %12s   %s\n' "hato transport (pipelined)" "$m_h" "$(median "${hato_cpu[@]}")" "${hato[*]}"
echo "ratio hato / smtp-source -d: $ratio (target >= 0.8)"
echo "ratio hato / smtp-source (its default, a connection per message): $ratio_nod"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.8) }' || echo "below target"
