#!/usr/bin/env bash
# Schema evolution against create_db on the example schema (issue 15's speed target: migrate up
# and plan each under 2x create_db), on a SQLite file and on PostgreSQL: runs
# examples/migrate_bench.rs and writes its tables to benches/results/<date>-migrate.md.
#
#   bash benches/migrate.sh
#
# PostgreSQL: DBCONFIG_TEST_PG_URL if set, else a throwaway local cluster (see pg-cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/pg-cluster.sh
cargo build --release --features serde --example migrate_bench >&2
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out="benches/results/$(date -u +%Y-%m-%d_%H%M%S)-migrate.md"
{
    echo "# migrate up and plan_db against create_db ($(date -u +%Y-%m-%d), $(nproc) cores)"
    echo
    echo 'Command: `bash benches/migrate.sh` (examples/migrate_bench.rs).'
    PG_URL=$PG_URL "$TARGET_DIR/release/examples/migrate_bench"
} | tee "$out"
echo "wrote $out" >&2
