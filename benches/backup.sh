#!/usr/bin/env bash
# Online backup speed: `dbconfig backup` against Debian's `sqlite3 .backup` on the same 100 MB
# WAL database (issue 18's target: at least 0.8x sqlite3's MB/s). Each tool copies the file
# RUNS times (default 5), alternating; wall time per copy, process start included for both;
# median MB/s. Writes benches/results/<date>-backup.md.
#
#   bash benches/backup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3; }
cargo build --release --features cli --bin dbconfig >&2
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
DBCONFIG="$TARGET_DIR/release/dbconfig"
RUNS=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/source.db"
sqlite3 "$db" "PRAGMA journal_mode=wal; CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB);
  WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
  INSERT INTO t (body) SELECT randomblob(1000) FROM c; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
bytes=$(stat -c %s "$db")
mb=$(python3 -c "print($bytes / 1e6)")
now() { date +%s%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$work/sqlite3"; : > "$work/dbconfig"
for _ in $(seq "$RUNS"); do
    rm -f "$work/a.db" "$work/b.db"
    t=$(now); sqlite3 "$db" ".backup '$work/a.db'"; echo $(( $(now) - t )) >> "$work/sqlite3"
    t=$(now); "$DBCONFIG" backup "sqlite:///$db" "$work/b.db" >/dev/null 2>&1; echo $(( $(now) - t )) >> "$work/dbconfig"
    cmp -s <(sqlite3 "$work/a.db" "SELECT count(*), sum(length(body)) FROM t") \
           <(sqlite3 "$work/b.db" "SELECT count(*), sum(length(body)) FROM t") \
        || { echo "the copies differ" >&2; exit 1; }
done
s_ns=$(median < "$work/sqlite3"); d_ns=$(median < "$work/dbconfig")
out="benches/results/$(date -u +%Y-%m-%d_%H%M%S)-backup.md"
python3 - "$mb" "$s_ns" "$d_ns" "$RUNS" "$(sqlite3 --version | cut -d' ' -f1)" <<'PY' | tee "$out"
import sys
mb, s, d, runs, version = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
print(f"# Online backup of a {mb:.0f} MB WAL database, median of {runs} copies")
print()
print("Command: `bash benches/backup.sh`. Wall time per copy, process start included.")
print()
print("| tool | ms | MB/s | vs sqlite3 |")
print("|---|---:|---:|---:|")
print(f"| sqlite3 {version} `.backup` | {s/1e6:.0f} | {mb/(s/1e9):.0f} | 1.00× |")
print(f"| `dbconfig backup` | {d/1e6:.0f} | {mb/(d/1e9):.0f} | {s/d:.2f}× |")
PY
echo "wrote $out" >&2
