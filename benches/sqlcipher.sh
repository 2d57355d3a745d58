#!/usr/bin/env bash
# What encryption costs: loadgen's SQLite read and write workloads at C=1 on three builds of
# one program: plain SQLite, the `sqlcipher` build without a key (a plain file), and the
# `sqlcipher` build with a key (DBCONFIG_SQLITE_KEY, a passphrase). Runs alternate, RUNS rounds
# (default 5); median ops/s each. Writes benches/results/<date>-sqlcipher.md.
#
#   bash benches/sqlcipher.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
READ_OPS=${READ_OPS:-50000}
WRITE_OPS=${WRITE_OPS:-10000}
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --example loadgen >&2
cp "$TARGET_DIR/release/examples/loadgen" "$work/plain"
cargo build --release --features sqlcipher --example loadgen >&2
cp "$TARGET_DIR/release/examples/loadgen" "$work/cipher"

run() { # build key workload ops -> ops/s
    local bin=$1 key=$2 workload=$3 ops=$4 line
    if [ -n "$key" ]; then
        line=$(DBCONFIG_SQLITE_KEY="$key" "$work/$bin" --backend sqlite --workload "$workload" --concurrency 1 --ops "$ops" 2>/dev/null)
    else
        line=$(env -u DBCONFIG_SQLITE_KEY "$work/$bin" --backend sqlite --workload "$workload" --concurrency 1 --ops "$ops" 2>/dev/null)
    fi
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["errors"]==0, d; print(d["ops_per_s"])' "$line"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for workload in read write; do
    ops=$READ_OPS; [ "$workload" = write ] && ops=$WRITE_OPS
    for _ in $(seq "$RUNS"); do
        run plain "" "$workload" "$ops" >> "$work/$workload-plain"
        run cipher "" "$workload" "$ops" >> "$work/$workload-nokey"
        run cipher "bench passphrase" "$workload" "$ops" >> "$work/$workload-key"
    done
done

out="benches/results/$(date -u +%Y-%m-%d_%H%M%S)-sqlcipher.md"
args=()
for workload in read write; do
    for kind in plain nokey key; do
        args+=("$(median < "$work/$workload-$kind")")
    done
done
python3 - "$RUNS" "$READ_OPS" "$WRITE_OPS" "${args[@]}" <<'PY' | tee "$out"
import sys
runs, read_ops, write_ops = sys.argv[1:4]
v = [float(x) for x in sys.argv[4:]]
print(f"# Encryption cost: loadgen SQLite C=1, median of {runs} alternating runs")
print()
print("Command: `bash benches/sqlcipher.sh` (2 cores). Read: "
      f"{read_ops} point reads; write: {write_ops} one-row write transactions (WAL, synchronous=NORMAL).")
print()
print("| workload | plain SQLite ops/s | sqlcipher build, no key | sqlcipher build, with key | key / plain |")
print("|---|---:|---:|---:|---:|")
for i, w in enumerate(["read", "write"]):
    p, n, k = v[3*i:3*i+3]
    print(f"| {w} C=1 | {p:.0f} | {n:.0f} ({n/p:.2f}×) | {k:.0f} | {k/p:.2f}× |")
PY
echo "wrote $out" >&2
