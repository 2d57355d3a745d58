#!/usr/bin/env bash
# The portable API's cost against the native one (issue: --api native|portable in loadgen).
#
# - Instructions per op under callgrind (deterministic: the difference between a run of N and
#   one of 2N ops, so preload and start-up cancel out): SQLite read C=1, and the PostgreSQL
#   client's own in read and write at C=1 and C=8.
# - Throughput with `loadgen --api alternate`: each task alternates native and portable ops, so
#   both meet the same server state; RUNS (default 5) runs per cell, median and range of
#   native mean latency / portable mean latency. (Separate runs per API, even paired, moved by
#   ±10-30 % here: the server, its WAL flushes and the client share 2 cores.)
#
#   bash benches/portable.sh            # writes benches/results/<date>-portable.md
#   RUNS=3 bash benches/portable.sh     # fewer alternating runs, quicker
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

RUNS=${RUNS:-5}
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
echo "## Throughput, native and portable ops alternating (\`--api alternate\`, $RUNS runs per cell)"
echo
echo "Every task of one loadgen run alternates native and portable ops, so both meet the same"
echo "server state (WAL flushes, autovacuum, the load on the other core); at equal concurrency"
echo "throughput goes as 1 / mean latency, so portable / native = native mean / portable mean."
echo "Median of the runs and their range; mean latencies and ops/s (both APIs) are medians too."
echo
echo "| backend | workload | C | ops/s (both) | native mean µs | portable mean µs | portable / native | range |"
echo "|---|---|---|---|---|---|---|---|"
alt=$(mktemp)
cells=("sqlite read 1 300000")
[[ -n "${PG_URL:-}" ]] && cells+=("postgres read 1 20000" "postgres read 8 20000" "postgres write 1 20000" "postgres write 8 20000")
for cell in "${cells[@]}"; do
    read -r backend workload c ops <<<"$cell"
    url_args=()
    [[ $backend == postgres ]] && url_args=(--url "$PG_URL")
    lines=$(for ((i = 1; i <= RUNS; i++)); do
        "$L" --backend "$backend" "${url_args[@]}" --workload "$workload" --concurrency "$c" --ops "$ops" --api alternate 2>/dev/null
    done)
    printf '%s\n' "$lines" >"$alt"
    python3 - "$backend" "$workload" "$c" "$alt" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[4]) if l.strip()]
med = lambda k: statistics.median(r[k] for r in runs)
ratios = sorted(r["portable_vs_native_throughput"] for r in runs)
print(f"| {sys.argv[1]} | {sys.argv[2]} | {sys.argv[3]} | {med('ops_per_s'):,.0f} | {med('native_mean_us'):.1f} "
      f"| {med('portable_mean_us'):.1f} | {statistics.median(ratios):.3f} | {ratios[0]:.2f}-{ratios[-1]:.2f} |")
PY
done
} | tee "$out"
echo "written: $out" >&2
