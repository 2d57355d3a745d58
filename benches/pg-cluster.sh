# Sourced by benches/run.sh, benches/memory.sh and benches/portable.sh: sets PG_URL to
# DBCONFIG_TEST_PG_URL if given, else starts a throwaway PostgreSQL with the tests' own launcher
# (`examples/pg_cluster.rs` over `tests/common/pg.rs`: highest /usr/lib/postgresql/*/bin, run as
# user postgres when root, 127.0.0.1 on a free port, trust auth), configured for benchmarks
# (fsync on, shared_buffers=128MB, max_connections=200). Closing its stdin at EXIT stops and
# removes it; its watchdog does the same if this shell dies first.

pg_cluster_cleanup() {
    if [[ -n "${PG_CLUSTER_PID:-}" ]]; then
        [[ -n "${PG_CLUSTER[1]:-}" ]] && eval "exec ${PG_CLUSTER[1]}>&-"
        wait "$PG_CLUSTER_PID" 2>/dev/null || true
    fi
}
trap pg_cluster_cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n "${DBCONFIG_TEST_PG_URL:-}" ]]; then
    PG_URL=$DBCONFIG_TEST_PG_URL
    echo "PostgreSQL: DBCONFIG_TEST_PG_URL" >&2
else
    cargo build --quiet --release --example pg_cluster
    coproc PG_CLUSTER { target/release/examples/pg_cluster fsync=on shared_buffers=128MB max_connections=200; }
    if ! read -r PG_URL <&"${PG_CLUSTER[0]}"; then
        echo "benches/pg-cluster.sh: no PostgreSQL (see above)" >&2
        exit 1
    fi
    echo "PostgreSQL: throwaway cluster (examples/pg_cluster.rs) at $PG_URL" >&2
fi
