#!/usr/bin/env bash
# livemig against pg_repack on PostgreSQL, in one run, on fresh copies of the
# same table (not a ctest test: timings vary).
#
#   bench/pg_repack_bench.sh [--rows N] [--build DIR]   (defaults: 1000000, build)
#
# Starts a throwaway PostgreSQL of its own (tests/rig/postgres.sh, stopped at
# the end), installs the pg_repack package for its version
# (postgresql-NN-repack) if it is missing, builds a table t (bigint key, an
# indexed int, two text columns, like pgbench_accounts/sysbench) of N rows
# once as src, and times, each on a fresh copy of src:
#   (a) pg_repack --table t    (a full rewrite: triggers + log table, swap of
#                               relfilenodes under a short exclusive lock)
#   (b) livemig migrate --alter 'ADD COLUMN x int' --execute --drop-old
#       (logical slot, chunked copy, apply, rename swap)
# first idle, then under a light pgbench update load (LOAD_CLIENTS clients,
# RATE updates/s of random rows in total). During every run a probe client
# (pgbench, 1 client, one single-row UPDATE of t every 10 ms, each
# transaction's latency logged) measures how long writes stall: the "stall"
# column is the largest probe latency over exactly the tool's run, i.e. the
# worst write stall an application saw (lock waits at the swap, pg_repack's
# initial lock, ...). For livemig the "writes were blocked for N ms" of its
# own cutover log line is printed as well. After every run t must still have
# N rows (and x for livemig), or the script fails.
#
# Environment: RATE (load updates/s, default 200), LOAD_CLIENTS (default 2),
# WARMUP (seconds of load before a tool starts, default 2), IDLE_ONLY=1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rows=1000000
build=$here/build
while [ $# -gt 0 ]; do
    case "$1" in
    --rows) rows=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h | --help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--rows N] [--build DIR]" >&2; exit 2 ;;
    esac
