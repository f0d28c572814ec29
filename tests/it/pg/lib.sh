# shellcheck shell=bash
# Helpers for the PostgreSQL integration tests (tests/it/pg/test_*.sh).
# Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# ctest passes LIVEMIG (the binary), PG_RIG_DIR (a running
# tests/rig/postgres.sh server), TOOLS_DIR and SRC_DIR. To run one test by
# hand:
#   tests/rig/postgres.sh start /tmp/pgrig
#   LIVEMIG=build/livemig PG_RIG_DIR=/tmp/pgrig TOOLS_DIR=build/tests SRC_DIR=$PWD \
#       bash tests/it/pg/test_pg_migrate.sh
#
# Every test gets a database of its own, lm_<name> (test_pg_migrate.sh ->
# lm_pg_migrate), created here and dropped when the test exits, so tests
# never see each other's tables, publications or slots. Reporting, the exit
# handler and waiting for a background run come from tests/it/harness.sh,
# shared with tests/it/lib.sh (which needs a MariaDB server, so it is not
# sourced here).
set -euo pipefail

: "${LIVEMIG:?LIVEMIG must name the livemig binary}"
: "${PG_RIG_DIR:?PG_RIG_DIR must name a directory started by tests/rig/postgres.sh}"
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
# TOOLS_DIR is part of the ctest interface for symmetry with the MariaDB
# tests; nothing here needs a compiled helper (pgbench is the workload).
TOOLS_DIR=${TOOLS_DIR:-}

[ -x "$LIVEMIG" ] || {
    echo "FAIL: livemig binary $LIVEMIG is missing" >&2
    exit 1
}
[ -r "$PG_RIG_DIR/env" ] || {
    echo "FAIL: $PG_RIG_DIR/env is missing: is the PostgreSQL rig running?" >&2
    exit 1
}
# PG_PORT PG_SOCKET_DIR PG_DATADIR PG_BINDIR PG_DSN
# shellcheck source=/dev/null
. "$PG_RIG_DIR/env"
for _b in psql pgbench; do
    [ -x "$PG_BINDIR/$_b" ] || {
        echo "FAIL: $PG_BINDIR/$_b is missing (package postgresql-15 or newer)" >&2
        exit 1
    }
done
unset _b

WORKLOAD_LOG_TITLE='workload (pgbench) output'
. "$SRC_DIR/tests/it/harness.sh"

