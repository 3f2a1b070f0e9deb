#!/usr/bin/env bash
# Benchmark of `hato import` and `hato segment count` (issue 3). Prints a
# table; it is a measurement, not a timed test. Called from tests/bench/run.sh.
#
#   1,000,000 generated rows, 5 attribute columns, ~3% invalid, ~2% duplicates
#   - hato import into an empty store: rows/s and peak RSS (the whole process,
#     and after the login), median of 3 runs
#   - two floors, each a raw SQLCipher insert in one transaction with hato's
#     pragmas and no index (bench_rawinsert), median of 3 runs, and the ratios:
#     "plain", the 7 CSV fields of each row into one 7-column table; and
#     "same content", what hato writes for each new person (a subscriber row
#     with address, domain and attribute BLOB, and a membership row with consent)
#     into two plain tables, without validation, hashing or dedupe
#   - two references, not the issue's floor but an explanation of it:
#     "address", the plain floor's rows with one index, the unique address the
#     dedupe against the store needs (bench_rawinsert address); and "indexed",
#     the same content with hato's unique address, keys and indexes
#     (bench_rawinsert indexed), the part of the import that is SQLite's own
#     b-tree work
#   - segment count over the 1M rows, an attribute and a domain filter
#   - the size of each database after its run, beside the plain floor's:
#     SQLCipher encrypts and writes every page, so time follows size
#
# Env: HATO (default ./hato), BENCH_ROWS (default 1000000), BENCH_RUNS (3).
set -euo pipefail
umask 077 # password files are private
cd "$(dirname "$0")/../.."
HATO=${HATO:-$PWD/hato}
RAW=${RAW:-$PWD/build/release/tests/bench/bench_rawinsert}
ROWS=${BENCH_ROWS:-1000000}
RUNS=${BENCH_RUNS:-3}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

$PY tests/bench/gen_subscribers.py "$ROWS" "$T/subs.csv"

# HWM=the VmHWM of process $1 in kB (bash builtins only: no process per read).
hwm_of() {
	local k v r
	HWM=0
	while read -r k v r; do [ "$k" = VmHWM: ] && HWM=$v; done <"/proc/$1/status" 2>/dev/null
}

# Runs an import and prints two peak RSS figures in kB: the whole process,
# and after the login. The rejects file ($T/rej.csv) appears once the login
# (Argon2id's 64 MiB) is over; then the high-water mark is reset
# (clear_refs), so that the second figure is the import's own.
run_rss() {
	rm -f "$T"/rej.csv*
	"$@" >"$T/cmd.out" 2>/dev/null &
	local pid=$! peak=0 after=0 reset=0
	while kill -0 $pid 2>/dev/null; do
		hwm_of $pid
		[ "$HWM" -gt "$peak" ] && peak=$HWM
		if [ $reset = 1 ]; then
			[ "$HWM" -gt "$after" ] && after=$HWM
		elif compgen -G "$T/rej.csv.*" >/dev/null; then
			echo 5 >/proc/$pid/clear_refs 2>/dev/null && reset=1
		fi
		sleep 0.05
	done
	wait $pid
	echo "$peak $after"
}