done
case "$build" in /*) ;; *) build=$PWD/$build ;; esac
rate=${RATE:-200}
load_clients=${LOAD_CLIENTS:-2}
warmup=${WARMUP:-2}
LIVEMIG=$build/livemig
[ -x "$LIVEMIG" ] || { echo "no $LIVEMIG: build first" >&2; exit 2; }
# shellcheck source=tests/rig/common.sh
. "$here/tests/rig/common.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/lm-pgrepack.XXXXXX")
rig=$work/rig
LOAD_PID=
PROBE_PID=
cleanup() {
    [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
    [ -n "$PROBE_PID" ] && { touch "$work/probe.stop"; kill "$PROBE_PID" 2>/dev/null; }
    wait 2>/dev/null
    "$here/tests/rig/postgres.sh" stop "$rig" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
die() {
    echo "FAILED: $*" >&2
    exit 1
}
now() { date +%s.%N; }
calc() { python3 -c "print(round($1, 2))"; }

# ---- the server and pg_repack for its version
"$here/tests/rig/postgres.sh" start "$rig" 2>"$work/rig.log" || { cat "$work/rig.log" >&2; die "rig"; }
# shellcheck source=/dev/null
. "$rig/env"
major=$(basename "$(dirname "$PG_BINDIR")")
if [ ! -x "$PG_BINDIR/pg_repack" ] && ! command -v pg_repack >/dev/null; then
    rig_need_pkgs "postgresql-$major-repack"
fi
PG_REPACK=$PG_BINDIR/pg_repack
[ -x "$PG_REPACK" ] || PG_REPACK=$(command -v pg_repack) || die "pg_repack is not installed"
DB=bench
DSN="postgres://postgres@127.0.0.1:$PG_PORT/$DB"
psql_() {
    "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}
sql() {
    PGOPTIONS='-c client_min_messages=warning' psql_ -d "$DB" <<<"$1"
}
psql_ -d postgres -c "CREATE DATABASE $DB" >/dev/null
sql "CREATE EXTENSION pg_repack" >/dev/null
echo "postgresql $(sql 'SHOW server_version'), $("$PG_REPACK" --version), $("$LIVEMIG" --version | head -n 1)"

# ---- the source table, built once; every run starts from a copy of it
t0=$(now)
sql "CREATE TABLE src (id bigint PRIMARY KEY, k int NOT NULL DEFAULT 0,
       c text NOT NULL DEFAULT '', pad text NOT NULL DEFAULT '');
     INSERT INTO src SELECT g, 1 + (g::bigint * 7919) % $rows,
       md5(g::text) || md5((g * 3)::text) || md5((g * 7)::text),
       md5((g * 11)::text) || md5((g * 13)::text)
     FROM generate_series(1::bigint, $rows) g;
     CREATE INDEX src_k ON src (k);
     VACUUM ANALYZE src;" >/dev/null
echo "source table: $rows rows, $(sql "SELECT pg_size_pretty(pg_total_relation_size('src'))"), built in $(calc "$(now) - $t0") s"

# reload: a fresh t (and nothing left of earlier runs)
reload() {
    sql "DROP TABLE IF EXISTS t, _t_old, _t_new CASCADE;
         CREATE TABLE t (LIKE src INCLUDING ALL);
         INSERT INTO t SELECT * FROM src;
         VACUUM ANALYZE t;
         CHECKPOINT;" >/dev/null
}
# check WHAT [COLUMN]: t has N rows (and COLUMN)
check() {
    local got
    got=$(sql "SELECT count(*) FROM t")
    [ "$got" = "$rows" ] || die "$1: t has $got rows, expected $rows"
    if [ -n "${2:-}" ]; then
        [ "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = '$2'")" = 1 ] ||
            die "$1: t has no column $2"
    fi
    [ "$(sql "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'livemig%'")" = 0 ] ||
        die "$1: a livemig slot was left"
}

# ---- the probe: one UPDATE of t every 10 ms, per-transaction latency log.
# Runs as 2-second pgbench runs until stopped, because pgbench writes its
# log only when it ends normally.
cat >"$work/probe.sql" <<'EOF'
\set id random(1, :rows)
UPDATE t SET k = k + 1 WHERE id = :id;
EOF
cat >"$work/load.sql" <<'EOF'
\set id random(1, :rows)
\set d random(-5, 5)
UPDATE t SET k = k + :d, c = md5(random()::text) WHERE id = :id;
EOF
pgbench_() {
    "$PG_BINDIR/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M simple "$@" "$DB"
}
probe_start() {
    local name=$1
    rm -f "$work/probe.stop"
    mkdir -p "$work/$name.probe"
    (
        seg=0
        while [ ! -e "$work/probe.stop" ]; do
            seg=$((seg + 1))
            pgbench_ -c 1 -j 1 -T 2 --rate 100 -f "$work/probe.sql" -D "rows=$rows" \
                -l --log-prefix="$work/$name.probe/seg$seg" >>"$work/$name.probe/out" 2>&1 || true
        done
    ) &
    PROBE_PID=$!
    sleep 0.5
}
probe_stop() {
    touch "$work/probe.stop"
    wait "$PROBE_PID" 2>/dev/null || true
    PROBE_PID=
}
# stall NAME: "max_ms count" of the probe transactions that ended in NAME's window
stall() {
    python3 - "$work/$1.probe" "$work/$1.window" <<'PY'
import glob, os, sys
t0, t1 = (float(x) for x in open(sys.argv[2]).read().split())
lat = []
for f in glob.glob(os.path.join(sys.argv[1], "seg*")):
    for line in open(f):
        p = line.split()
        # client_id transaction_no time script_no time_epoch time_us [schedule_lag]
        if len(p) < 6 or p[2] in ("skipped", "failed"):
            continue
        end = int(p[4]) + int(p[5]) / 1e6
        if t0 <= end <= t1 + 60:
            # a transaction that ended after the tool but started in its
            # window counts too (it waited on the tool's lock)
            if end - int(p[2]) / 1e6 <= t1:
                lat.append(int(p[2]) / 1000.0)
print("%.0f %d" % (max(lat), len(lat)) if lat else "- 0")
PY
}

load_start() {
    # (pgbench itself in the background, not a function: $! must be its pid)
    "$PG_BINDIR/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M simple -c "$load_clients" -j 1 \
        -T 100000 --rate "$rate" -f "$work/load.sql" -D "rows=$rows" "$DB" >"$work/$1.load" 2>&1 &
    LOAD_PID=$!
    sleep "$warmup"
    kill -0 "$LOAD_PID" 2>/dev/null || { cat "$work/$1.load" >&2; die "the pgbench load did not start"; }
}
load_stop() {
    # (SIGTERM: a background job of a script ignores SIGINT; the load's
    # summary is not needed, its errors are printed as they happen)
    kill "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
    LOAD_PID=
    ! grep -qiE 'aborted|error' "$work/$1.load" || { cat "$work/$1.load" >&2; die "$1: the load saw errors"; }
}

# timed NAME CMD…: run CMD; wall seconds into $work/NAME.wall, window into .window
timed() {
    local name=$1 t0 t1 rc=0
    shift
    t0=$(now)
    "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    t1=$(now)
    calc "$t1 - $t0" >"$work/$name.wall"
    echo "$t0 $t1" >"$work/$name.window"
    if [ "$rc" -ne 0 ]; then
        cat "$work/$name.out" "$work/$name.err" >&2
        die "$name exited with $rc (output above)"
    fi
}
run_repack() {
    timed "$1" "$PG_REPACK" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$DB" --table=public.t \
        --elevel=WARNING --wait-timeout=60
}
run_livemig() {
    timed "$1" "$LIVEMIG" migrate --dsn "$DSN" --table t --alter 'ADD COLUMN x int' --execute \
        --drop-old --progress-interval 1
}

declare -A WALL STALL BLOCKED
# one MODE TOOL: a fresh t, the probe (and the load), the tool, the checks
one() {
    local mode=$1 tool=$2 name="$1-$2"
    reload
    [ "$mode" = load ] && load_start "$name"
    probe_start "$name"
    case "$tool" in
    pg_repack) run_repack "$name" ;;
    livemig) run_livemig "$name" ;;
    esac
    sleep 0.5
    probe_stop
    [ "$mode" = load ] && load_stop "$name"
    if [ "$tool" = livemig ]; then
        check "$name" x
        BLOCKED[$name]=$(sed -n 's/.*writes were blocked for \([0-9]*\) ms.*/\1/p' "$work/$name.err" | tail -n 1)
    else
        check "$name"
    fi
    WALL[$name]=$(cat "$work/$name.wall")
    read -r max n < <(stall "$name")
    STALL[$name]=$max
    printf '  %-5s %-9s %8s s  %10s rows/s  stall %6s ms (%s probes)%s\n' "$mode" "$tool" "${WALL[$name]}" \
        "$(python3 -c "print(int($rows / max(${WALL[$name]}, 0.01)))")" "$max" "$n" \
        "${BLOCKED[$name]:+, livemig says writes blocked ${BLOCKED[$name]} ms}"
}

modes=(idle)
[ "${IDLE_ONLY:-0}" = 1 ] || modes+=(load)
echo "runs ($rows rows; load: $load_clients clients, $rate updates/s; probe: 1 update/10 ms):"
for mode in "${modes[@]}"; do
    one "$mode" pg_repack
    one "$mode" livemig
done

ratio() { python3 -c "a, b = '$1', '$2'
print('-' if '-' in (a, b) or float(b) == 0 else '%.2f' % (float(a) / float(b)))"; }
echo
printf '%-6s %10s %10s %10s %10s %14s\n' mode "repack s" "livemig s" "wall ×" "stall ×" "stall ms r/l"
for mode in "${modes[@]}"; do
    printf '%-6s %10s %10s %10s %10s %14s\n' "$mode" "${WALL[$mode-pg_repack]}" "${WALL[$mode-livemig]}" \
        "$(ratio "${WALL[$mode-livemig]}" "${WALL[$mode-pg_repack]}")" \
        "$(ratio "${STALL[$mode-livemig]}" "${STALL[$mode-pg_repack]}")" \
        "${STALL[$mode-pg_repack]}/${STALL[$mode-livemig]}"
done
echo "(× = livemig / pg_repack; stall = the longest single-row UPDATE of the probe during the run)"
