#!/usr/bin/env bash
# Runs each libFuzzer target given for FUZZ_SECONDS (default 60) seconds,
# each with its own corpus folder under build/fuzz/ and, when there is one,
# its seeds from tests/fuzz/seeds/. Stops at the first crash, undefined
# behaviour included, and shows what the fuzzer said about it; the input
# is saved as build/fuzz/NAME-crash-* (not in the source tree, where one
# was once committed by mistake), to be made a seed once fixed.
set -euo pipefail
secs=${FUZZ_SECONDS:-60}
for bin in "$@"; do
	name=$(basename "$bin")
	corpus="build/fuzz/corpus-$name"
	log="build/fuzz/$name.log"
	mkdir -p "$corpus"
	seeds="tests/fuzz/seeds/$name"
	dirs=("$corpus")
	[ -d "$seeds" ] && dirs+=("$seeds")
	echo "fuzz: $name for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="build/fuzz/$name-" "${dirs[@]}" >"$log" 2>&1; then
		grep -E -A12 "^==[0-9]+==ERROR|runtime error|SUMMARY|Test unit written" "$log" | head -40
		echo "fuzz: $name failed; its whole output is in $log"
		exit 1
	fi
	tail -4 "$log"
done
echo "fuzz: every target ran ${secs}s without a crash"
