# shellcheck shell=bash
# Helpers for the integration tests (tests/it/test_*.sh). Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# ctest passes LIVEMIG (the binary), RIG_DIR (a running tests/rig/mariadb.sh
# server; not needed when LIVEMIG_TEST_MYSQL_DSN is set), TOOLS_DIR (where
# tests/it/*.c were built) and SRC_DIR. To run one
# test by hand:
#   tests/rig/mariadb.sh start /tmp/rig
#   LIVEMIG=build/livemig RIG_DIR=/tmp/rig TOOLS_DIR=build/tests SRC_DIR=$PWD \
#       bash tests/it/test_migrate_workload.sh
set -euo pipefail

: "${LIVEMIG:?LIVEMIG must name the livemig binary}"
: "${TOOLS_DIR:?TOOLS_DIR must name the build directory of tests/it/*.c}"
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

[ -x "$LIVEMIG" ] || {
    echo "FAIL: livemig binary $LIVEMIG is missing" >&2
    exit 1
}
# The server: LIVEMIG_TEST_MYSQL_DSN when set (the docker-compose rig, see
# docker/README.md), else the local rig's $RIG_DIR/env (which sets the same
# variable). MARIADB_DSN, MARIADB_HOST, MARIADB_PORT, MARIADB_USER and
# MARIADB_PASSWORD are derived from it for livemig and the mariadb client.
if [ -n "${LIVEMIG_TEST_MYSQL_DSN:-}" ]; then
    MARIADB_DSN=$LIVEMIG_TEST_MYSQL_DSN
else
    : "${RIG_DIR:?RIG_DIR must name a directory started by tests/rig/mariadb.sh (or set LIVEMIG_TEST_MYSQL_DSN)}"
    [ -r "$RIG_DIR/env" ] || {
        echo "FAIL: $RIG_DIR/env is missing: is the MariaDB rig running?" >&2
        exit 1
    }
    # shellcheck source=/dev/null
    . "$RIG_DIR/env"
    MARIADB_DSN=${LIVEMIG_TEST_MYSQL_DSN:-$MARIADB_DSN}
fi
# mysql://USER[:PASSWORD]@HOST[:PORT][/DB]
_dsn_re='^mysql://([^:@/]+)(:([^@]*))?@([^:/]+)(:([0-9]+))?(/.*)?$'
[[ "$MARIADB_DSN" =~ $_dsn_re ]] || {
    echo "FAIL: cannot parse the test DSN $MARIADB_DSN (want mysql://USER[:PW]@HOST[:PORT]/DB)" >&2
    exit 1
}
MARIADB_USER=${BASH_REMATCH[1]}
MARIADB_PASSWORD=${BASH_REMATCH[3]}
MARIADB_HOST=${BASH_REMATCH[4]}
MARIADB_PORT=${BASH_REMATCH[6]:-3306}
unset _dsn_re

DB="test"

. "$SRC_DIR/tests/it/harness.sh"

# ------------------------------------------------------------ SQL

# mariadb client against the test server as the DSN's user, tab-separated, no column names.
# Usage: sql "STATEMENTS"   or   sql <file.sql
sql() {
    MYSQL_PWD=$MARIADB_PASSWORD mariadb --no-defaults --protocol=tcp -h"$MARIADB_HOST" \
        -P"$MARIADB_PORT" -u"$MARIADB_USER" --default-character-set=utf8mb4 --batch --skip-column-names \
        --init-command="SET time_zone = '+00:00'" "$DB" ${1:+-e "$1"}
}

