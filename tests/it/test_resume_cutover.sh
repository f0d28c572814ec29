#!/usr/bin/env bash
# kill -9 at each step of the cutover, then --resume, under live writes.
#
# For each step livemig can be held at (LIVEMIG_TEST_PAUSE=STEP makes it log
# "test pause at STEP" and sleep there):
#   cutover-sentry   the sentry _t_old exists, nothing locked yet
#   cutover-locked   t is locked and the change stream drained
#   cutover-queued   the RENAME waits on the server, the sentry not yet dropped
#   cutover-renamed  the rename ran, nothing cleaned up yet
# a fresh t and reference r, the workload writing both in one transaction, a
# migration held at STEP and killed with SIGKILL there. Then:
#   - t is present under its name and readable at once (a COUNT(*) under a
#     short lock_wait_timeout), in the old or the new schema;
#   - nothing written is lost: with the workload stopped, t equals r;
#   - with the workload running again, `--resume` exits 0, t has the new
#     schema and equals r, the old table is _t_old, no _t_new/_t_ckp remain.
#
# Environment: LIVEMIG_IT_ROWS (default 20000), LIVEMIG_IT_SEED,
# LIVEMIG_IT_STEPS="cutover-locked …" (only these steps).
. "$(dirname "$0")/lib.sh"

ROWS=${LIVEMIG_IT_ROWS:-20000}
SEED=${LIVEMIG_IT_SEED:-$((RANDOM * 32768 + RANDOM))}
read -r -a STEPS <<<"${LIVEMIG_IT_STEPS:-cutover-sentry cutover-locked cutover-queued cutover-renamed}"
ALTER="ADD COLUMN c_new varchar(32) NOT NULL DEFAULT 'n/a', MODIFY c_int bigint NULL"
MIGRATE=(--table t --alter "$ALTER" --execute --chunk-size 1000 --progress-interval 1)

drop_with_helpers t r t_base
log "building t_base: $ROWS rows (workload seed $SEED)"
make_types_table t_base "$ROWS"

run_step() {
    local step=$1 n=$2 started=$SECONDS schema
    log "=== $step"
    reload_pair t_base t r
    workload_start t r --threads 3 --tps 500 --seed $((SEED + n))
    sleep 1
    LIVEMIG_TEST_PAUSE=$step migrate_bg "${MIGRATE[@]}"
    wait_stderr "test pause at $step" 120
    sleep 0.5 # writes queue up behind the lock, if there is one
    migrate_kill9

    table_exists t || fail "$step: t is gone after the kill"
    local count
    count=$(sql "SET SESSION lock_wait_timeout = 5; SELECT COUNT(*) FROM t") ||
        fail "$step: t is not readable after the kill (still locked?)"
    schema=old
    table_columns t | grep -qx c_new && schema=new
    pass "$step: killed; t is present ($schema schema) and readable ($count rows)"

    workload_stop
    assert_tables_equal t "$TYPES_COLUMNS" r "$TYPES_COLUMNS" id
    workload_start t r --threads 3 --tps 500 --seed $((SEED + n + 50))
    sleep 1

    migrate_bg "${MIGRATE[@]}" --resume
    migrate_wait 120
    expect_rc 0 "$step: --resume after the kill"
    assert_no_crash "$step: --resume"
    sleep 2
    workload_stop

    assert_migrated t r c_new
    sed "s/^/  | /" "$WORK/livemig.err" | grep -v ' copied [0-9]*/' | tail -n 6
    pass "$step: killed there, resumed ($((SECONDS - started)) s; $WL_SUMMARY)"
}

n=0
for step in "${STEPS[@]}"; do
    run_step "$step" "$n"
    n=$((n + 1))
done
drop_with_helpers t r t_base
pass "killed at ${STEPS[*]}: the table was always there and equal to its reference after --resume"
