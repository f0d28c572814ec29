#!/usr/bin/env bash
# Two cutover-adjacent guarantees:
# 1. DDL on the table while it is migrated stops the migration cleanly
#    (exit 1): the operator's DDL stands, the shadow is gone, no row lost.
# 2. The AUTO_INCREMENT counter survives the swap: ids of rows deleted at
#    the top of the table are not handed out again.
. "$(dirname "$0")/lib.sh"

THROTTLE=$WORK/throttle.flag
drop_tables t _t_new _t_old _t_chk ai _ai_new _ai_old

# --- 1: DDL during the migration
sql "CREATE TABLE t (id int PRIMARY KEY, v varchar(20) NOT NULL)"
sql "INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_20000"
before=$(sql "SELECT COUNT(*), SUM(CRC32(CONCAT(id, v))) FROM t")
touch "$THROTTLE"
log "livemig migrate (background, throttled so the DDL lands mid-copy)"
"$LIVEMIG" migrate --dsn "$MARIADB_DSN" --table t --alter 'ADD COLUMN w int NULL' --execute \
    --throttle-flag "$THROTTLE" --progress-interval 0.5 >"$WORK/livemig.out" \
    2>"$WORK/livemig.err" &
pid=$!
for _ in $(seq 1 100); do
    table_exists _t_new && break
    sleep 0.1
done
table_exists _t_new || fail "the shadow _t_new never appeared"
sql "ALTER TABLE t ADD COLUMN operator_col int NULL"
LM_RC=0
for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$pid" 2>/dev/null && { kill -TERM "$pid"; fail "livemig kept running after DDL on t"; }
wait "$pid" || LM_RC=$?
rm -f "$THROTTLE"
expect_rc 1 "DDL on the table mid-migration"
expect_error 'DDL on test\.t' "DDL on the table mid-migration"
! table_exists _t_new || fail "the shadow _t_new was left behind"
! table_exists _t_old || fail "a sentry _t_old was left behind"
[ "$(sql "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='test' AND \
TABLE_NAME='t' AND COLUMN_NAME='operator_col'")" = 1 ] || fail "the operator's DDL was undone"
after=$(sql "SELECT COUNT(*), SUM(CRC32(CONCAT(id, v))) FROM t")
[ "$before" = "$after" ] || fail "rows changed: before '$before', after '$after'"
pass "DDL on the table stops the migration with exit 1, the table keeps its rows"

# --- 2: AUTO_INCREMENT survives the swap
sql "CREATE TABLE ai (id int AUTO_INCREMENT PRIMARY KEY, v int)"
sql "INSERT INTO ai (v) SELECT seq FROM seq_1_to_100"
sql "DELETE FROM ai WHERE id > 50"
want=$(sql "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA='test' \
AND TABLE_NAME='ai'")
migrate --table ai --alter 'ADD COLUMN w int NULL' --execute
expect_rc 0 "migrate ai"
sql "INSERT INTO ai (v) VALUES (1000)"
got=$(sql "SELECT id FROM ai WHERE v = 1000")
[ "$got" = "$want" ] || fail "after the swap the next id was $got, expected $want (ids reused)"
pass "AUTO_INCREMENT counter carried over ($want)"

drop_tables t ai _ai_old
