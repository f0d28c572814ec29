#!/usr/bin/env bash
# A throwaway MariaDB server on loopback, from the Debian packages.
#
#   tests/rig/mariadb.sh start DIR   install mariadb-server if needed, start a
#                                    server with its data in DIR, write DIR/env
#   tests/rig/mariadb.sh stop DIR    shut it down and remove DIR
#   tests/rig/mariadb.sh start-replica DIR PRIMARY_DIR
#                                    start a server in DIR that replicates the
#                                    rig server of PRIMARY_DIR (GTID,
#                                    slave_pos, from the primary's first binlog:
#                                    start it before the primary has much data);
#                                    it reports itself to the primary
#                                    (SHOW SLAVE HOSTS) and writes DIR/env
#   tests/rig/mariadb.sh restart DIR [--crash] [--down SECONDS]
#                                    shut the server down (--crash: kill -9 it)
#                                    and start it again on the same datadir,
#                                    port and socket after SECONDS (default 0)
#                                    of downtime; DIR/env stays valid (only
#                                    MARIADB_PID changes)
#
# Several servers may run at once, each with its own DIR and a free port.
#
# DIR/env holds shell assignments for the tests:
#   MARIADB_PORT MARIADB_SOCKET MARIADB_DATADIR MARIADB_PID MARIADB_ERRLOG MARIADB_DSN
#   LIVEMIG_TEST_MYSQL_DSN
# MARIADB_DSN is mysql://root@127.0.0.1:PORT/test (root has no password);
# LIVEMIG_TEST_MYSQL_DSN is the same, the name the docker-compose rig uses.
#
# Environment (start): MARIADB_RIG_NO_BINLOG=1 starts the server without
# --log-bin (for tests of what livemig refuses); MARIADB_RIG_NO_PFS=1
# without performance_schema (it is on, with the metadata-lock instrument,
# by default); MARIADB_RIG_ARGS adds mariadbd options. restart reuses the
# options start was given.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
    echo "usage: $0 start|stop DIR" >&2
    echo "       $0 start-replica DIR PRIMARY_DIR" >&2
    echo "       $0 restart DIR [--crash] [--down SECONDS]" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
crash=0
down=0
primary=
if [ "$cmd" = start-replica ]; then
    [ $# -ge 1 ] || usage
    primary=$1
    shift
fi
while [ $# -gt 0 ]; do
    case "$cmd:$1" in
    restart:--crash) crash=1 ;;
    restart:--down)
        [ $# -ge 2 ] || usage
        down=$2
        shift
        ;;
    *) usage ;;
    esac
    shift
done
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
sock=$(cat "$dir/sockpath" 2>/dev/null || echo "$dir/sock")

client() {
    mariadb --no-defaults --protocol=socket --socket="$sock" -uroot "$@"
}

# Stop the server of $dir and wait until it is gone: a clean shutdown, or
# kill -9 with --crash (or when the shutdown takes longer than 60 s).
stop_server() {
    local pid i
    rig_pid_alive "$dir/pid" || return 0
    pid=$(cat "$dir/pid")
    if [ "$crash" = 1 ]; then
        kill -9 "$pid" 2>/dev/null || true
    else
        mariadb-admin --no-defaults --protocol=socket --socket="$sock" -uroot \
            --shutdown-timeout=30 shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    fi
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    rig_log "mariadbd $pid did not stop in 60 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
    sleep 0.5
}

do_stop() {
    [ -d "$dir" ] || return 0
    stop_server
    local sockdir
    sockdir=$(cat "$dir/sockdir" 2>/dev/null || true)
    [ -n "$sockdir" ] && rm -rf "$sockdir"
    rm -rf "$dir"
}

# launch PORT: start mariadbd with the options saved in $dir/mariadbd.args on
# PORT and wait until it answers. 0 = up; 1 = it exited during startup (its
# messages are in $dir/error.last). Dies when it runs but does not answer
# within 60 s.
launch() {
    local port=$1 args pid i mark
    mapfile -t args <"$dir/mariadbd.args"
    touch "$dir/error.log"
    mark=$(wc -c <"$dir/error.log")
    rm -f "$dir/pid"
    # setsid: the server must not share the caller's process group (ctest
    # kills the group of a fixture test when it ends).
    # A replica reports its own port to its primary (SHOW SLAVE HOSTS).
    [ -e "$dir/replica" ] && args+=(--report-host=127.0.0.1 --report-port="$port")
    setsid mariadbd --no-defaults "${args[@]}" --port="$port" --pid-file="$dir/pid" \
        --log-error="$dir/error.log" </dev/null >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -c +"$((mark + 1))" "$dir/error.log" >"$dir/error.last"
            return 1
        fi
        if mariadb-admin --no-defaults --protocol=socket --socket="$sock" -uroot \
            --connect-timeout=2 ping >/dev/null 2>&1; then
            [ -s "$dir/pid" ] || echo "$pid" >"$dir/pid"
            echo "$port" >"$dir/port"
            return 0
        fi
        sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
    cat "$dir/error.log" >&2
    rig_die "mariadbd did not answer within 60 s (error log above)"
}

