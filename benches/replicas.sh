#!/usr/bin/env bash
# Read replicas: loadgen read C=8 with reads on one streaming standby (`--replica`) against
# reads on the primary only, on one machine (2 cores: primary, standby and loadgen share them,
# so parity is the honest expectation). A throwaway primary + standby from
# `examples/pg_cluster.rs --standby`; runs alternate, RUNS rounds (default 5), median ops/s.
# Writes benches/results/<date>-replicas.md.
#
#   bash benches/replicas.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
OPS=${OPS:-40000}
cargo build --quiet --release --example pg_cluster --example loadgen
coproc PG { target/release/examples/pg_cluster --standby fsync=on shared_buffers=128MB max_connections=200; }
read -r PRIMARY <&"${PG[0]}"
read -r STANDBY <&"${PG[0]}"
trap 'eval "exec ${PG[1]}>&-"; wait "$PG_PID" 2>/dev/null || true' EXIT
echo "primary $PRIMARY, standby $STANDBY" >&2
run() {
    target/release/examples/loadgen --backend postgres --workload read --concurrency 8 \
        --ops "$OPS" --url "$PRIMARY" "$@" 2>/dev/null \
        | python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); assert d["errors"]==0, d; print(d["ops_per_s"])'
}
: > /tmp/replicas-primary; : > /tmp/replicas-standby
for _ in $(seq "$RUNS"); do
    run >> /tmp/replicas-primary
    run --replica "$STANDBY" >> /tmp/replicas-standby
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p=$(median < /tmp/replicas-primary); s=$(median < /tmp/replicas-standby)
out="benches/results/$(date -u +%Y-%m-%d_%H%M%S)-replicas.md"
python3 - "$p" "$s" "$RUNS" "$OPS" <<'PY' | tee "$out"
import sys
p, s, runs, ops = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
print(f"# Read replicas: loadgen read C=8, {ops} ops, median of {runs} alternating runs")
print()
print("Command: `bash benches/replicas.sh`. Primary and streaming standby on the same 2-core machine as loadgen.")
print()
print("| reads on | ops/s | vs primary only |")
print("|---|---:|---:|")
print(f"| the primary (`begin_transaction`) | {p:.0f} | 1.00× |")
print(f"| the standby (`begin_read_only`, `--replica`) | {s:.0f} | {s/p:.2f}× |")
PY