PGDB=lm_${TEST_NAME#test_}
PG_HOST=127.0.0.1
# The DSN livemig gets: the test's own database, as the superuser.
DSN="postgres://postgres@$PG_HOST:$PG_PORT/$PGDB"
# Make sure timestamps print the same way in every session (comparisons are
# done in SQL anyway; this only keeps failure output readable).
export PGTZ=UTC

# ------------------------------------------------------------ SQL

# psql against the test database as PG_USER (default postgres): no psqlrc,
# quiet, unaligned, tab-separated, no headers, stop at the first error.
# Usage: pg "STATEMENTS"   or   pg <file.sql   (extra psql options after
# the SQL, e.g. pg "SELECT :'x'" -v x=1). Statements are sent one by one
# (through stdin, not -c), each in its own transaction unless BEGIN is used.
pg() {
    local sql=${1-}
    [ $# -gt 0 ] && shift
    if [ -n "$sql" ]; then
        _psql "$PGDB" "$@" <<<"$sql"
    else
        _psql "$PGDB" "$@"
    fi
}

# pg_admin "SQL": the same against the maintenance database postgres.
pg_admin() {
    _psql postgres <<<"$1"
}

_psql() {
    local db=$1
    shift
    # (notices such as "does not exist, skipping" would only clutter the
    # log; PGOPTIONS is set for psql alone, never for livemig)
    PGOPTIONS='-c client_min_messages=warning' "$PG_BINDIR/psql" -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -w -h "$PG_HOST" -p "$PG_PORT" \
        -U "${PG_USER:-postgres}" -d "$db" "$@"
}

# pg_fails "SQL" REGEX WHAT: the SQL must fail with an error matching REGEX.
pg_fails() {
    local sql=$1 re=$2 what=$3 out
    if out=$(pg "$sql" 2>&1); then
        fail "$what: succeeded but should have failed (output: $out)"
    fi
    grep -qiE -- "$re" <<<"$out" || fail "$what: failed, but not with /$re/: $out"
}

# Quote a string as an SQL literal.
sql_str() {
    printf "'%s'" "${1//\'/\'\'}"
}

# ------------------------------------------------------------ the database and roles

_PG_ROLES=()

# Drop the test database with everything in it: first the replication
# slots bound to it (a logical slot keeps DROP DATABASE from working; a
# walsender still using one is terminated first), then the roles the test
# made (they may own objects in the database, so they go after it).
_pg_drop_db() {
    local _ r
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        pg_admin "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
                  WHERE database = '$PGDB' AND active_pid IS NOT NULL" >/dev/null 2>&1
        pg_admin "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                  WHERE database = '$PGDB' AND NOT active" >/dev/null 2>&1
        [ "$(pg_admin "SELECT count(*) FROM pg_replication_slots WHERE database = '$PGDB'" 2>/dev/null)" = 0 ] &&
            break
        sleep 0.5
    done
    pg_admin "DROP DATABASE IF EXISTS \"$PGDB\" WITH (FORCE)" >/dev/null ||
        log "warning: could not drop database $PGDB"
    for r in "${_PG_ROLES[@]}"; do
        pg_admin "DROP ROLE IF EXISTS \"$r\"" >/dev/null || log "warning: could not drop role $r"
    done
}

# A leftover of an earlier run that was killed goes first.
_pg_drop_db
pg_admin "CREATE DATABASE \"$PGDB\"" >/dev/null || fail "cannot create database $PGDB"
at_exit _pg_drop_db

# pg_role NAME 'ATTRIBUTES': create a cluster role (e.g. 'LOGIN'), dropped
# when the test exits, after the database. Prints nothing.
pg_role() {
    local name=$1 attrs=${2:-NOLOGIN}
    _PG_ROLES+=("$name")
    pg_admin "DROP ROLE IF EXISTS \"$name\"; CREATE ROLE \"$name\" $attrs" >/dev/null ||
        fail "cannot create role $name"
    pg "GRANT CONNECT, CREATE ON DATABASE \"$PGDB\" TO \"$name\"; GRANT ALL ON SCHEMA public TO \"$name\""
}

# ------------------------------------------------------------ catalog helpers

table_exists() {
    [ "$(pg "SELECT to_regclass($(sql_str "$1")) IS NOT NULL")" = t ]
}

# Helper tables of T livemig may create (_T_…), one per line.
helper_tables() {
    pg "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
          AND c.relname LIKE $(sql_str "\\_$1\\_%") ORDER BY 1"
}

# The columns of T (name type), one per line, in order.
table_columns() {
    pg "SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute
        WHERE attrelid = $(sql_str "$1")::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
}

# Slots and publications livemig made (livemig%) in the test database.
livemig_slots() {
    pg "SELECT slot_name FROM pg_replication_slots
        WHERE slot_name LIKE 'livemig%' AND database = current_database() ORDER BY 1"
}
livemig_publications() {
    pg "SELECT pubname FROM pg_publication WHERE pubname LIKE 'livemig%' ORDER BY 1"
}

# assert_no_leftovers WHAT [T]: no livemig slot or publication is left and,
# given T, no _T_new (nor any other _T_… but _T_old).
assert_no_leftovers() {
    local what=$1 t=${2:-} s p h
    s=$(livemig_slots)
    p=$(livemig_publications)
    [ -z "$s" ] || fail "$what: replication slot(s) left behind: $(tr '\n' ' ' <<<"$s")"
    [ -z "$p" ] || fail "$what: publication(s) left behind: $(tr '\n' ' ' <<<"$p")"
    if [ -n "$t" ]; then
        h=$(helper_tables "$t" | grep -vx "_${t}_old" || true)
        [ -z "$h" ] || fail "$what: helper table(s) left behind: $(tr '\n' ' ' <<<"$h")"
    fi
}

# table_fingerprint T: one text naming T's identity (oid), definition
# (columns, constraints, indexes, triggers, replica identity, owner, ACL)
# and a checksum of its rows, to see that a refused or interrupted run left
# it exactly as it was.
table_fingerprint() {
    local r
    r=$(sql_str "$1")
    pg "SELECT concat_ws(E'\n',
        'oid ' || c.oid, 'replident ' || c.relreplident::text, 'owner ' || c.relowner::regrole,
        'acl ' || coalesce(c.relacl::text, '-'),
        (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' '
                           || attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-'),
                           ', ' ORDER BY attnum)
           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
        (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname)
           FROM pg_constraint WHERE conrelid = c.oid),
        (SELECT string_agg(pg_get_indexdef(indexrelid), ', ' ORDER BY indexrelid::regclass::text)
           FROM pg_index WHERE indrelid = c.oid),
        (SELECT string_agg(tgname, ', ' ORDER BY tgname) FROM pg_trigger
          WHERE tgrelid = c.oid AND NOT tgisinternal),
        (SELECT 'rows ' || count(*) || ' md5 ' || md5(coalesce(string_agg(x, E'\n' ORDER BY x), ''))
           FROM (SELECT r::text AS x FROM ONLY $1 r) s))
      FROM pg_class c WHERE c.oid = $r::regclass"
}

