# Sourced by benches/run.sh and benches/memory.sh: sets PG_URL to DBCONFIG_TEST_PG_URL if given,
# else starts a throwaway PostgreSQL (highest /usr/lib/postgresql/*/bin, run as user postgres,
# 127.0.0.1 on a free port, trust auth, shared_buffers=128MB, max_connections=200, fsync left
# on) that an EXIT trap stops and removes.

PGDIR=""
PG_STARTED=0
pg_cluster_cleanup() {
    if [[ -n "$PGDIR" ]]; then
        if ((PG_STARTED)); then
            (cd "$PGDIR" && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1) || true
        fi
        rm -rf "$PGDIR"
    fi
}
trap pg_cluster_cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n "${DBCONFIG_TEST_PG_URL:-}" ]]; then
    PG_URL=$DBCONFIG_TEST_PG_URL
    echo "PostgreSQL: DBCONFIG_TEST_PG_URL" >&2
else
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n "$PGBIN" ]] || { echo "no /usr/lib/postgresql/*/bin and no DBCONFIG_TEST_PG_URL" >&2; exit 1; }
    PGDIR=$(mktemp -d /tmp/dbconfig-bench-pg.XXXXXX)
    chown postgres:postgres "$PGDIR"
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (cd "$PGDIR" && runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null)
    PG_STARTED=1
    (cd "$PGDIR" && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$PGDIR -c shared_buffers=128MB -c max_connections=200" \
        start >/dev/null)
    PG_URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
    echo "PostgreSQL: throwaway cluster $("$PGBIN/postgres" --version) on port $PORT" >&2
fi
