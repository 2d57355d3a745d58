#!/usr/bin/env bash
# The portable API's cost against the native one (issue: --api native|portable in loadgen).
#
# - SQLite read, C=1: instructions per op under callgrind (deterministic: the difference between
#   runs of 20k and 40k ops, so preload and start-up cancel out), and CPU seconds (user+sys) per
#   op over 300k ops, median of 3 alternating runs.
# - PostgreSQL read and write at C=1 and C=8: ops/s, median of 6 runs of 20k ops each, in the
#   order native, portable, portable, native, … (each run re-creates its table; the order is
#   alternated because later runs of a series tend to be slower).
#
#   bash benches/portable.sh            # writes benches/results/<date>-portable.md
#
# Needs valgrind for the instruction counts (skipped without it) and a PostgreSQL (see
# pg-cluster.sh: DBCONFIG_TEST_PG_URL, else a throwaway local cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/pg-cluster.sh

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
cargo build --release --example loadgen >&2
L="$TARGET_DIR/release/examples/loadgen"
out="benches/results/$(date -u +%Y-%m-%d_%H%M%S)-portable.md"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }

{
echo "# Portable API vs native ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
echo
echo "Command: \`bash benches/portable.sh\`"
echo
echo "## SQLite read, C=1"
echo
echo "| api | instructions/op (callgrind) | CPU µs/op (median of 3 × 300k ops) |"
echo "|---|---|---|"
for api in native portable; do
    ir="n/a"
    if command -v valgrind >/dev/null; then
        a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$L" --backend sqlite --workload read --concurrency 1 --ops 20000 --api $api 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
        b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$L" --backend sqlite --workload read --concurrency 1 --ops 40000 --api $api 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
        ir=$(( (b - a) / 20000 ))
    fi
    cpu=$(for i in 1 2 3; do
        /usr/bin/time -f "%U %S" "$L" --backend sqlite --workload read --concurrency 1 --ops 300000 --api $api 2>&1 >/dev/null | tail -n 1 | awk '{printf "%.3f\n", ($1 + $2) / 300000 * 1e6}'
    done | median)
    echo "| $api | $ir | $cpu |"
done
echo
echo "## PostgreSQL, ops/s (median of 6 runs of 20k ops, order ABBA…)"
echo
echo "| workload | C | native | portable | portable / native | client CPU µs/op native | portable |"
echo "|---|---|---|---|---|---|---|"
for workload in read write; do
    for c in 1 8; do
        declare -A runs=([native]="" [portable]="") cpu=([native]="" [portable]="")
        for i in 1 2 3 4 5 6; do
            order="native portable"
            ((i % 2 == 0)) && order="portable native"
            for api in $order; do
                line=$(/usr/bin/time -o /tmp/portable-bench.time -f "%U %S" "$L" --backend postgres --url "$PG_URL" --workload $workload --concurrency $c --ops 20000 --api $api 2>/dev/null)
                runs[$api]+="$(printf '%s' "$line" | field ops_per_s)"$'\n'
                cpu[$api]+="$(awk '{printf "%.2f", ($1 + $2) / 20000 * 1e6}' /tmp/portable-bench.time)"$'\n'
            done
        done
        n=$(printf '%s' "${runs[native]}" | median)
        p=$(printf '%s' "${runs[portable]}" | median)
        cn=$(printf '%s' "${cpu[native]}" | median)
        cp=$(printf '%s' "${cpu[portable]}" | median)
        ratio=$(python3 -c "print(f'{$p / $n:.3f}')")
        printf '| %s | %s | %.0f | %.0f | %s | %s | %s |\n' $workload $c "$n" "$p" "$ratio" "$cn" "$cp"
    done
done
} | tee "$out"
echo "written: $out" >&2
