#!/usr/bin/env bash
# Side-by-side benchmark: dbconfig's examples/loadgen/ against its peers (benches/peers), on
# the same machine, in one go. Every cell is run REPS times; within a repetition every
# implementation runs once, in an order that rotates from one repetition (and cell) to the next.
#
#   bash benches/run.sh            # 3 repetitions per cell, full op counts
#   bash benches/run.sh quick      # 1 repetition, a fifth of the ops
#   bash benches/run.sh --table F  # only print the tables of an existing results .jsonl
# (DBCONFIG_LOADGEN=/path skips building loadgen, PEERS_NO_BUILD=1 skips building the peers.)
#
# PostgreSQL: DBCONFIG_TEST_PG_URL if set, else a throwaway cluster (highest
# /usr/lib/postgresql/*/bin, run as user postgres, 127.0.0.1 on a free port, trust auth,
# shared_buffers=128MB, max_connections=200, fsync left on), stopped and removed on exit.
#
# Results: benches/results/<stamp>.jsonl (raw JSON lines), <stamp>.md (the tables),
# <stamp>.log (every run's stderr).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

# ---------------------------------------------------------------- tables (python3)
# Reads JSON lines (loadgen's and the peers'), prints markdown tables of medians.
print_tables() {
    python3 - "$@" <<'PY'
import json, re, statistics, sys
from collections import defaultdict

path = sys.argv[1]
header = sys.argv[2] if len(sys.argv) > 2 else ""

runs = defaultdict(list)      # (backend, workload, C, impl) -> [line, ...]
versions = {}                 # impl -> "impl-version"
with open(path) as f:
    for raw in f:
        raw = raw.strip()
        if not raw:
            continue
        line = json.loads(raw)
        m = re.match(r"^(.*?)-(\d+\.\d+\.\d+\S*)$", line["impl"])
        name = m.group(1) if m else line["impl"]
        versions[name] = line["impl"]
        runs[(line["backend"], line["workload"], int(line["concurrency"]), name)].append(line)

def unsupported(lines):
    return all("unsupported" in l.get("error_kinds", {}) for l in lines)

def med(key, backend, workload, c, name):
    lines = runs.get((backend, workload, c, name))
    if not lines or unsupported(lines):
        return None
    return statistics.median(l[key] for l in lines)

def failed(backend, workload, c, name):
    return any(l["errors"] > 0 for l in runs.get((backend, workload, c, name), []))

def fmt_ops(v):
    return "n/a" if v is None else f"{v:,.0f}"

def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}×"

# (title, backend, cells, raw driver, async peers, dbconfig variants)
TABLES = [
    ("SQLite", "sqlite",
     [("read", 1), ("read", 8), ("write", 1), ("write", 8), ("write", 64), ("checkout", 1)],
     "rusqlite-threads", ["deadpool-sqlite", "sqlx-sqlite"], ["dbconfig"]),
    ("PostgreSQL", "postgres",
     [("read", 1), ("read", 8), ("write", 1), ("write", 8)],
     "tokio-postgres-raw", ["deadpool-postgres", "sqlx-postgres"],
     ["dbconfig", "dbconfig-apart"]),
]

out = []
if header:
    out += [header, ""]
reps = max((len(v) for v in runs.values()), default=0)
out.append(f"Medians of ops/s over up to {reps} run(s) per cell (higher is better); "
           "ratios > 1 mean dbconfig is faster. † = some ops failed in that cell (see Errors).")
for title, backend, cells, raw, peers, ours in TABLES:
    ours = [n for n in ours if n == "dbconfig" or any(k[0] == backend and k[3] == n for k in runs)]
    impls = ours + [raw] + peers
    if not any(k[0] == backend for k in runs):
        out += ["", f"## {title}", "", "(no runs)"]
        continue
    out += ["", f"## {title} (ops/s)", ""]
    ratio_heads = []
    for n in ours:
        ratio_heads += [f"{n} / best async peer", f"{n} / raw"]
    out.append("| cell | " + " | ".join(impls + ratio_heads) + " |")
    out.append("|---" * (len(impls) + len(ratio_heads) + 1) + "|")
    for workload, c in cells:
        vals = {n: med("ops_per_s", backend, workload, c, n) for n in impls}
        row = [f"{workload} C={c}"]
        for n in impls:
            cell = fmt_ops(vals[n])
            if vals[n] is not None and failed(backend, workload, c, n):
                cell += " †"
            row.append(cell)
        async_vals = [vals[n] for n in peers if vals[n] is not None]
        best = max(async_vals) if async_vals else None
        for n in ours:
            row.append(fmt_ratio(vals[n], best))
            row.append(fmt_ratio(vals[n], vals[raw]))
        out.append("| " + " | ".join(row) + " |")

    # p50 / p99 latency for the same cells.
    out += ["", f"### {title} latency p50 / p99 (µs, medians)", ""]
    out.append("| cell | " + " | ".join(impls) + " |")
    out.append("|---" * (len(impls) + 1) + "|")
    for workload, c in cells:
        row = [f"{workload} C={c}"]
        for n in impls:
            p50 = med("p50_us", backend, workload, c, n)
            p99 = med("p99_us", backend, workload, c, n)
            row.append("n/a" if p50 is None else f"{p50:,.0f} / {p99:,.0f}")
        out.append("| " + " | ".join(row) + " |")

