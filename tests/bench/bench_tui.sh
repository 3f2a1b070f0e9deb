#!/usr/bin/env bash
# Benchmark of the terminal UI's subscriber browser (issue 6), called from
# tests/bench/run.sh: bench_browse fills a store with 1,000,000 subscribers
# through store_subscriber_import, then drives the Subscribers screen with a
# scripted key sequence (no terminal) and prints the medians of opening it,
# paging and each search keystroke. A measurement, not a timed test.
#
# Env: BENCH_QUICK (50,000 subscribers instead), BENCH_SUBSCRIBERS (any N).
set -euo pipefail
umask 077 # password files are private
cd "$(dirname "$0")/../.."
n=${BENCH_SUBSCRIBERS:-1000000}
[ -n "${BENCH_QUICK:-}" ] && n=${BENCH_SUBSCRIBERS:-50000}
build/release/tests/bench/bench_browse "$n"
