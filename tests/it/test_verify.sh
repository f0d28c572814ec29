#!/usr/bin/env bash
# `livemig verify` and the verification before the cutover:
#  1. verify passes on equal tables, finds a one-character change, a missing
#     and an extra row (exit 1, naming the key ranges and rows), refuses bad
#     input (exit 2);
#  2. a migration under a live workload verifies and cuts over (status has
#     verify_seconds, the table equals its reference);
#  3. an injected fault (LIVEMIG_TEST_DROP_CHANGE drops one applied change)
#     is caught (copy chunks of 100 rows, so verify chunks of 1,000): the
#     chunk is re-copied and the migration ends right; with re-copies
#     disabled (LIVEMIG_TEST_NO_RECOPY) it fails after 3 passes, exit 1,
#     table untouched; with --no-verify the fault reaches the table.
. "$(dirname "$0")/lib.sh"

ROWS=5000
drop_with_helpers t r a b t_base # a test before may have left _t_ckp (its failure, not ours)
make_types_table t_base "$ROWS"

verify() {
    run_livemig verify --dsn "$MARIADB_DSN" "$@"
}

# ---------------------------------------------------------------- 1. standalone
clone_table t_base a
clone_table t_base b
verify --table a --against b --chunk-size 700
expect_rc 0 "equal tables"
grep -q "are equal: $ROWS rows" "$WORK/livemig.out" || fail "equal tables: no summary"
pass "equal tables: $(cat "$WORK/livemig.out")"

sql "UPDATE b SET c_text = CONCAT(LEFT(c_text, 3), 'X', SUBSTRING(c_text, 5)) WHERE id = 1234"
verify --table a --against b --chunk-size 700
expect_rc 1 "one character changed"
grep -q 'differs: (id) > (700) and <= (1400)' "$WORK/livemig.out" ||
    fail "one character: the range is not named"
grep -q "differs: source id='1234'" "$WORK/livemig.out" || fail "one character: row not shown"
pass "one character changed: exit 1, $(grep -c '^differs' "$WORK/livemig.out") range(s)"

sql "UPDATE b SET c_text = (SELECT c_text FROM a WHERE id = 1234) WHERE id = 1234;
     DELETE FROM b WHERE id = 4000; INSERT INTO b (id) VALUES (9999)"
verify --table a --against b --chunk-size 700
expect_rc 1 "missing and extra rows"
grep -q "only in the source: id='4000'" "$WORK/livemig.out" || fail "missing row not shown"
grep -q "only in the target: id='9999'" "$WORK/livemig.out" || fail "extra row not shown"
[ "$(grep -c '^differs' "$WORK/livemig.out")" = 2 ] || fail "expected exactly 2 differing ranges"
pass "missing and extra rows: exit 1"

# Converted columns: b has another charset and wider types; same values.
sql "DROP TABLE b; CREATE TABLE b LIKE a;
     ALTER TABLE b MODIFY c_latin varchar(40) CHARACTER SET utf8mb4 NULL,
        MODIFY c_int bigint NULL, MODIFY c_dec decimal(20,6) NULL, MODIFY c_dt datetime(6) NULL,
        MODIFY c_set set('z','y','x') NULL, MODIFY c_flt double NULL;
     INSERT INTO b SELECT * FROM a"
verify --table a --against b
expect_rc 0 "converted columns"
sql "UPDATE b SET c_set = 'z' WHERE id = 77 AND c_set <> 'z'; UPDATE b SET c_set = 'x' WHERE id = 77 AND c_set = 'z'"
verify --table a --against b
expect_rc 1 "a SET value changed"
pass "columns of other types compare by value (SET order, charset, widening)"

verify --table a --against nosuch
expect_rc 2 "missing table"
expect_error 'does not exist' "missing table"
verify --table a --against b --columns id,nosuch
expect_rc 2 "unknown column"
verify --table a --against b --columns c_int
expect_rc 2 "key not compared"
expect_error 'key column id' "key not compared"
run_livemig verify --table a
expect_rc 2 "no --dsn"
pass "bad input: exit 2"
drop_tables a b

