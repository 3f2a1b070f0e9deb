#!/usr/bin/env bash
# Runs every test: the cmocka unit tests in build/test/tests/*/ and the shell
# tests tests/*/test_*.sh (end-to-end, terminal), then prints one summary line.
# Each shell test prints "ok - ..." or "not ok - ..." per check.
set -u
cd "$(dirname "$0")/.."
export HATO="$PWD/build/test/hato"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:verify_asan_link_order=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LC_ALL=C.UTF-8
passed=0 failed=0 failures=()
log=$(mktemp -d)

run_unit() {
	local bin=$1 name out p f
	name=${bin#build/test/tests/}
	out="$log/${name//\//_}.log"
	CMOCKA_MESSAGE_OUTPUT=stdout "$bin" >"$out" 2>&1
	local rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)) failed=$((failed + f))
	printf '%-40s %4d passed %4d failed\n' "$name" "$p" "$f"
	if [ "$f" -ne 0 ]; then failures+=("$name"); grep -E 'FAILED|ERROR|error|Assert|runtime error' "$out" | head -20 | sed 's/^/    /'; fi
}

run_shell() {
	local t=$1 out p f rc
	out="$log/$(echo "$t" | tr / _).log"
	timeout 900 bash "$t" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $t exited $rc" >>"$out"; fi
	if grep -q 'ERROR: \(AddressSanitizer\|LeakSanitizer\)\|runtime error:' "$out"; then
		f=$((f + 1)); echo "not ok - sanitizer report in $t" >>"$out"
	fi
	passed=$((passed + p)) failed=$((failed + f))
	printf '%-40s %4d passed %4d failed\n' "$t" "$p" "$f"
	if [ "$f" -ne 0 ]; then failures+=("$t"); grep -A4 '^not ok' "$out" | head -40 | sed 's/^/    /'; fi
}

for bin in build/test/tests/*/test_*; do
	[ -x "$bin" ] && run_unit "$bin"
done
for t in tests/*/test_*.sh; do
	[ -f "$t" ] && run_shell "$t"
done
echo "logs: $log"
[ ${#failures[@]} -eq 0 ] || echo "failing: ${failures[*]}"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
