#!/usr/bin/env bash
# make bench: every benchmark, each figure beside a reference measured in the
# same run. Measurements, not timed tests: nothing here fails on a slow
# machine. The machine is small and shared, so each figure is a median.
#   BENCH_QUICK=1 makes every benchmark smaller (for a smoke run).
set -uo pipefail
cd "$(dirname "$0")/../.."
export HATO=${HATO:-$PWD/hato}
quick=${BENCH_QUICK:-}
B=build/release/tests/bench

section() { printf '\n== %s ==\n' "$1"; }

section "Import and segments (issue 3)"
if [ -n "$quick" ]; then BENCH_ROWS=50000 BENCH_RUNS=1 bash tests/bench/bench_import.sh; else bash tests/bench/bench_import.sh; fi

section "Render and sign (issue 4)"
n=100000
[ -n "$quick" ] && n=5000
"$B/bench_compose" "$n" | tee /tmp/hato-bench-compose.$$
ossl=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
rsa=$(awk '$1 == "rsa-2048" {print $4}' /tmp/hato-bench-compose.$$)
none=$(awk '$1 == "none" {print $4}' /tmp/hato-bench-compose.$$)
rm -f /tmp/hato-bench-compose.$$
printf '%-36s %12s\n' "openssl speed rsa2048 (sign/s, CPU)" "${ossl:-?}"
if [ -n "${ossl:-}" ] && [ -n "${rsa:-}" ]; then
	printf '%-36s %12s   (target >= 0.80)\n' "RSA-2048 per core / openssl" "$(echo "scale=2; $rsa / $ossl" | bc)"
fi
printf '%-36s %12s   (target >= 50000)\n' "no DKIM, messages/s per core" "${none:-?}"

section "SMTP transport against smtp-sink (issue 5)"
if [ -n "$quick" ]; then bash tests/bench/bench_smtp.sh 2000 4; else bash tests/bench/bench_smtp.sh 10000 4; fi

if [ -f tests/bench/bench_worker.sh ]; then
	section "Worker against smtp-sink, and memory (issue 5)"
	bash tests/bench/bench_worker.sh
fi
if [ -f tests/bench/bench_tui.sh ]; then
	section "Terminal UI with 1,000,000 subscribers (issue 6)"
	bash tests/bench/bench_tui.sh
fi