# ------------------------------------------------------------ comparison

# assert_tables_equal T R 'COLUMN EXPRESSIONS' [WHAT]: the rows of T and R
# projected on the same expressions (e.g. "id, qty, md5(big)") are the same
# set, compared in one REPEATABLE READ snapshot (so it holds even while the
# workload, which changes both in one transaction, keeps running). On a
# difference prints the counts and the first differing rows of each side.
assert_tables_equal() {
    local t=$1 r=$2 cols=$3 what=${4:-$1 vs $2} out
    out=$(pg "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
        SELECT 'count', (SELECT count(*) FROM $t), (SELECT count(*) FROM $r);
        (SELECT 'only in $t', x.* FROM (SELECT $cols FROM $t EXCEPT ALL SELECT $cols FROM $r) x
          ORDER BY 2 LIMIT 10)
        UNION ALL
        (SELECT 'only in $r', y.* FROM (SELECT $cols FROM $r EXCEPT ALL SELECT $cols FROM $t) y
          ORDER BY 2 LIMIT 10);
        COMMIT;") || fail "$what: the comparison query failed"
    local counts diffs nt nr
    counts=$(head -n 1 <<<"$out")
    diffs=$(tail -n +2 <<<"$out")
    nt=$(cut -f2 <<<"$counts")
    nr=$(cut -f3 <<<"$counts")
    if [ -n "$diffs" ] || [ "$nt" != "$nr" ]; then
        {
            echo "$what: $t has $nt rows, $r has $nr rows; columns: $cols"
            echo "first differing rows (side, then the columns):"
            printf '%s\n' "$diffs" | cut -c1-400
        } >&2
        fail "$what: $t does not equal $r"
    fi
    [ "$nt" -gt 0 ] || fail "$what: $t and $r are both empty"
    pass "$what: $t equals $r ($nt rows)"
}

# ------------------------------------------------------------ livemig

# run_livemig ARGS…: runs $LIVEMIG with stdout/stderr in $WORK/livemig.out
# and .err (the stderr of earlier runs is kept as livemig.err.N); sets
# LM_RC to its exit status (never fails by itself). A run that takes longer
# than LM_TIMEOUT seconds (default 300) is stopped with SIGTERM and then
# SIGKILL and fails the test: a hung migration must not eat ctest's budget.
LM_RC=0
LM_RUNS=0
LM_TIMEOUT=${LM_TIMEOUT:-300}
run_livemig() {
    [ -s "$WORK/livemig.err" ] && cp "$WORK/livemig.err" "$WORK/livemig.err.$LM_RUNS"
    LM_RUNS=$((LM_RUNS + 1))
    log "livemig $*"
    set +e
    timeout -k 10 "$LM_TIMEOUT" "$LIVEMIG" "$@" >"$WORK/livemig.out" 2>"$WORK/livemig.err"
    LM_RC=$?
    set -e
    case "$LM_RC" in
    124 | 137) fail "livemig $1 did not finish within $LM_TIMEOUT s (killed)" ;;
    esac
}

