#!/usr/bin/env bash
# --max-lag on replicas: a private primary with a GTID replica of its own
# (tests/rig/mariadb.sh start-replica). livemig finds the replica with
# SHOW SLAVE HOSTS and measures its lag with a heartbeat row; stopping the
# replica's SQL thread makes the lag grow, the copy pauses (the reason names
# the replica), and it goes on once the SQL thread runs again. The migrated
# table equals the reference kept by the workload, the replica ends with the
# new schema and the same rows, and the heartbeat table is gone.
. "$(dirname "$0")/lib.sh"

use_private_server
REPLICA_RIG=$WORK/replica
at_exit "'$SRC_DIR/tests/rig/mariadb.sh' stop '$REPLICA_RIG' >/dev/null 2>&1"
"$SRC_DIR/tests/rig/mariadb.sh" start-replica "$REPLICA_RIG" "$PRIVATE_RIG" 2>"$WORK/replica.log" || {
    cat "$WORK/replica.log" >&2
    fail "could not start a replica"
}
REPLICA_PORT=$(. "$REPLICA_RIG/env" && echo "$MARIADB_PORT")
rsql() {
    mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$REPLICA_PORT" -uroot \
        --default-character-set=utf8mb4 --batch --skip-column-names test -e "$1"
}
# wait_replica SQL WANT: until the replica answers WANT (60 s).
wait_replica() {
    local i got=
    for i in $(seq 1 600); do
        got=$(rsql "$1" 2>/dev/null) && [ "$got" = "$2" ] && return 0
        sleep 0.1
    done
    fail "the replica answered '$got' to '$1', expected '$2'"
}

ROWS=30000
ALTER='ADD COLUMN c_new int NULL, MODIFY c_int bigint NULL'
FLAG=$WORK/throttle.flag
COLS=$TYPES_COLUMNS
make_types_table t "$ROWS"
clone_table t r
wait_replica "SELECT COUNT(*) FROM t" "$ROWS"
pass "replica on port $REPLICA_PORT has the table"

workload_start t r --threads 2 --tps 200 --seed 91
touch "$FLAG"
migrate_bg --table t --alter "$ALTER" --execute --max-lag 1 --chunk-size 500 \
    --throttle-flag "$FLAG" --progress-interval 0.5
wait_stderr "watching the lag of replica 127.0.0.1:$REPLICA_PORT" 30
wait_stderr 'throttled: throttle-flag' 30
wait_replica "SELECT COUNT(*) FROM _t_hb" 1
rsql "STOP SLAVE SQL_THREAD"
sleep 2.5
rm -f "$FLAG"
wait_stderr "throttled: max-lag: replica 127.0.0.1:$REPLICA_PORT [0-9.]+s>1s" 15
lm_status
c1=$LM_COPIED
sleep 2
lm_status
[ "$LM_COPIED" = "$c1" ] || fail "the copy went on while the replica lagged ($c1 -> $LM_COPIED)"
pass "a replica lagging over --max-lag pauses the copy ($c1 rows):" \
    "$(grep -oE 'throttled: max-lag: replica [^,]*' "$WORK/livemig.err" | tail -n 1)"

rsql "START SLAVE SQL_THREAD"
wait_stderr 'throttle released' 30
migrate_wait 180
expect_rc 0 "migration watching a replica"
workload_stop
assert_tables_equal t "$COLS" r "$COLS"
! table_exists _t_hb || fail "the heartbeat table _t_hb was left on the primary"
pass "the copy went on when the replica caught up; the heartbeat table is gone"

# The replica follows: the new schema and the same rows.
want=$(sql "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('|', id, c_int, c_vu, c_dt))) FROM t")
wait_replica "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('|', id, c_int, c_vu, c_dt))) FROM t" "$want"
wait_replica "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'test'
              AND TABLE_NAME = 't' AND COLUMN_NAME = 'c_new'" 1
pass "the replica has the new schema and the same rows"

# A replica that cannot be reached is refused before anything is created.
drop_tables _t_old
snapshot_table t
expect_refusal "an unreachable replica" 'cannot connect to replica 127.0.0.1:1 ' \
    migrate --dsn "$MARIADB_DSN" --table t --alter 'ADD COLUMN d int NULL' --execute \
    --replicas 127.0.0.1:1
assert_untouched t "an unreachable replica"
drop_with_helpers t r