# The contended SQLite write cell, on its own.
sqlite_impls = ["dbconfig", "rusqlite-threads", "deadpool-sqlite", "sqlx-sqlite"]
out += ["", "## SQLite write C=64: p99 latency (µs, median)", ""]
out.append("| " + " | ".join(sqlite_impls) + " |")
out.append("|---" * len(sqlite_impls) + "|")
out.append("| " + " | ".join(
    (lambda v: "n/a" if v is None else f"{v:,.0f}")(med("p99_us", "sqlite", "write", 64, n))
    for n in sqlite_impls) + " |")

# Errors: every run with failed ops (unsupported checkouts are not errors).
out += ["", "## Errors", ""]
errs = []
for (backend, workload, c, name), lines in sorted(runs.items()):
    if unsupported(lines):
        continue
    for i, l in enumerate(lines):
        if l["errors"] > 0:
            kinds = "; ".join(f"{k}: {v}" for k, v in sorted(l["error_kinds"].items()))
            errs.append(f"- {backend} {workload} C={c} {name} run {i + 1}: "
                        f"{l['errors']} of {l['ops']} ops failed ({kinds})")
out += errs or ["none"]

# Peak RSS, where reported.
rss = defaultdict(list)
for (backend, workload, c, name), lines in runs.items():
    for l in lines:
        if l.get("peak_rss_kb"):
            rss[name].append(l["peak_rss_kb"])
if rss:
    out += ["", "## Peak RSS (VmHWM, MiB: median / max over all runs)", ""]
    for name in sorted(rss):
        out.append(f"- {name}: {statistics.median(rss[name]) / 1024:.1f} / {max(rss[name]) / 1024:.1f}")

out += ["", "Versions: " + ", ".join(versions[n] for n in sorted(versions))]
print("\n".join(out))
PY
}

machine_header() {
    local cpu
    cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*:[[:space:]]*//' || true)
    echo "# dbconfig side-by-side benchmark — $(date '+%Y-%m-%d %H:%M %Z'), $(nproc) cores, ${cpu:-unknown CPU}"
}

if [[ "${1:-}" == "--table" ]]; then
    [[ -n "${2:-}" ]] || { echo "usage: bash benches/run.sh --table RESULTS.jsonl" >&2; exit 2; }
    print_tables "$2" "$(machine_header)"
    exit 0
fi

QUICK=0
if [[ "${1:-}" == "quick" ]]; then
    QUICK=1
elif [[ -n "${1:-}" ]]; then
    echo "usage: bash benches/run.sh [quick] | --table RESULTS.jsonl" >&2
    exit 2
fi
REPS=3
((QUICK)) && REPS=1
ops() { if ((QUICK)); then echo $(($1 / 5)); else echo "$1"; fi; }

# ---------------------------------------------------------------- build
# Overrides, for testing this script or reusing builds: DBCONFIG_LOADGEN=/path/to/loadgen skips
# building loadgen; PEERS_NO_BUILD=1 skips building the peers.
if [[ -n "${DBCONFIG_LOADGEN:-}" ]]; then
    LOADGEN=$DBCONFIG_LOADGEN