# migrate ARGS…: livemig migrate --dsn $DSN ARGS…
migrate() {
    run_livemig migrate --dsn "$DSN" "$@"
}


# No crash or sanitizer report in livemig's stderr.
assert_no_crash() {
    if grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation|core dumped|Assertion' \
        "$WORK/livemig.err"; then
        fail "$1: livemig crashed or tripped a sanitizer"
    fi
}

# expect_refusal WHAT REGEX ARGS…: livemig migrate --dsn $DSN ARGS… must
# exit 2 with exactly one "livemig: error:" line on stderr, matching REGEX
# (case-insensitive).
expect_refusal() {
    local what=$1 re=$2 n
    shift 2
    migrate "$@"
    expect_rc 2 "$what"
    assert_no_crash "$what"
    n=$(grep -c '^livemig: error:' "$WORK/livemig.err" || true)
    [ "$n" = 1 ] || fail "$what: $n 'livemig: error:' lines on stderr, expected exactly 1"
    grep '^livemig: error:' "$WORK/livemig.err" | grep -qiE -- "$re" ||
        fail "$what: the error line does not match /$re/"
    pass "$what: refused (exit 2): $(grep -m1 '^livemig: error:' "$WORK/livemig.err")"
}

# The "writes were blocked for N ms" of the last run (fails when missing).
blocked_ms() {
    local ms
    ms=$(sed -n 's/.*writes were blocked for \([0-9][0-9]*\) ms.*/\1/p' "$WORK/livemig.err" | tail -n 1)
    [ -n "$ms" ] || fail "no 'writes were blocked for N ms' line on livemig's stderr"
    echo "$ms"
}

# ------------------------------------------------------------ a migration in the background

# migrate_bg ARGS…: livemig migrate --dsn $DSN ARGS… in the background
# (stdout/stderr in $WORK/livemig.out/.err). Sets LM_PID.
migrate_bg() {
    [ -s "$WORK/livemig.err" ] && cp "$WORK/livemig.err" "$WORK/livemig.err.$LM_RUNS"
    LM_RUNS=$((LM_RUNS + 1))
    # Emptied here, not by the redirection below: that runs in the child
    # after the fork, and a wait_stderr right after this function could
    # still read the previous run's lines.
    : >"$WORK/livemig.err"
    : >"$WORK/livemig.out"
    log "livemig migrate $* (background)"
    # (a background job of a non-interactive shell starts with SIGINT
    # ignored; env gives it back its default so a test can send SIGINT)
    env --default-signal=INT "$LIVEMIG" migrate --dsn "$DSN" "$@" \
        >"$WORK/livemig.out" 2>"$WORK/livemig.err" &
    LM_PID=$!
}
at_exit _migrate_bg_kill



# wait_stderr REGEX [SECONDS]: wait until livemig's stderr has a line
# matching the extended regex (case-insensitive).
wait_stderr() {
    local re=$1 limit=${2:-120} t0=$SECONDS
    until grep -qiE -- "$re" "$WORK/livemig.err"; do
        kill -0 "$LM_PID" 2>/dev/null || grep -qiE -- "$re" "$WORK/livemig.err" ||
            fail "livemig exited before printing /$re/"
        [ $((SECONDS - t0)) -lt "$limit" ] || fail "livemig did not print /$re/ within $limit s"
        sleep 0.1
    done
}

# ------------------------------------------------------------ workload (pgbench)

# The workload is pgbench running a custom script (written by the test)
# that changes the migrated table and its reference table in the same
# transaction. It runs as a series of short pgbench runs (segments of
# WL_SEGMENT seconds) until workload_stop: each segment ends with a full
# summary (transactions, failed transactions) and an exit status, which a
# pgbench killed in the middle would not print. Settings (environment):
#   LIVEMIG_IT_CLIENTS  clients (default 4)
#   LIVEMIG_IT_TPS      total rate in transactions/s (default 200)
WL_PID=
WL_CLIENTS=${LIVEMIG_IT_CLIENTS:-4}
WL_RATE=${LIVEMIG_IT_TPS:-200}
WL_SEGMENT=3

