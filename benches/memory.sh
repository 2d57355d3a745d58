#!/usr/bin/env bash
# Memory of loadgen at C=64: peak RSS (VmHWM) of a run of N ops and of a run 10× longer, per
# workload and backend, so that growth shows. Prints a markdown table.
#
#   bash benches/memory.sh [N]        # N defaults to 20000
#
# PostgreSQL: DBCONFIG_TEST_PG_URL if set, else a throwaway cluster (benches/pg-cluster.sh).
# DBCONFIG_LOADGEN=/path skips building loadgen.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${1:-20000}

if [[ -n "${DBCONFIG_LOADGEN:-}" ]]; then
    LOADGEN=$DBCONFIG_LOADGEN
else
    echo "building dbconfig's loadgen (release)..." >&2
    cargo build --release --example loadgen >&2
    LOADGEN="$(cargo metadata --format-version 1 --no-deps \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/loadgen"
fi

source benches/pg-cluster.sh

# rss BACKEND WORKLOAD OPS [ENV...] -> peak RSS in KiB
rss() {
    local backend=$1 workload=$2 ops=$3
    shift 3
    local args=(--backend "$backend" --workload "$workload" --concurrency 64 --ops "$ops" --pool-size 10)
    [[ "$backend" == postgres ]] && args+=(--url "$PG_URL")
    env "$@" "$LOADGEN" "${args[@]}" 2>/dev/null \
        | python3 -c 'import json,sys; l = json.loads(sys.stdin.read().strip().splitlines()[-1]); assert l["errors"] == 0, l; print(l["peak_rss_kb"])'
}

echo "# loadgen peak RSS at C=64 — $(date '+%Y-%m-%d %H:%M %Z'), $(nproc) cores"
echo
echo "| backend | workload | settings | $N ops (MiB) | $((N * 10)) ops (MiB) | growth |"
echo "|---|---|---|---|---|---|"
row() {
    local backend=$1 workload=$2 label=$3
    shift 3
    local a b
    a=$(rss "$backend" "$workload" "$N" "$@")
    b=$(rss "$backend" "$workload" $((N * 10)) "$@")
    python3 -c 'import sys; a, b = int(sys.argv[1]), int(sys.argv[2]); print(f"| {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {a / 1024:.1f} | {b / 1024:.1f} | {(b - a) / 1024:+.1f} MiB |")' \
        "$a" "$b" "$backend" "$workload" "$label"
}
row sqlite read defaults
row sqlite checkout defaults
row sqlite mixed defaults
row sqlite write defaults
# SQLite's page cache is per connection and fills up to cache_size (20000 pages, about 80 MB)
# as pages are touched; a run with a 2 MB cache shows how much of any growth is that cache.
row sqlite write "cache_size = -2000" DBCONFIG_SQLITE_CACHE_SIZE=-2000
row postgres read defaults
row postgres checkout defaults
row postgres mixed defaults
row postgres write defaults