# Escape a string for use inside '…' in SQL.
sql_str() {
    local s=${1//\\/\\\\}
    printf '%s' "${s//\'/\'\'}"
}

table_exists() {
    [ "$(sql "SELECT COUNT(*) FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '$(sql_str "$1")'")" = 1 ]
}

# SHOW CREATE TABLE text of $1 (without the AUTO_INCREMENT counter).
show_create() {
    sql "SHOW CREATE TABLE \`$1\`" | cut -f2- | sed -e 's/ AUTO_INCREMENT=[0-9]*//'
}

# Helper tables of $1 that livemig may create (_<t>_…), one per line.
helper_tables() {
    sql "SELECT TABLE_NAME FROM information_schema.TABLES
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE '\\_$(sql_str "$1")\\_%'
         ORDER BY TABLE_NAME"
}

# Columns of a table, one per line, in order.
table_columns() {
    sql "SELECT COLUMN_NAME FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '$(sql_str "$1")'
         ORDER BY ORDINAL_POSITION"
}

drop_tables() {
    local t list=
    for t in "$@"; do
        list+="${list:+, }\`$t\`"
    done
    sql "DROP TABLE IF EXISTS $list"
}

# ------------------------------------------------------------ tables

# The many-types table: NAME [ROWS]. Creates NAME with ROWS deterministic
# rows (default 1000), built server-side from the sequence engine.
TYPES_COLUMNS="id c_int c_tiny c_bigu c_dec c_dbl c_flt c_vu c_latin c_text c_blob c_vbin c_date c_dt c_ts c_time c_year c_enum c_set c_bit c_json"

make_types_table() {
    local t=$1 rows=${2:-1000}
    sql "DROP TABLE IF EXISTS \`$t\`;
    CREATE TABLE \`$t\` (
        id int unsigned NOT NULL,
        c_int int NULL,
        c_tiny tinyint NULL,
        c_bigu bigint unsigned NULL,
        c_dec decimal(12,3) NULL,
        c_dbl double NULL,
        c_flt float NULL,
        c_vu varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
        c_latin char(20) CHARACTER SET latin1 NULL,
        c_text text CHARACTER SET utf8mb4 NULL,
        c_blob blob NULL,
        c_vbin varbinary(32) NULL,
        c_date date NULL,
        c_dt datetime(6) NULL,
        c_ts timestamp(6) NULL DEFAULT NULL,
        c_time time(6) NULL,
        c_year year NULL,
        c_enum enum('a','b','c''q','ü') NULL,
        c_set set('x','y','z') NULL,
        c_bit bit(10) NULL,
        c_json json NULL,
        PRIMARY KEY (id),
        KEY k_int (c_int)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
    INSERT INTO \`$t\`
    SELECT seq,
        IF(seq % 13 = 0, NULL, (seq * 7919) % 2000001 - 1000000),
        seq % 256 - 128,
        IF(seq % 11 = 0, NULL, CAST(seq AS UNSIGNED) * 184467440737095),
        IF(seq % 7 = 0, NULL, (seq * 37 % 1000000000) / 1000 * IF(seq % 2, 1, -1)),
        IF(seq % 17 = 0, NULL, seq / 7e0 * IF(seq % 3, 1e-3, -1e12)),
        seq / 3e0,
        CONCAT('ναΐ ', seq, ' ☃ 😀 ', REPEAT('ß', seq % 5), IF(seq % 9 = 0, ' ', '')),
        IF(seq % 19 = 0, NULL, CONCAT('café ', seq % 1000)),
        IF(seq % 5 = 0, NULL, CONCAT(REPEAT('lorem ', seq % 7), 'é\\\\\"''\t', seq)),
        IF(seq % 23 = 0, NULL, UNHEX(CONCAT(MD5(seq), '00', SHA1(seq)))),
        UNHEX(MD5(seq * 3)),
        '1990-01-01' + INTERVAL (seq % 20000) DAY,
        TIMESTAMP'2001-02-03 04:05:06.123456' + INTERVAL seq * 1234567 MICROSECOND,
        IF(seq % 29 = 0, NULL, TIMESTAMP'2010-01-01 00:00:00' + INTERVAL seq * 987654321 MICROSECOND),
        SEC_TO_TIME(seq * 29 - 1500000 + (seq % 1000) / 1000),
        1901 + seq % 255,
        ELT(1 + seq % 4, 'a', 'b', 'c''q', 'ü'),
        MAKE_SET(seq % 8, 'x', 'y', 'z'),
        seq % 1024,
        IF(seq % 31 = 0, NULL, JSON_OBJECT('n', seq, 's', CONCAT('v', seq, 'é'), 'a', JSON_ARRAY(seq % 3, 1.5)))
    FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_$rows) AS s"
}

# Copy a table (definition and rows): clone_table SRC DST
clone_table() {
    sql "DROP TABLE IF EXISTS \`$2\`; CREATE TABLE \`$2\` LIKE \`$1\`;
         INSERT INTO \`$2\` SELECT * FROM \`$1\`"
}

# ------------------------------------------------------------ comparison

# The SELECT expression for a column: binary and BIT values as hex/numbers
# so that diffs stay readable.
col_expr() {
    local t=$1 c=$2 type
    type=$(sql "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
                AND TABLE_NAME = '$(sql_str "$t")' AND COLUMN_NAME = '$(sql_str "$c")'")
    case "$type" in
    "") fail "column $t.$c does not exist" ;;
    binary | varbinary | *blob) printf 'HEX(`%s`)' "$c" ;;
    bit) printf '`%s` + 0' "$c" ;;
    *) printf '`%s`' "$c" ;;
    esac
}

# assert_tables_equal T "T_COLS" R "R_COLS" [KEY]
# Compares SELECT T_COLS FROM T ORDER BY KEY with the same from R (column
# lists are space-separated names, pairwise: T_COLS[i] ~ R_COLS[i]; KEY
# defaults to the first column of each list). Fails with a diff.
assert_tables_equal() {
    local t=$1 r=$3 key=${5:-}
    local -a tc rc
    read -r -a tc <<<"$2"
    read -r -a rc <<<"$4"
    [ ${#tc[@]} -eq ${#rc[@]} ] || fail "assert_tables_equal: column lists differ in length"
    local te="" re="" i
    for i in "${!tc[@]}"; do
        te+="${te:+, }$(col_expr "$t" "${tc[$i]}")"
        re+="${re:+, }$(col_expr "$r" "${rc[$i]}")"
    done
    local tk=${key:-${tc[0]}} rk=${key:-${rc[0]}}
    sql "SELECT $te FROM \`$t\` ORDER BY \`$tk\`" >"$WORK/cmp.$t"
    sql "SELECT $re FROM \`$r\` ORDER BY \`$rk\`" >"$WORK/cmp.$r"
    local nt nr st sr
    nt=$(wc -l <"$WORK/cmp.$t")
    nr=$(wc -l <"$WORK/cmp.$r")
    st=$(md5sum <"$WORK/cmp.$t" | cut -d' ' -f1)
    sr=$(md5sum <"$WORK/cmp.$r" | cut -d' ' -f1)
    if [ "$nt" != "$nr" ] || [ "$st" != "$sr" ]; then
        {
            echo "tables differ: $t has $nt rows (md5 $st), $r has $nr rows (md5 $sr)"
            echo "columns: $t(${tc[*]}) vs $r(${rc[*]})"
            echo "keys only in $t:"
            comm -23 <(cut -f1 "$WORK/cmp.$t" | sort) <(cut -f1 "$WORK/cmp.$r" | sort) | head -10
            echo "keys only in $r:"
            comm -13 <(cut -f1 "$WORK/cmp.$t" | sort) <(cut -f1 "$WORK/cmp.$r" | sort) | head -10
            echo "first differing rows (< $t, > $r):"
            diff "$WORK/cmp.$t" "$WORK/cmp.$r" | head -30
        } >&2
        fail "$t does not equal reference $r"
    fi
    rm -f "$WORK/cmp.$t" "$WORK/cmp.$r"
    pass "$t equals $r ($nt rows, ${#tc[@]} columns)"
}

# ------------------------------------------------------------ livemig

# run_livemig ARGS…: runs $LIVEMIG with stdout/stderr in $WORK/livemig.out
# and .err; sets LM_RC to its exit status (never fails by itself).
LM_RC=0
run_livemig() {
    log "livemig $*"
    set +e
    "$LIVEMIG" "$@" >"$WORK/livemig.out" 2>"$WORK/livemig.err"
    LM_RC=$?
    set -e
}

# migrate ARGS…: run_livemig migrate --dsn $MARIADB_DSN ARGS…
migrate() {
    run_livemig migrate --dsn "$MARIADB_DSN" "$@"
}


# The stderr of the last run must have a line matching the extended regex
# (case-insensitive) and must not be a crash or a multi-page dump.
expect_error() {
    local re=$1 what=$2
    grep -qiE -- "$re" "$WORK/livemig.err" || fail "$what: stderr has no line matching /$re/"
    if grep -qiE 'AddressSanitizer|runtime error:|Segmentation|core dumped|assert' \
        "$WORK/livemig.err"; then
        fail "$what: livemig crashed or tripped a sanitizer"
    fi
}

# ------------------------------------------------------------ workload

WL_PID=
# workload_start TABLE REF [workload options…]: the random workload in the
# background until workload_stop.
workload_start() {
    local t=$1 r=$2
    shift 2
    rm -f "$WORK/workload.stop"
    "$TOOLS_DIR/workload" --dsn "$MARIADB_DSN" --table "$t" --ref "$r" \
        --stop-file "$WORK/workload.stop" --seconds 600 "$@" >"$WORK/workload.log" 2>&1 &
    WL_PID=$!
    log "workload started (pid $WL_PID) on $t / $r"
}

_workload_kill() {
    if [ -n "$WL_PID" ] && kill -0 "$WL_PID" 2>/dev/null; then
        kill "$WL_PID" 2>/dev/null
        wait "$WL_PID" 2>/dev/null
    fi
    WL_PID=
}
at_exit _workload_kill

# Stop the workload, require a clean exit, some commits and no divergence.
# Sets WL_SUMMARY to its summary line.
workload_stop() {
    [ -n "$WL_PID" ] || fail "workload_stop: no workload running"
    touch "$WORK/workload.stop"
    local rc=0 i
    for i in $(seq 1 600); do
        kill -0 "$WL_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$WL_PID" 2>/dev/null && fail "workload did not stop within 60 s"
    wait "$WL_PID" || rc=$?
    WL_PID=
    WL_SUMMARY=$(grep '^workload: seconds=' "$WORK/workload.log" | tail -n 1 || true)
    log "${WL_SUMMARY:-workload: no summary}"
    [ "$rc" -eq 0 ] || {
        [ "$rc" -eq 3 ] && fail "the workload saw $(workload_count diverged) statement(s) match" \
            "different rows in the table and its reference: rows were lost or invented"
        fail "workload exited $rc"
    }
    local commits
    commits=$(sed -n 's/.* commits=\([0-9]*\).*/\1/p' <<<"$WL_SUMMARY")
    [ "${commits:-0}" -gt 0 ] || fail "workload committed nothing"
}

# Value of key=N from the workload summary.
workload_count() {
    sed -n "s/.* $1=\\([0-9]*\\).*/\\1/p" <<<"$WL_SUMMARY"
}

# ------------------------------------------------------------ untouched checks

# snapshot_table T: remember T's definition, checksum and helper tables.
snapshot_table() {
    show_create "$1" >"$WORK/snap.$1.create"
    sql "CHECKSUM TABLE \`$1\`" | cut -f2 >"$WORK/snap.$1.sum"
    helper_tables "$1" >"$WORK/snap.$1.helpers"
}

# assert_untouched T WHAT: T's definition, rows and helper tables are as at
# snapshot_table.
assert_untouched() {
    local t=$1 what=$2
    show_create "$t" | cmp -s - "$WORK/snap.$t.create" || {
        printf 'before: %b\nafter:  %b\n' "$(cat "$WORK/snap.$t.create")" "$(show_create "$t")" >&2
        fail "$what: the definition of $t changed"
    }
    sql "CHECKSUM TABLE \`$t\`" | cut -f2 | cmp -s - "$WORK/snap.$t.sum" ||
        fail "$what: the rows of $t changed"
    helper_tables "$t" | cmp -s - "$WORK/snap.$t.helpers" || {
        echo "helper tables before: $(tr '\n' ' ' <"$WORK/snap.$t.helpers")" >&2
        echo "helper tables after:  $(helper_tables "$t" | tr '\n' ' ')" >&2
        fail "$what: livemig left helper tables behind"
    }
}

# expect_refusal WHAT REGEX ARGS…: livemig ARGS… must exit 2 with an error
# matching REGEX on stderr.
expect_refusal() {
    local what=$1 re=$2
    shift 2
    run_livemig "$@"
    expect_rc 2 "$what"
    expect_error "$re" "$what"
    pass "$what: refused (exit 2): $(grep -iE -m1 -- "$re" "$WORK/livemig.err")"
}

# ------------------------------------------------------------ a private server

PRIVATE_RIG=
# use_private_server: start a server of our own in $WORK/rig (tests/rig/mariadb.sh,
# stopped when the test exits) and point sql, migrate and the workload at it,
# for tests that restart or crash the server.
use_private_server() {
    PRIVATE_RIG=$WORK/rig
    at_exit "'$SRC_DIR/tests/rig/mariadb.sh' stop '$PRIVATE_RIG' >/dev/null 2>&1"
    "$SRC_DIR/tests/rig/mariadb.sh" start "$PRIVATE_RIG" 2>"$WORK/rig.log" || {
        cat "$WORK/rig.log" >&2
        fail "could not start a private server"
    }
    # shellcheck source=/dev/null
    . "$PRIVATE_RIG/env"
    MARIADB_USER=root MARIADB_PASSWORD='' MARIADB_HOST=127.0.0.1
    log "private server on port $MARIADB_PORT (pid $MARIADB_PID)"
}

# restart_private_server [--crash] [--down SECONDS]: see tests/rig/mariadb.sh restart.
restart_private_server() {
    [ -n "$PRIVATE_RIG" ] || fail "restart_private_server: no private server (use_private_server)"
    log "restarting the server $*"
    "$SRC_DIR/tests/rig/mariadb.sh" restart "$PRIVATE_RIG" "$@" 2>>"$WORK/rig.log" || {
        cat "$WORK/rig.log" >&2
        fail "could not restart the private server"
    }
    # shellcheck source=/dev/null
    . "$PRIVATE_RIG/env"
}

# ------------------------------------------------------------ a migration in the background

# migrate_bg ARGS…: livemig migrate --dsn … --control-socket $LM_SOCK ARGS… in
# the background (stdout/stderr in $WORK/livemig.out/.err; the stderr of
# earlier runs is kept in $WORK/livemig.err.N). Sets LM_PID.
LM_SOCK=$WORK/ctl.sock
LM_RUNS=0
migrate_bg() {
    [ -s "$WORK/livemig.err" ] && cp "$WORK/livemig.err" "$WORK/livemig.err.$LM_RUNS"
    LM_RUNS=$((LM_RUNS + 1))
    # Emptied here, not by the redirection below: that runs in the child
    # after the fork, and a wait_stderr right after this function could
    # still read the previous run's lines.
    : >"$WORK/livemig.err"
    : >"$WORK/livemig.out"
    log "livemig migrate $* (background, run $LM_RUNS)"
    "$LIVEMIG" migrate --dsn "$MARIADB_DSN" --control-socket "$LM_SOCK" "$@" \
        >"$WORK/livemig.out" 2>"$WORK/livemig.err" &
    LM_PID=$!
}
at_exit _migrate_bg_kill



# migrate_kill9: kill -9 the background livemig (it must still be running).
migrate_kill9() {
    kill -0 "$LM_PID" 2>/dev/null || fail "livemig exited before it could be killed"
    kill -9 "$LM_PID"
    wait "$LM_PID" 2>/dev/null || true
    log "livemig (pid $LM_PID) killed with SIGKILL"
    LM_PID=
}

# ctl COMMAND: send a control command to the background livemig.
ctl() {
    "$LIVEMIG" ctl "$LM_SOCK" "$@"
}

# lm_status: ask the background livemig for its status; sets LM_STATUS (the
# JSON), LM_STATE and LM_COPIED. 1 when it does not answer.
lm_status() {
    LM_STATUS=$("$LIVEMIG" ctl "$LM_SOCK" status 2>/dev/null) || return 1
    [[ "$LM_STATUS" =~ \"state\":\"([a-z-]+)\" ]] || return 1
    LM_STATE=${BASH_REMATCH[1]}
    [[ "$LM_STATUS" =~ \"rows_copied\":([0-9]+) ]] || return 1
    LM_COPIED=${BASH_REMATCH[1]}
}

# wait_copied N [SECONDS]: poll the status until rows_copied >= N while the
# copy goes on (default limit 120 s). Fails when livemig exits or the copy
# ends first.
wait_copied() {
    local want=$1 limit=${2:-120} t0=$SECONDS
    while [ $((SECONDS - t0)) -lt "$limit" ]; do
        kill -0 "$LM_PID" 2>/dev/null || fail "livemig exited before it had copied $want rows"
        if lm_status; then
            if [ "$LM_COPIED" -ge "$want" ]; then
                [ "$LM_STATE" = copying ] ||
                    fail "the copy ended before $want rows (state $LM_STATE, $LM_COPIED rows)"
                return 0
            fi
        fi
        sleep 0.05
    done
    fail "livemig did not copy $want rows within $limit s (last status: ${LM_STATUS:-none})"
}

# wait_state STATE [SECONDS]: poll the status until its state is STATE.
wait_state() {
    local want=$1 limit=${2:-120} t0=$SECONDS
    while [ $((SECONDS - t0)) -lt "$limit" ]; do
        kill -0 "$LM_PID" 2>/dev/null || fail "livemig exited before state $want"
        lm_status && [ "$LM_STATE" = "$want" ] && return 0
        sleep 0.1
    done
    fail "livemig never reached state $want within $limit s (last status: ${LM_STATUS:-none})"
}

# wait_stderr REGEX [SECONDS]: wait until livemig's stderr has a line matching
# the extended regex.
wait_stderr() {
    local re=$1 limit=${2:-120} t0=$SECONDS
    until grep -qE -- "$re" "$WORK/livemig.err"; do
        kill -0 "$LM_PID" 2>/dev/null || grep -qE -- "$re" "$WORK/livemig.err" ||
            fail "livemig exited before printing /$re/"
        [ $((SECONDS - t0)) -lt "$limit" ] || fail "livemig did not print /$re/ within $limit s"
        sleep 0.1
    done
}

# No crash or sanitizer report in livemig's stderr.
assert_no_crash() {
    if grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation|core dumped' \
        "$WORK/livemig.err"; then
        fail "$1: livemig crashed or tripped a sanitizer"
    fi
}

# resumed_from: the N of "resuming from checkpoint: N rows copied before" in
# the last run's stderr (fails when there is none).
resumed_from() {
    local n
    n=$(sed -n 's/.*resuming from checkpoint:.* \([0-9][0-9]*\) rows copied before.*/\1/p' \
        "$WORK/livemig.err" | head -n 1)
    [ -n "$n" ] || fail "no 'resuming from checkpoint: N rows copied before' line on stderr"
    echo "$n"
}

# drop_with_helpers T [OTHER…]: drop T, its helper tables (_T_…) and OTHER.
drop_with_helpers() {
    local -a all=("$@")
    local h
    while read -r h; do
        [ -n "$h" ] && all+=("$h")
    done < <(helper_tables "$1")
    drop_tables "${all[@]}"
}

# reload_pair BASE T R: T and R fresh copies of BASE, no helper tables of T left.
reload_pair() {
    drop_with_helpers "$2" "$3"
    clone_table "$1" "$2"
    clone_table "$1" "$3"
}

# assert_migrated T R COLUMN: the migration of T (a copy of R made with
# make_types_table) that added COLUMN is complete: T has COLUMN, the old table
# is _T_old (without it), no _T_new or _T_ckp remain, and T equals R on R's
# columns.
assert_migrated() {
    local t=$1 r=$2 c=$3
    table_columns "$t" | grep -qx "$c" || fail "$t does not have the new schema (no $c)"
    table_exists "_${t}_old" || fail "the old table _${t}_old is missing (no --drop-old)"
    ! table_columns "_${t}_old" | grep -qx "$c" || fail "_${t}_old is not the old table"
    ! table_exists "_${t}_new" || fail "_${t}_new is left behind"
    ! table_exists "_${t}_ckp" || fail "_${t}_ckp is left behind"
    assert_tables_equal "$t" "$TYPES_COLUMNS" "$r" "$TYPES_COLUMNS" id
}