# workload_start SCRIPT [pgbench options…]: e.g. -D maxid=120000. The
# segments' outputs go to $WORK/wl.N.out.
workload_start() {
    local script=$1
    shift
    [ -z "$WL_PID" ] || fail "workload_start: a workload is already running"
    rm -f "$WORK/workload.stop" "$WORK"/wl.*.out "$WORK/wl.status"
    : >"$WORK/workload.log"
    (
        seg=0
        while [ ! -e "$WORK/workload.stop" ]; do
            seg=$((seg + 1))
            rc=0
            "$PG_BINDIR/pgbench" -h "$PG_HOST" -p "$PG_PORT" -U postgres -n -M simple \
                -c "$WL_CLIENTS" -j 1 -T "$WL_SEGMENT" --rate "$WL_RATE" -f "$script" "$@" \
                "$PGDB" >"$WORK/wl.$seg.out" 2>&1 &
            # (its pid, so that an early exit of the test can stop it)
            echo $! >"$WORK/wl.pgbench.pid"
            wait $! || rc=$?
            cat "$WORK/wl.$seg.out" >>"$WORK/workload.log"
            echo "$seg $rc" >>"$WORK/wl.status"
            [ "$rc" -eq 0 ] || exit "$rc"
        done
    ) &
    WL_PID=$!
    log "workload started (pgbench, $WL_CLIENTS clients, $WL_RATE tx/s, pid $WL_PID)"
}

_workload_kill() {
    if [ -n "$WL_PID" ] && kill -0 "$WL_PID" 2>/dev/null; then
        touch "$WORK/workload.stop"
        kill "$(cat "$WORK/wl.pgbench.pid" 2>/dev/null)" 2>/dev/null
        kill "$WL_PID" 2>/dev/null
        wait "$WL_PID" 2>/dev/null
    fi
    WL_PID=
}
at_exit _workload_kill

# workload_check_running: fail now if the workload has already died (a
# client aborted: pgbench ends its segment with a non-zero status).
workload_check_running() {
    [ -n "$WL_PID" ] || fail "no workload running"
    kill -0 "$WL_PID" 2>/dev/null && return 0
    workload_stop
    fail "the workload ended by itself"
}

# workload_stop: stop after the current segment; require every segment to
# have exited 0 with no aborted client, no failed transaction and no error
# message, and some transactions. Sets WL_TX (transactions processed).
workload_stop() {
    [ -n "$WL_PID" ] || fail "workload_stop: no workload running"
    touch "$WORK/workload.stop"
    local rc=0 _
    for _ in $(seq 1 $(((WL_SEGMENT + 60) * 10))); do
        kill -0 "$WL_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$WL_PID" 2>/dev/null && fail "the workload did not stop within $((WL_SEGMENT + 60)) s"
    wait "$WL_PID" || rc=$?
    WL_PID=
    local segs tx failed bad
    segs=$(wc -l <"$WORK/wl.status")
    tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK"/wl.*.out |
        awk '{s += $1} END {print s + 0}')
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK"/wl.*.out |
        awk '{s += $1} END {print s + 0}')
    log "workload: $segs segments, $tx transactions, $failed failed, exit $rc"
    # pgbench prints "client N aborted in command …" and the server's ERROR
    # for a client that hit an error (e.g. a statement that failed during
    # the cutover); such a client stops, so the data would still compare
    # equal: this is the only place the error shows.
    bad=$(grep -iE 'aborted|error|fatal|could not|terminat' "$WORK"/wl.*.out | head -n 10 || true)
    if [ -n "$bad" ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
        printf '%s\n' "$bad" >&2
        fail "the workload saw errors (pgbench exit $rc, $failed failed transactions)"
    fi
    [ "$tx" -gt 0 ] || fail "the workload committed nothing"
    # shellcheck disable=SC2034 # for the tests
    WL_TX=$tx
}
