#!/usr/bin/env bash
# Runs each libFuzzer target given for FUZZ_SECONDS (default 60) seconds,
# each with its own corpus folder under build/fuzz/. Stops at the first crash.
set -euo pipefail
secs=${FUZZ_SECONDS:-60}
for bin in "$@"; do
	name=$(basename "$bin")
	corpus="build/fuzz/corpus-$name"
	mkdir -p "$corpus"
	seeds="tests/fuzz/seeds/$name"
	echo "fuzz: $name for ${secs}s"
	if [ -d "$seeds" ]; then
		"$bin" -max_total_time="$secs" -print_final_stats=1 "$corpus" "$seeds" 2>&1 | tail -4
	else
		"$bin" -max_total_time="$secs" -print_final_stats=1 "$corpus" 2>&1 | tail -4
	fi
done
echo "fuzz: every target ran ${secs}s without a crash"
