#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, from the Debian packages, ready
# for logical replication (wal_level=logical).
#
#   tests/rig/postgres.sh start DIR   install postgresql if needed, initdb in
#                                     DIR/data, start, write DIR/env
#   tests/rig/postgres.sh stop DIR    stop it and remove DIR
#
# DIR/env holds shell assignments: PG_PORT PG_SOCKET_DIR PG_DATADIR PG_BINDIR
# PG_DSN (postgres://postgres@127.0.0.1:PORT/postgres, trust authentication).
# PostgreSQL refuses to run as root: as root the server runs as the
# `postgres` system user (created by the package) and DIR is handed to it.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac

find_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

# Run as the server's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

do_stop() {
    [ -d "$dir" ] || return 0
    local bindir
    bindir=$(find_bindir || true)
    local datadir
    datadir=$(cat "$dir/datadir" 2>/dev/null || echo "$dir/data")
    if [ -n "$bindir" ] && [ -f "$datadir/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$datadir" -m fast -t 60 stop >/dev/null 2>&1 || {
            local pid
            pid=$(head -n 1 "$datadir/postmaster.pid" 2>/dev/null || true)
            [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
        }
    fi
    local sockdir
    sockdir=$(cat "$dir/sockdir" 2>/dev/null || true)
    [ -n "$sockdir" ] && rm -rf "$sockdir"
    rm -rf "$dir"
}

do_start() {
    local bindir
    bindir=$(find_bindir || true)
    if [ -z "$bindir" ]; then
        rig_need_pkgs postgresql postgresql-client
        bindir=$(find_bindir) || rig_die "PostgreSQL binaries not found under /usr/lib/postgresql"
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi

    do_stop
    mkdir -p "$dir"

    # The server's files live in DIR unless the postgres user cannot reach
    # DIR or the socket path would be too long (107 bytes, .s.PGSQL.NNNNN
    # is appended): then in a directory under /tmp, removed by stop.
    local base=$dir
    if [ $((${#dir} + 20)) -gt 100 ] ||
        { [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$dir"; }; then
        base=$(mktemp -d /tmp/lm-pg.XXXXXX)
        echo "$base" >"$dir/sockdir"
    fi
    [ "$(id -u)" -eq 0 ] && chown postgres: "$base"
    local sockdir=$base datadir=$base/data
    echo "$datadir" >"$dir/datadir"

    if ! as_owner "$bindir/initdb" -D "$datadir" -A trust -U postgres -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        rig_die "initdb failed (log above)"
    fi

    local attempt port up=0
    for attempt in 1 2 3; do
        port=$(rig_free_port)
        if as_owner "$bindir/pg_ctl" -D "$datadir" -l "$base/server.log" -w -t 60 \
            -o "-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$sockdir \
                -c wal_level=logical -c max_replication_slots=8 -c max_wal_senders=8 \
                -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >"$dir/pg_ctl.log" 2>&1; then
            up=1
            break
        fi
        if grep -q -i 'could not bind\|address already in use' "$base/server.log"; then
            rig_log "port $port was taken; retrying with another"
            continue
        fi
        cat "$dir/pg_ctl.log" "$base/server.log" >&2
        rig_die "PostgreSQL did not start (logs above)"
    done
    [ "$up" = 1 ] || rig_die "could not start PostgreSQL (port conflicts)"

    "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c 'SELECT 1' >/dev/null || rig_die "cannot connect to PostgreSQL on 127.0.0.1:$port"

    {
        printf 'PG_PORT=%q\n' "$port"
        printf 'PG_SOCKET_DIR=%q\n' "$sockdir"
        printf 'PG_DATADIR=%q\n' "$datadir"
        printf 'PG_BINDIR=%q\n' "$bindir"
        printf 'PG_DSN=%q\n' "postgres://postgres@127.0.0.1:$port/postgres"
    } >"$dir/env.tmp"
    mv "$dir/env.tmp" "$dir/env"
    rig_log "postgresql $("$bindir/psql" -X -At -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c 'SHOW server_version')" "up on 127.0.0.1:$port (data in $datadir)"
}

case "$cmd" in
start) do_start ;;
stop) do_stop ;;
*) usage ;;
esac