# ---------------------------------------------------------------- 2. under a workload
clone_table t_base t
clone_table t_base r
workload_start t r --threads 2 --tps 400 --seed 77
sleep 1
migrate --table t --alter 'MODIFY c_int bigint NULL, ADD COLUMN c_new int NULL' --execute \
    --chunk-size 500 --log-format json --progress-interval 0.2
expect_rc 0 "migrate with verification"
grep -q '"msg":"verified: _t_new equals t' "$WORK/livemig.err" || fail "no 'verified:' line"
grep -q '"state":"verifying"' "$WORK/livemig.err" || fail "the status never said verifying"
grep -q '"verify_seconds":[0-9.]*[1-9]' "$WORK/livemig.err" || fail "verify_seconds stayed 0"
sleep 1
workload_stop
cols=$(table_columns r | tr '\n' ' ')
assert_tables_equal t "$cols" r "$cols"
pass "verified under a live workload, then cut over"
drop_tables t r _t_old

# ---------------------------------------------------------------- 3. injected faults
# The copy heals a lost change to a row it has not copied yet, so the
# change comes while the cutover is postponed: it is then change #1.
fault_run() {
    local flag=$WORK/postpone
    drop_tables t _t_old _t_new
    clone_table t_base t
    touch "$flag"
    rm -f "$WORK/livemig.err"
    (
        for _ in $(seq 1 100); do
            grep -q 'cutover postponed' "$WORK/livemig.err" 2>/dev/null && break
            sleep 0.1
        done
        sql "UPDATE t SET c_vu = 'lost update' WHERE id = 2345"
        sleep 1.5
        rm -f "$flag"
    ) &
    local helper=$!
    migrate --table t --alter 'ADD COLUMN c_new int NULL' --execute --chunk-size 100 \
        --postpone-cutover-flag "$flag" "$@"
    wait "$helper"
}

LIVEMIG_TEST_DROP_CHANGE=1 fault_run
expect_rc 0 "dropped change, re-copied"
grep -q 'dropped change 1' "$WORK/livemig.err" || fail "the fault was not injected"
grep -q 'the shadow differs in (id) > (2000) and <= (3000)' "$WORK/livemig.err" ||
    fail "verification did not catch the dropped change"
[ "$(sql "SELECT c_vu FROM t WHERE id = 2345")" = "lost update" ] ||
    fail "the re-copy did not repair the row"
pass "a dropped change is caught, its chunk re-copied, the migration ends right"

LIVEMIG_TEST_DROP_CHANGE=1 LIVEMIG_TEST_NO_RECOPY=1 fault_run
expect_rc 1 "dropped change, no re-copy"
expect_error 'verification failed: .*key range \(id\) > \(2000\) and <= \(3000\) after 3 passes' \
    "dropped change, no re-copy"
table_exists _t_new && fail "the shadow was left behind"
table_exists _t_old && fail "the migration cut over"
show_create t | grep -q c_new && fail "t has the new schema"
[ "$(sql "SELECT c_vu FROM t WHERE id = 2345")" = "lost update" ] || fail "t lost its row"
pass "verification failing 3 times: exit 1, no cutover, table untouched"

LIVEMIG_TEST_DROP_CHANGE=1 fault_run --no-verify
expect_rc 0 "dropped change with --no-verify"
[ "$(sql "SELECT c_vu FROM t WHERE id = 2345")" != "lost update" ] ||
    fail "--no-verify: the fault did not reach the table (is the fault real?)"
verify --table _t_old --against t
expect_rc 1 "verify after a faulty --no-verify migration"
pass "with --no-verify the fault reaches the table and livemig verify finds it"

drop_tables t r a b t_base _t_old _t_new