now() { date +%s.%N; }
# The size in MB of the database $1 with its WAL: what the run wrote, in pages.
mb_of() { { find "$1" "$1-wal" -printf '%s\n' 2>/dev/null || :; } | awk '{n += $1} END {printf "%.1f", n / 1048576}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf 'admin-password-1\n' >"$T/pw.admin"
printf 'marketer-password-1\n' >"$T/pw.mk"
hato_as() { "$HATO" --store "$T/s/hato.db" --user mk --password-file "$T/pw.mk" "$@"; }

imp_times=() imp_rss=() imp_rss_after=() raw_times=() adr_times=() con_times=() idx_times=()
for i in $(seq 1 "$RUNS"); do
	rm -rf "$T/s"
	"$HATO" --store "$T/s/hato.db" --password-file "$T/pw.admin" init --admin admin --kdf interactive >/dev/null
	"$HATO" --store "$T/s/hato.db" --user admin --password-file "$T/pw.admin" \
		user add mk --role marketer --kdf interactive --new-password-file "$T/pw.mk" >/dev/null
	hato_as list add bench >/dev/null
	t0=$(now)
	rss=$(run_rss "$HATO" --store "$T/s/hato.db" --user mk --password-file "$T/pw.mk" \
		import bench "$T/subs.csv" --rejects "$T/rej.csv")
	t1=$(now)
	imp_times+=("$(echo "$t1 - $t0" | bc -l)")
	imp_rss+=("${rss% *}")
	imp_rss_after+=("${rss#* }")
	summary=$(cat "$T/cmd.out")
	imp_mb=$(mb_of "$T/s/hato.db")
	rm -f "$T/raw.db" "$T/raw.db-wal" "$T/raw.db-shm"
	raw_times+=("$("$RAW" "$T/subs.csv" "$T/raw.db" plain | awk '{print $2}')")
	raw_mb=$(mb_of "$T/raw.db")
	rm -f "$T/raw.db" "$T/raw.db-wal" "$T/raw.db-shm"
	adr_times+=("$("$RAW" "$T/subs.csv" "$T/raw.db" address | awk '{print $2}')")
	adr_mb=$(mb_of "$T/raw.db")
	rm -f "$T/raw.db" "$T/raw.db-wal" "$T/raw.db-shm"
	con_times+=("$("$RAW" "$T/subs.csv" "$T/raw.db" content | awk '{print $2}')")
	con_mb=$(mb_of "$T/raw.db")
	rm -f "$T/raw.db" "$T/raw.db-wal" "$T/raw.db-shm"
	idx_times+=("$("$RAW" "$T/subs.csv" "$T/raw.db" indexed | awk '{print $2}')")
	idx_mb=$(mb_of "$T/raw.db")
	rm -f "$T/raw.db" "$T/raw.db-wal" "$T/raw.db-shm"
done
imp=$(printf '%s\n' "${imp_times[@]}" | median)
raw=$(printf '%s\n' "${raw_times[@]}" | median)
adr=$(printf '%s\n' "${adr_times[@]}" | median)
con=$(printf '%s\n' "${con_times[@]}" | median)
idx=$(printf '%s\n' "${idx_times[@]}" | median)
rss=$(printf '%s\n' "${imp_rss[@]}" | median)
rss_after=$(printf '%s\n' "${imp_rss_after[@]}" | median)

seg_attr=() seg_dom=()
for i in $(seq 1 "$RUNS"); do
	t0=$(now); hato_as segment count --list bench --where 'attr.city = "Tokyo"' >"$T/n1"; t1=$(now)
	seg_attr+=("$(echo "$t1 - $t0" | bc -l)")
	t0=$(now); hato_as segment count --list bench --where 'domain = "docomo.ne.jp"' >"$T/n2"; t1=$(now)
	seg_dom+=("$(echo "$t1 - $t0" | bc -l)")
done
sa=$(printf '%s\n' "${seg_attr[@]}" | median)
sd=$(printf '%s\n' "${seg_dom[@]}" | median)

echo "import: $summary"
printf '%-44s %12s %12s\n' "benchmark ($ROWS rows, median of $RUNS)" "value" "target"
printf '%-44s %12.2f %12s\n' "hato import, seconds" "$imp" ""
printf '%-44s %12.0f %12s\n' "hato import, rows/s" "$(echo "$ROWS / $imp" | bc -l)" ">= 150000"
printf '%-44s %12.2f %12s\n' "floor, plain: 7 text columns, s" "$raw" ""
printf '%-44s %12.2f %12s\n' "ratio import / floor plain" "$(echo "$imp / $raw" | bc -l)" "<= 2.0"
printf '%-44s %12.2f %12s\n' "reference, address: plain + unique address, s" "$adr" ""
printf '%-44s %12.2f %12s\n' "ratio address reference / floor plain" "$(echo "$adr / $raw" | bc -l)" ""
printf '%-44s %12.2f %12s\n' "floor, same content: 2 tables, no index, s" "$con" ""
printf '%-44s %12.2f %12s\n' "ratio import / floor same content" "$(echo "$imp / $con" | bc -l)" ""
printf '%-44s %12.2f %12s\n' "reference: same content + hato's indexes, s" "$idx" ""
printf '%-44s %12.2f %12s\n' "ratio import / reference with indexes" "$(echo "$imp / $idx" | bc -l)" ""
printf '%-44s %12.1f %12s\n' "hato import, peak RSS MB" "$(echo "$rss / 1024" | bc -l)" "< 100"
printf '%-44s %12.1f %12s\n' "  of which after the login (Argon2id 64 MiB)" "$(echo "$rss_after / 1024" | bc -l)" ""
printf '%-44s %12.3f %12s\n' "segment count attr.city = \"Tokyo\" ($(cat "$T/n1")), s" "$sa" "< 1"
printf '%-44s %12.3f %12s\n' "segment count domain = docomo ($(cat "$T/n2")), s" "$sd" "< 1"
echo "(segment count times include the process start and the Argon2id login)"
# What each wrote: SQLCipher's work goes with the pages it encrypts and writes.
printf '%-44s %12s %12s\n' "database size after the run, MB" "MB" "/ floor"
for row in "floor, plain:$raw_mb" "reference, address:$adr_mb" "floor, same content:$con_mb" \
	"reference, with indexes:$idx_mb" "hato's store after the import:$imp_mb"; do
	printf '%-44s %12.1f %12.2f\n' "  ${row%:*}" "${row##*:}" "$(echo "${row##*:} / $raw_mb" | bc -l)"
done
