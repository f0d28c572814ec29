#!/usr/bin/env bash
# A throwaway MariaDB server on loopback, from the Debian packages.
#
#   tests/rig/mariadb.sh start DIR   install mariadb-server if needed, start a
#                                    server with its data in DIR, write DIR/env
#   tests/rig/mariadb.sh stop DIR    shut it down and remove DIR
#
# DIR/env holds shell assignments for the tests:
#   MARIADB_PORT MARIADB_SOCKET MARIADB_DATADIR MARIADB_PID MARIADB_ERRLOG MARIADB_DSN
#   LIVEMIG_TEST_MYSQL_DSN
# MARIADB_DSN is mysql://root@127.0.0.1:PORT/test (root has no password);
# LIVEMIG_TEST_MYSQL_DSN is the same, the name the docker-compose rig uses.
#
# Environment: MARIADB_RIG_NO_BINLOG=1 starts the server without --log-bin
# (for tests of what livemig refuses); MARIADB_RIG_ARGS adds mariadbd options.
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

client() {
    mariadb --no-defaults --protocol=socket --socket="$sock" -uroot "$@"
}

do_stop() {
    [ -d "$dir" ] || return 0
    local sock pidfile=$dir/pid i
    sock=$(cat "$dir/sockpath" 2>/dev/null || echo "$dir/sock")
    if rig_pid_alive "$pidfile"; then
        local pid
        pid=$(cat "$pidfile")
        mariadb-admin --no-defaults --protocol=socket --socket="$sock" -uroot \
            --shutdown-timeout=30 shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        for i in $(seq 1 300); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            rig_log "mariadbd $pid did not stop in 60 s; killing it"
            kill -9 "$pid" 2>/dev/null || true
            sleep 0.5
        fi
    fi
    local sockdir
    sockdir=$(cat "$dir/sockdir" 2>/dev/null || true)
    [ -n "$sockdir" ] && rm -rf "$sockdir"
    rm -rf "$dir"
}

do_start() {
    command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] ||
        rig_need_pkgs mariadb-server mariadb-client
    command -v mariadb >/dev/null 2>&1 || rig_need_pkgs mariadb-client
    export PATH="$PATH:/usr/sbin"

    # A leftover from an interrupted run: stop it and start clean.
    do_stop
    mkdir -p "$dir"

    # Unix socket paths are limited to 107 bytes.
    sock=$dir/sock
    if [ ${#sock} -gt 100 ]; then
        local sockdir
        sockdir=$(mktemp -d /tmp/lm-mariadb.XXXXXX)
        echo "$sockdir" >"$dir/sockdir"
        sock=$sockdir/sock
    fi
    echo "$sock" >"$dir/sockpath"

    local asroot=()
    [ "$(id -u)" -eq 0 ] && asroot=(--user=root)

    if ! mariadb-install-db --no-defaults --datadir="$dir/data" "${asroot[@]}" \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
        >"$dir/install.log" 2>&1; then
        cat "$dir/install.log" >&2
        rig_die "mariadb-install-db failed (log above)"
    fi

    local binlog=(--log-bin="$dir/data/mysql-bin" --binlog-format=ROW --binlog-row-image=FULL)
    [ "${MARIADB_RIG_NO_BINLOG:-0}" = 1 ] && binlog=(--skip-log-bin)
    local extra=()
    [ -n "${MARIADB_RIG_ARGS:-}" ] && read -r -a extra <<<"$MARIADB_RIG_ARGS"

    local attempt port pid up i
    for attempt in 1 2 3; do
        port=$(rig_free_port)
        : >"$dir/error.log"
        # setsid: the server must not share the caller's process group (ctest
        # kills the group of a fixture test when it ends).
        setsid mariadbd --no-defaults --datadir="$dir/data" --socket="$sock" --port="$port" \
            --bind-address=127.0.0.1 --server-id=1 "${binlog[@]}" \
            --pid-file="$dir/pid" "${asroot[@]}" --innodb-buffer-pool-size=256M \
            --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --skip-name-resolve \
            --max-connections=200 --character-set-server=utf8mb4 \
            --collation-server=utf8mb4_general_ci --log-error="$dir/error.log" "${extra[@]}" \
            </dev/null >/dev/null 2>&1 &
        pid=$!
        up=0
        for i in $(seq 1 300); do
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            if mariadb-admin --no-defaults --protocol=socket --socket="$sock" -uroot \
                --connect-timeout=2 ping >/dev/null 2>&1; then
                up=1
                break
            fi
            sleep 0.2
        done
        [ "$up" = 1 ] && break
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null || true
            cat "$dir/error.log" >&2
            rig_die "mariadbd did not answer within 60 s (error log above)"
        fi
        if grep -q -i 'bind on tcp/ip port\|address already in use' "$dir/error.log"; then
            rig_log "port $port was taken; retrying with another"
            continue
        fi
        cat "$dir/error.log" >&2
        rig_die "mariadbd exited during startup (error log above)"
    done
    [ "$up" = 1 ] || rig_die "could not start mariadbd (port conflicts)"
    [ -s "$dir/pid" ] || echo "$pid" >"$dir/pid"

    # The test database, and no anonymous accounts (they would shadow the
    # accounts tests create, e.g. limited@'%').
    client -e "CREATE DATABASE IF NOT EXISTS test;
               DELETE FROM mysql.global_priv WHERE User = '';
               FLUSH PRIVILEGES;"
    # The DSN user must work over TCP as well.
    mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot -e 'SELECT 1' test \
        >/dev/null || rig_die "root cannot connect over TCP to 127.0.0.1:$port"

    {
        printf 'MARIADB_PORT=%q\n' "$port"
        printf 'MARIADB_SOCKET=%q\n' "$sock"
        printf 'MARIADB_DATADIR=%q\n' "$dir/data"
        printf 'MARIADB_PID=%q\n' "$(cat "$dir/pid")"
        printf 'MARIADB_ERRLOG=%q\n' "$dir/error.log"
        printf 'MARIADB_DSN=%q\n' "mysql://root@127.0.0.1:$port/test"
        printf 'LIVEMIG_TEST_MYSQL_DSN=%q\n' "mysql://root@127.0.0.1:$port/test"
    } >"$dir/env.tmp"
    mv "$dir/env.tmp" "$dir/env"
    rig_log "mariadb $(client -N -e 'SELECT VERSION()') up on 127.0.0.1:$port (data in $dir/data)"
}

case "$cmd" in
start) do_start ;;
stop) do_stop ;;
*) usage ;;
esac