else
    echo "building dbconfig's loadgen (release)..." >&2
    cargo build --release --example loadgen
    TARGET_DIR=$(cargo metadata --format-version 1 --no-deps \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    LOADGEN="$TARGET_DIR/release/examples/loadgen"
fi
# The peers build into benches/peers/target (benches/peers/.cargo/config.toml), three projects
# because they pin different libsqlite3-sys versions.
if [[ "${PEERS_NO_BUILD:-0}" != 1 ]]; then
    echo "building the peers (release)..." >&2
    for project in benches/peers benches/peers/sqlx benches/peers/deadpool-sqlite; do
        (cd "$project" && env -u CARGO_TARGET_DIR cargo build --release)
    done
fi
PEERS="$ROOT/benches/peers/target/release/peers"

# ---------------------------------------------------------------- PostgreSQL
source benches/pg-cluster.sh

# ---------------------------------------------------------------- runs
mkdir -p benches/results
STAMP=$(date +%Y-%m-%d_%H%M%S)
((QUICK)) && STAMP="$STAMP-quick"
JSONL="benches/results/$STAMP.jsonl"
MD="benches/results/$STAMP.md"
LOG="benches/results/$STAMP.log"
: >"$JSONL"
: >"$LOG"
FAILED_RUNS=()

# run_one IMPL BACKEND WORKLOAD C N
run_one() {
    local impl=$1 backend=$2 workload=$3 c=$4 n=$5 out
    local cmd
    if [[ "$impl" == dbconfig ]]; then
        cmd=("$LOADGEN")
    elif [[ "$impl" == dbconfig-apart ]]; then
        cmd=("$LOADGEN" --commit apart)
    else
        cmd=("$PEERS" --impl "$impl")
    fi
    cmd+=(--backend "$backend" --workload "$workload" --concurrency "$c" --ops "$n")
    [[ "$backend" == postgres ]] && cmd+=(--url "$PG_URL")
    echo "== $impl $backend $workload C=$c ops=$n" >>"$LOG"
    if out=$("${cmd[@]}" 2>>"$LOG") && line=$(printf '%s\n' "$out" | tail -n 1) \
        && python3 -c 'import json,sys; json.loads(sys.argv[1])' "$line" 2>>"$LOG"; then
        printf '%s\n' "$line" >>"$JSONL"
        python3 -c 'import json, sys; l = json.loads(sys.argv[1]); print("   {:28} {:>12,.0f} ops/s  p99 {:>10,.0f} us  errors {}".format(l["impl"], l["ops_per_s"], l["p99_us"], l["errors"]))' "$line" >&2
    else
        echo "   $impl FAILED (see $LOG)" >&2
        FAILED_RUNS+=("$impl $backend $workload C=$c")
    fi
}

# run_cell BACKEND WORKLOAD C N IMPL...  (REPS repetitions, rotating order)
CELL_INDEX=0
run_cell() {
    local backend=$1 workload=$2 c=$3 n=$4
    shift 4
    local impls=("$@") rep i
    local k=${#impls[@]}
    for ((rep = 0; rep < REPS; rep++)); do
        echo "-- $backend $workload C=$c ops=$n (repetition $((rep + 1))/$REPS)" >&2
        for ((i = 0; i < k; i++)); do
            run_one "${impls[$(((i + rep + CELL_INDEX) % k))]}" "$backend" "$workload" "$c" "$n"
        done
    done
    CELL_INDEX=$((CELL_INDEX + 1))
}

SQLITE_IMPLS=(dbconfig rusqlite-threads deadpool-sqlite sqlx-sqlite)
SQLITE_POOLED=(dbconfig deadpool-sqlite sqlx-sqlite) # checkout: rusqlite-threads has no pool
# dbconfig-apart: the same loadgen with --commit apart (statement, then commit(), awaited apart).
PG_IMPLS=(dbconfig dbconfig-apart tokio-postgres-raw deadpool-postgres sqlx-postgres)

run_cell sqlite read 1 "$(ops 100000)" "${SQLITE_IMPLS[@]}"
run_cell sqlite read 8 "$(ops 100000)" "${SQLITE_IMPLS[@]}"
run_cell sqlite write 1 "$(ops 20000)" "${SQLITE_IMPLS[@]}"
run_cell sqlite write 8 "$(ops 20000)" "${SQLITE_IMPLS[@]}"
run_cell sqlite write 64 "$(ops 20000)" "${SQLITE_IMPLS[@]}"
run_cell sqlite checkout 1 "$(ops 100000)" "${SQLITE_POOLED[@]}"
run_cell postgres read 1 "$(ops 20000)" "${PG_IMPLS[@]}"
run_cell postgres read 8 "$(ops 20000)" "${PG_IMPLS[@]}"
run_cell postgres write 1 "$(ops 20000)" "${PG_IMPLS[@]}"
run_cell postgres write 8 "$(ops 20000)" "${PG_IMPLS[@]}"

# ---------------------------------------------------------------- report
print_tables "$JSONL" "$(machine_header)" | tee "$MD"
if ((${#FAILED_RUNS[@]})); then
    {
        echo
        echo "## Runs that failed outright (no JSON line)"
        echo
        printf -- '- %s\n' "${FAILED_RUNS[@]}"
    } | tee -a "$MD"
fi
echo >&2
echo "raw: $JSONL  table: $MD  log: $LOG" >&2
