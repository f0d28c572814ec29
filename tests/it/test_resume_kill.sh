#!/usr/bin/env bash
# kill -9 during the copy and the catch-up, then --resume, under live writes.
#
# A table t of many column types and an identical reference r; the random
# workload writes both in one transaction all along. One migration of t is
# killed four times and resumed each time:
#   run 1 (fresh)            killed at ~20% of the copy
#   (re-run without --resume: exit 2 naming --resume; --resume with another
#    --alter: exit 2, the plan differs; neither touches the leftovers)
#   run 2 (--resume)         SIGTERM at ~35%: exit 1, t untouched, the shadow
#                            and the checkpoint kept for --resume
#   run 3 (--resume)         killed at ~50%
#   run 4 (--resume)         killed at ~90%
#   run 5 (--resume, postpone flag) killed while it waits in catch-up
#   run 6 (--resume)         finishes: exit 0
# Each resumed run must report "resuming from checkpoint: N rows copied
# before" with N close to what the killed run had copied (not 0), and its
# progress (status rows_copied, progress lines) must not start again at 0.
# At the end t has the new schema and equals r. Last, `abort` on the control
# socket of a migration of another table u run with --cleanup: exit 1, u
# untouched and no helper table left.
#
# Environment: LIVEMIG_IT_ROWS (default 60000), LIVEMIG_IT_SEED.
. "$(dirname "$0")/lib.sh"

ROWS=${LIVEMIG_IT_ROWS:-60000}
SEED=${LIVEMIG_IT_SEED:-$((RANDOM * 32768 + RANDOM))}
CHUNK=500
ALTER="ADD COLUMN c_new varchar(32) NOT NULL DEFAULT 'n/a', MODIFY c_int bigint NULL"
POSTPONE=$WORK/postpone.flag
# A kill lands within a few chunks of the status it follows; the checkpoint
# may lag the status by a few chunks: "close" is within this many rows.
SLACK=$((ROWS / 10))

drop_with_helpers t r t_base
log "building t_base: $ROWS rows (workload seed $SEED)"
make_types_table t_base "$ROWS"
reload_pair t_base t r
workload_start t r --threads 3 --tps 500 --seed "$SEED"
sleep 1

# After a kill: t still the old table, the shadow and the checkpoint kept.
assert_killed_state() {
    local what=$1
    table_exists t || fail "$what: t is gone"
    ! table_columns t | grep -qx c_new || fail "$what: t already has the new schema"
    table_exists _t_new || fail "$what: the shadow _t_new is gone"
    table_exists _t_ckp || fail "$what: the checkpoint table _t_ckp is gone"
}

# check_resumed PREV: the run just started resumes from a checkpoint close to
# PREV rows (what the killed run's status showed last), and its progress
# starts there, not at 0.
check_resumed() {
    local prev=$1 n first
    wait_stderr 'resuming from checkpoint:' 60
    n=$(resumed_from)
    [ "$n" -gt 0 ] || fail "run $LM_RUNS resumes with 0 rows copied before (the kill was at $prev)"
    if [ "$n" -lt $((prev - SLACK)) ] || [ "$n" -gt $((prev + SLACK)) ]; then
        fail "run $LM_RUNS resumes at $n rows, but the killed run had copied $prev"
    fi
    # The first status answer and the first progress line count from N.
    local t0=$SECONDS
    until lm_status; do
        kill -0 "$LM_PID" 2>/dev/null || fail "run $LM_RUNS exited before answering status"
        [ $((SECONDS - t0)) -lt 30 ] || fail "run $LM_RUNS does not answer status"
        sleep 0.05
    done
    [ "$LM_COPIED" -ge "$n" ] ||
        fail "run $LM_RUNS: status rows_copied=$LM_COPIED after resuming at $n rows"
    wait_stderr ' copied [0-9]+/' 30
    first=$(sed -n 's/.* copied \([0-9]*\)\/.*/\1/p' "$WORK/livemig.err" | head -n 1)
    [ "$first" -ge "$n" ] ||
        fail "run $LM_RUNS: the first progress line says $first rows copied, resumed at $n"
    pass "run $LM_RUNS resumes at $n rows copied before (killed at $prev); status $LM_COPIED, first progress line $first"
}

