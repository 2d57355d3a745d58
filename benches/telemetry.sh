#!/usr/bin/env bash
# What the metrics and tracing layer costs with no recorder and no subscriber installed:
# loadgen read C=1 on SQLite and PostgreSQL, built from BASE (default: the commit before the
# layer: the parent of the commit "Pool metrics through the metrics facade") and from the
# working tree, run alternately RUNS times (default 7).
# Reports median ops/s and CPU time per op (user + system, from the child's rusage).
# Writes benches/results/<date>-telemetry.md.
#
#   bash benches/telemetry.sh            # BASE=<commit> to compare with another one
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:-$(git log --format=%H -n 1 --grep='^Pool metrics through the metrics facade')~1}
BASE=$(git rev-parse "$BASE")
RUNS=${RUNS:-7}
SQLITE_OPS=${SQLITE_OPS:-200000}
PG_OPS=${PG_OPS:-20000}
source benches/pg-cluster.sh
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
cleanup() { git worktree remove --force "$work/base" 2>/dev/null || true; rm -rf "$work"; pg_cluster_cleanup; }
trap cleanup EXIT
git worktree add --detach "$work/base" "$BASE" >/dev/null 2>&1
(cd "$work/base" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release --example loadgen >&2)
cp "$TARGET_DIR/release/examples/loadgen" "$work/loadgen-base"
cargo build --release --example loadgen >&2
cp "$TARGET_DIR/release/examples/loadgen" "$work/loadgen-new"

python3 - "$work" "$RUNS" "$SQLITE_OPS" "$PG_OPS" "$PG_URL" "$BASE" <<'PY' | tee "benches/results/$(date -u +%Y-%m-%d_%H%M%S)-telemetry.md"
import json, os, resource, statistics, subprocess, sys
work, runs, sqlite_ops, pg_ops, pg_url, base = sys.argv[1:7]
runs = int(runs)

def run(binary, backend, ops):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    args = [f"{work}/{binary}", "--backend", backend, "--workload", "read",
            "--concurrency", "1", "--ops", ops]
    if backend == "postgres":
        args += ["--url", pg_url]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = json.loads(out.strip().splitlines()[-1])
    assert line["errors"] == 0, line
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return line["ops_per_s"], cpu / int(ops) * 1e6

print(f"# Metrics and tracing layer, no recorder or subscriber: loadgen read C=1, median of {runs} alternating runs")
print()
print(f"Command: `bash benches/telemetry.sh` (2 cores). Base: `{base[:12]}` (before the layer); new: the working tree.")
print("CPU per op is the loadgen process's user + system time over its ops (setup included).")
print()
print("| backend | ops | base ops/s | new ops/s | new/base | base CPU µs/op | new CPU µs/op | new/base |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for backend, ops in [("sqlite", sqlite_ops), ("postgres", pg_ops)]:
    results = {"loadgen-base": [], "loadgen-new": []}
    for _ in range(runs):
        for binary in results:
            results[binary].append(run(binary, backend, ops))
    b_ops = statistics.median(r[0] for r in results["loadgen-base"])
    n_ops = statistics.median(r[0] for r in results["loadgen-new"])
    b_cpu = statistics.median(r[1] for r in results["loadgen-base"])
    n_cpu = statistics.median(r[1] for r in results["loadgen-new"])
    print(f"| {backend} | {ops} | {b_ops:.0f} | {n_ops:.0f} | {n_ops/b_ops:.3f} | {b_cpu:.2f} | {n_cpu:.2f} | {n_cpu/b_cpu:.3f} |")
PY
