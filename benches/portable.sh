#!/usr/bin/env bash
# The portable API's cost against the native one (issue: --api native|portable in loadgen).
#
# - SQLite read, C=1: instructions per op under callgrind (deterministic: the difference between
#   runs of 20k and 40k ops, so preload and start-up cancel out), and CPU seconds (user+sys) per
#   op over 300k ops in PAIRS pairs of runs (the ratio taken per pair: one run alone can be off
#   by 40 % on this shared machine).
# - PostgreSQL read and write at C=1 and C=8: the client's instructions per op under callgrind
#   (deterministic), then ops/s over PAIRS (default 10) pairs of runs of 20k ops, each pair
#   native and portable back to back, first one alternating (each run re-creates its table).
#   The ratio is taken per pair, so drift across the series cancels; one cell's ops/s alone moves
#   by ±15 % between runs on 2 cores shared with the server.
#
#   bash benches/portable.sh            # writes benches/results/<date>-portable.md
#   PAIRS=4 bash benches/portable.sh    # fewer pairs, quicker
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

PAIRS=${PAIRS:-10}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }

{
echo "# Portable API vs native ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
echo
echo "Command: \`bash benches/portable.sh\`"
echo
echo "## SQLite read, C=1"
echo
echo "| api | instructions/op (callgrind) |"
echo "|---|---|"
declare -A sqlite_ir=()
for api in native portable; do
    ir="n/a"
    if command -v valgrind >/dev/null; then
        a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$L" --backend sqlite --workload read --concurrency 1 --ops 20000 --api $api 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
        b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$L" --backend sqlite --workload read --concurrency 1 --ops 40000 --api $api 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
        ir=$(( (b - a) / 20000 ))
    fi
    sqlite_ir[$api]=$ir
    echo "| $api | $ir |"
done
if [[ ${sqlite_ir[native]} != n/a ]]; then
    echo
    echo "portable / native: $(python3 -c "print(f'{${sqlite_ir[portable]} / ${sqlite_ir[native]}:.3f}')") (instructions)"
fi
echo
echo "CPU seconds (user+sys) per op over 300k ops, $PAIRS pairs run back to back (first one"
echo "alternating): median µs/op of each API, and the median and range of the pairs' ratios."
echo
declare -A cpus=([native]="" [portable]="")
ratios=""
for ((i = 1; i <= PAIRS; i++)); do
    order="native portable"
    ((i % 2 == 0)) && order="portable native"
    declare -A pair=()
    for api in $order; do
        pair[$api]=$(/usr/bin/time -f "%U %S" "$L" --backend sqlite --workload read --concurrency 1 --ops 300000 --api $api 2>&1 >/dev/null | tail -n 1 | awk '{printf "%.3f\n", ($1 + $2) / 300000 * 1e6}')
        cpus[$api]+="${pair[$api]}"$'\n'
    done
    ratios+="$(python3 -c "print(${pair[portable]} / ${pair[native]})")"$'\n'
done
echo "| native µs/op | portable µs/op | portable / native (median of pairs) | range of pairs |"
echo "|---|---|---|---|"
printf '| %s | %s | %.3f | %s |\n' "$(printf '%s' "${cpus[native]}" | median)" "$(printf '%s' "${cpus[portable]}" | median)" \
    "$(printf '%s' "$ratios" | median)" "$(printf '%s' "$ratios" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo, hi}')"
echo
echo "## PostgreSQL, client instructions per op (callgrind, deterministic)"
echo
echo "The client's own work (the server is not measured): (run of 8k ops - run of 4k ops) / 4k."
echo
echo "| workload | C | native | portable | portable / native |"
echo "|---|---|---|---|---|"
if command -v valgrind >/dev/null; then
    for workload in read write; do
        for c in 1 8; do
            declare -A ir=()
            for api in native portable; do
                a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$L" --backend postgres --url "$PG_URL" --workload $workload --concurrency $c --ops 4000 --api $api 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
                b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$L" --backend postgres --url "$PG_URL" --workload $workload --concurrency $c --ops 8000 --api $api 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
                ir[$api]=$(( (b - a) / 4000 ))
            done
            printf '| %s | %s | %s | %s | %s |\n' $workload $c "${ir[native]}" "${ir[portable]}" "$(python3 -c "print(f'{${ir[portable]} / ${ir[native]}:.3f}')")"
        done
    done
else
    echo "| (valgrind not installed) | | | | |"
fi
echo
echo "## PostgreSQL, ops/s ($PAIRS pairs of runs of 20k ops)"
echo
echo "Each pair runs native and portable back to back (which goes first alternates), so drift"
echo "between pairs (WAL, autovacuum, the other core) cancels in the pair's ratio. Reported: the"
echo "median ops/s of each API, the median of the pairs' ratios and their range."
echo
echo "| workload | C | native | portable | portable / native (median of pairs) | range of pairs | client CPU µs/op native | portable |"
echo "|---|---|---|---|---|---|---|---|"
for workload in read write; do
    for c in 1 8; do
        declare -A runs=([native]="" [portable]="") cpu=([native]="" [portable]="")
        ratios=""
        for ((i = 1; i <= PAIRS; i++)); do
            order="native portable"
            ((i % 2 == 0)) && order="portable native"
            declare -A pair=()
            for api in $order; do
                line=$(/usr/bin/time -o /tmp/portable-bench.time -f "%U %S" "$L" --backend postgres --url "$PG_URL" --workload $workload --concurrency $c --ops 20000 --api $api 2>/dev/null)
                pair[$api]=$(printf '%s' "$line" | field ops_per_s)
                runs[$api]+="${pair[$api]}"$'\n'
                cpu[$api]+="$(awk '{printf "%.2f", ($1 + $2) / 20000 * 1e6}' /tmp/portable-bench.time)"$'\n'
            done
            ratios+="$(python3 -c "print(${pair[portable]} / ${pair[native]})")"$'\n'
        done
        n=$(printf '%s' "${runs[native]}" | median)
        p=$(printf '%s' "${runs[portable]}" | median)
        cn=$(printf '%s' "${cpu[native]}" | median)
        cp=$(printf '%s' "${cpu[portable]}" | median)
        r=$(printf '%s' "$ratios" | median)
        range=$(printf '%s' "$ratios" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo, hi}')
        printf '| %s | %s | %.0f | %.0f | %.3f | %s | %s | %s |\n' $workload $c "$n" "$p" "$r" "$range" "$cn" "$cp"
    done
done
} | tee "$out"
echo "written: $out" >&2