# kill_at PERCENT: wait until the copy passes PERCENT of the rows, kill -9.
# Sets KILLED_AT (rows_copied in the last status before the kill).
kill_at() {
    wait_copied $((ROWS * $1 / 100)) 120
    migrate_kill9
    KILLED_AT=$LM_COPIED
    assert_killed_state "killed at $1%"
    pass "run $LM_RUNS killed at $1% of the copy ($KILLED_AT of $ROWS rows)"
}

# Two copy threads resting as long as each chunk took: about the pace of one
# connection, so the kills can still land at their points (under ASan too).
MIGRATE=(--table t --alter "$ALTER" --execute --chunk-size "$CHUNK" --progress-interval 0.2
    --threads 2 --nice-ratio 1)

# ---------------------------------------------------------------- run 1: 20%
migrate_bg "${MIGRATE[@]}"
kill_at 20

# ---------------------------------------------------------------- refusals
expect_refusal "a re-run without --resume" '--resume' \
    migrate --dsn "$MARIADB_DSN" "${MIGRATE[@]}"
assert_killed_state "after a re-run without --resume"
expect_refusal "--resume with another --alter" 'plan|differ' \
    migrate --dsn "$MARIADB_DSN" --table t --alter 'ADD COLUMN c_other int NULL' --execute --resume
assert_killed_state "after --resume with another --alter"

# ---------------------------------------------------------------- run 2: SIGTERM
migrate_bg "${MIGRATE[@]}" --resume
check_resumed "$KILLED_AT"
wait_copied $((ROWS * 35 / 100)) 120
kill -TERM "$LM_PID"
migrate_wait 60
expect_rc 1 "SIGTERM"
assert_no_crash "SIGTERM"
assert_killed_state "after SIGTERM"
KILLED_AT=$LM_COPIED
pass "run $LM_RUNS stopped by SIGTERM at ~35%: exit 1, shadow and checkpoint kept"

# ---------------------------------------------------------------- run 3: 50%
migrate_bg "${MIGRATE[@]}" --resume
check_resumed "$KILLED_AT"
kill_at 50

# ---------------------------------------------------------------- run 4: 90%
migrate_bg "${MIGRATE[@]}" --resume
check_resumed "$KILLED_AT"
# The last stretch is short: smaller chunks so that the kill lands in it.
wait_copied $((ROWS * 80 / 100)) 120
"$LIVEMIG" ctl "$LM_SOCK" chunk-size=100 >/dev/null || fail "chunk-size=100 refused"
kill_at 90

# ---------------------------------------------------------------- run 5: catch-up
touch "$POSTPONE"
migrate_bg "${MIGRATE[@]}" --resume --postpone-cutover-flag "$POSTPONE"
check_resumed "$KILLED_AT"
wait_state postponed 120
[ "$LM_COPIED" -ge $((ROWS - SLACK)) ] || fail "postponed after only $LM_COPIED rows"
sleep 1 # changes keep coming in and are applied
migrate_kill9
KILLED_AT=$LM_COPIED
assert_killed_state "killed in catch-up"
pass "run $LM_RUNS killed while postponed in catch-up ($KILLED_AT rows copied)"
rm -f "$POSTPONE"

# ---------------------------------------------------------------- run 6: done
migrate_bg "${MIGRATE[@]}" --resume
check_resumed "$KILLED_AT"
migrate_wait 120
expect_rc 0 "the last resumed run"
assert_no_crash "the last resumed run"
sleep 2
workload_stop

show_create t | grep -q "\`c_int\` bigint" || fail "t.c_int is not bigint"
assert_migrated t r c_new
sed "s/^/  | /" "$WORK/livemig.err" | grep -v ' copied [0-9]*/' | tail -n 8
pass "killed at 20%, 50%, 90% and in catch-up, resumed each time ($WL_SUMMARY)"

# ---------------------------------------------------------------- abort --cleanup
drop_with_helpers u
make_types_table u 5000
snapshot_table u
touch "$WORK/throttle.flag"
migrate_bg --table u --alter "$ALTER" --execute --cleanup --throttle-flag "$WORK/throttle.flag"
wait_state copying 60
answer=$("$LIVEMIG" ctl "$LM_SOCK" abort) || fail "abort: $answer"
migrate_wait 60
expect_rc 1 "abort with --cleanup"
assert_no_crash "abort with --cleanup"
assert_untouched u "abort with --cleanup"
pass "abort with --cleanup: exit 1, u untouched, no helper table left"
drop_with_helpers t r t_base u
