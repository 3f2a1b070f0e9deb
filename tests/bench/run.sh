#!/usr/bin/env bash
# make bench: every benchmark, each figure beside a reference measured in the
# same run. Measurements, not timed tests: nothing here fails on a slow
# machine. The machine is small and shared, so each figure is a median.
#   BENCH_QUICK=1 makes every benchmark smaller (for a smoke run).
set -uo pipefail
umask 077 # password files are private
cd "$(dirname "$0")/../.."
export HATO=${HATO:-$PWD/hato}
quick=${BENCH_QUICK:-}
B=build/release/tests/bench

section() { printf '\n== %s ==\n' "$1"; }

section "Import and segments (issue 3)"
if [ -n "$quick" ]; then BENCH_ROWS=50000 BENCH_RUNS=1 bash tests/bench/bench_import.sh; else bash tests/bench/bench_import.sh; fi

section "Render and sign (issue 4)"
# none, Ed25519 and dual: n messages each. No DKIM: n messages 3 times, each
# run followed by `openssl speed sha256` on 4 KB blocks, one core's speed at
# that moment. (Both are CPU-bound; the rendering also leans on memory and
# allocation, so the two do not always drift together.)
# RSA-2048: n messages in 5 chunks,
# with `openssl speed rsa2048` run before the first chunk and after each one,
# so that each chunk is set beside the reference measured around it (this
# machine's speed drifts by 10% from one minute to the next). Reported: the
# median of the 5 per-chunk ratios.
n=100000
[ -n "$quick" ] && n=5000
out=/tmp/hato-bench-compose.$$
ossl() { openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}'; }
# one core's SHA-256 over 4 KB blocks, in blocks/s (openssl prints KB/s)
sha256_blocks() { openssl speed -seconds 2 -bytes 4096 sha256 2>/dev/null | awk '$1 == "sha256" {sub(/k$/, "", $2); printf "%.0f\n", $2 / 4}'; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR) print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for c in none ed25519 dual; do "$B/bench_compose" "$n" "$c" | sed "$([ "$c" = none ] || echo 1d)"; done | tee "$out"
prev=$(ossl)
: >"$out.rsa"
for i in 1 2 3 4 5; do
	line=$("$B/bench_compose" $((n / 5)) rsa-2048 | awk '$1 == "rsa-2048"')
	cur=$(ossl)
	rate=$(echo "$line" | awk '{print $4}')
	echo "$line" | sed "s/\$/   openssl: $prev, $cur/"
	echo "$rate $prev $cur" | awk '{printf "%s %s %.3f\n", $1, ($2+$3)/2, $1/(($2+$3)/2)}' >>"$out.rsa"
	prev=$cur
done
: >"$out.none"
for i in 1 2 3; do
	rate=$("$B/bench_compose" "$n" none | awk '$1 == "none" {print $4}')
	sha=$(sha256_blocks)
	echo "$rate $sha" | awk '{printf "%s %s %.3f\n", $1, $2, $1 / $2}' >>"$out.none"
done
rsa=$(awk '{print $1}' "$out.rsa" | median)
osslm=$(awk '{print $2}' "$out.rsa" | median)
ratio=$(awk '{print $3}' "$out.rsa" | median)
none=$(awk '{print $1}' "$out.none" | median)
sham=$(awk '{print $2}' "$out.none" | median)
nratio=$(awk '{print $3}' "$out.none" | median)
rm -f "$out" "$out.rsa" "$out.none"
printf '%-40s %12s\n' "RSA-2048 messages/s per core (median)" "${rsa:-?}"
printf '%-40s %12s\n' "openssl speed rsa2048 sign/s (median)" "${osslm:-?}"
printf '%-40s %12s   (target >= 0.80)\n' "RSA-2048 / openssl, median of 5" "${ratio:-?}"
printf '%-40s %12s   (target >= 50000)\n' "no DKIM, messages/s per core (median)" "${none:-?}"
printf '%-40s %12s\n' "openssl sha256 4 KB blocks/s (median)" "${sham:-?}"
printf '%-40s %12s   (messages in the time of one 4 KB hash)\n' "no DKIM / sha256, median of 3" "${nratio:-?}"

section "SMTP transport against smtp-sink (issue 5)"
if [ -n "$quick" ]; then bash tests/bench/bench_smtp.sh 2000 4; else bash tests/bench/bench_smtp.sh 10000 4; fi

if [ -f tests/bench/bench_worker.sh ]; then
	section "Worker against smtp-sink, and memory (issue 5)"
	if [ -n "$quick" ]; then
		BENCH_MSGS=2000 BENCH_RUNS=1 BENCH_BIG=20000 bash tests/bench/bench_worker.sh
	else
		bash tests/bench/bench_worker.sh
	fi
fi
if [ -f tests/bench/bench_tui.sh ]; then
	section "Terminal UI with 1,000,000 subscribers (issue 6)"
	bash tests/bench/bench_tui.sh
fi