# 0 if the last launch failed because its port was taken.
port_was_taken() {
    grep -q -i 'bind on tcp/ip port\|address already in use' "$dir/error.last"
}

write_env() {
    local port
    port=$(cat "$dir/port")
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
    # The metadata-lock instrument lets the cutover see the rename queued on
    # the table exactly (src/mysql/cutover.c); MARIADB_RIG_NO_PFS=1 tests
    # the fallback without it.
    local pfs=(--performance-schema=ON --performance-schema-instrument='wait/lock/metadata/sql/mdl=ON')
    [ "${MARIADB_RIG_NO_PFS:-0}" = 1 ] && pfs=(--performance-schema=OFF)
    local extra=()
    [ -n "${MARIADB_RIG_ARGS:-}" ] && read -r -a extra <<<"$MARIADB_RIG_ARGS"
    # Every option but the port, one per line: restart starts the same server.
    local server_id=1
    if [ -n "$primary" ]; then
        touch "$dir/replica"
        server_id=$((2 + RANDOM % 100000))
    fi
    printf '%s\n' --datadir="$dir/data" --socket="$sock" --bind-address=127.0.0.1 \
        --server-id="$server_id" "${binlog[@]}" "${asroot[@]}" --innodb-buffer-pool-size=256M \
        --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --skip-name-resolve \
        --max-connections=200 --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_general_ci "${pfs[@]}" "${extra[@]}" >"$dir/mariadbd.args"

    local port
    for _ in 1 2 3; do
        port=$(rig_free_port)
        launch "$port" && break
        if port_was_taken; then
            rig_log "port $port was taken; retrying with another"
            continue
        fi
        cat "$dir/error.last" >&2
        rig_die "mariadbd exited during startup (error log above)"
    done
    [ -s "$dir/port" ] || rig_die "could not start mariadbd (port conflicts)"

    # The test database, and no anonymous accounts (they would shadow the
    # accounts tests create, e.g. limited@'%').
    client -e "CREATE DATABASE IF NOT EXISTS test;
               DELETE FROM mysql.global_priv WHERE User = '';
               FLUSH PRIVILEGES;"
    # The DSN user must work over TCP as well.
    mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot -e 'SELECT 1' test \
        >/dev/null || rig_die "root cannot connect over TCP to 127.0.0.1:$port"

    if [ -n "$primary" ]; then
        local pport
        pport=$(cat "$primary/port" 2>/dev/null) || rig_die "$primary is not a running rig"
        client -e "CHANGE MASTER TO master_host = '127.0.0.1', master_port = $pport,
                   master_user = 'root', master_use_gtid = slave_pos,
                   master_heartbeat_period = 1;
                   START SLAVE"
        for _ in $(seq 1 100); do
            [ "$(client -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST
                               WHERE USER = 'system user'")" -ge 2 ] && break
            sleep 0.1
        done
    fi
    write_env
    rig_log "mariadb $(client -N -e 'SELECT VERSION()') up on 127.0.0.1:$port (data in $dir/data)${primary:+, replica of $primary}"
}

do_restart() {
    export PATH="$PATH:/usr/sbin"
    if [ ! -r "$dir/env" ] || [ ! -r "$dir/mariadbd.args" ] || [ ! -r "$dir/port" ]; then
        rig_die "$dir is not a rig started by $0 start"
    fi
    rig_pid_alive "$dir/pid" || rig_die "the server of $dir is not running"
    local port t0=$SECONDS i
    port=$(cat "$dir/port")
    stop_server
    sleep "$down"
    # The port is free again unless another process took it meanwhile.
    for i in $(seq 1 20); do
        launch "$port" && break
        port_was_taken || {
            cat "$dir/error.last" >&2
            rig_die "mariadbd exited during the restart (error log above)"
        }
        [ "$i" -lt 20 ] || rig_die "port $port stayed busy; cannot restart the server"
        rig_log "port $port is busy; trying again"
        sleep 0.5
    done
    write_env
    rig_log "mariadb restarted on 127.0.0.1:$port (pid $(cat "$dir/pid"), $((SECONDS - t0)) s)"
}

case "$cmd" in
start | start-replica) do_start ;;
stop) do_stop ;;
restart) do_restart ;;
*) usage ;;
esac
