#!/usr/bin/env bash
# A cutover under contention. A session keeps a transaction open that has
# read the table (so it holds a metadata lock on it) for 10 s, right when the
# cutover starts: each attempt gives up after --cutover-lock-timeout, the log
# names the session, the next attempt comes after a growing pause, and the
# cutover completes once the transaction ends; the workload's longest write
# stall stays under the lock timeout + 0.5 s. With --kill-blockers-after the
# session is killed instead of waited for. Both runs end equal to the
# reference kept by the workload.
. "$(dirname "$0")/lib.sh"

ROWS=20000
ALTER='ADD COLUMN c_new int NULL, MODIFY c_int bigint NULL'
POSTPONE=$WORK/postpone.flag
COLS=$TYPES_COLUMNS
LOCK_TIMEOUT=1

make_types_table t_base "$ROWS"
# blocker SECONDS: a session that reads t in a transaction and keeps it open.
BLOCKER_PID=
blocker() {
    sql "START TRANSACTION; SELECT COUNT(*) FROM t WHERE id = 1; DO SLEEP($1); COMMIT" \
        >"$WORK/blocker.out" 2>&1 &
    BLOCKER_PID=$!
    log "blocker: a transaction holding t for $1 s (pid $BLOCKER_PID)"
}
_blocker_kill() {
    [ -n "$BLOCKER_PID" ] && kill "$BLOCKER_PID" 2>/dev/null
    wait "$BLOCKER_PID" 2>/dev/null || true
}
at_exit _blocker_kill

# start_to_postponed: workload on t/r and a migration held before its cutover.
start_to_postponed() {
    reload_pair t_base t r
    workload_start t r --threads 2 --tps 200 --seed "$1"
    touch "$POSTPONE"
    shift
    migrate_bg --table t --alter "$ALTER" --execute --postpone-cutover-flag "$POSTPONE" \
        --cutover-lock-timeout "$LOCK_TIMEOUT" --cutover-retries 30 --progress-interval 1 "$@"
    wait_state postponed 120
}

# ---------------------------------------------------------------- 1. wait it out
start_to_postponed 11
blocker 10
t0=$SECONDS
sleep 0.5
rm -f "$POSTPONE"
migrate_wait 120
took=$((SECONDS - t0))
expect_rc 0 "cutover behind a 10 s transaction"
wait "$BLOCKER_PID" || fail "the blocking transaction failed: $(cat "$WORK/blocker.out")"
BLOCKER_PID=
[ "$took" -ge 9 ] || fail "the cutover completed after $took s, while the transaction was open"
grep -q 'cutover attempt 1/30 failed' "$WORK/livemig.err" || fail "no failed first attempt"
held=$(grep -oE 'held by session [0-9]+ \([0-9]+s, [^)]*\)' "$WORK/livemig.err" | head -n 1)
[ -n "$held" ] || fail "the log does not name the session holding the table"
attempts=$(grep -c 'cutover attempt [0-9]*/30 failed' "$WORK/livemig.err")
workload_stop
stall=$(workload_count max_stall_ms)
[ "$stall" -lt $((LOCK_TIMEOUT * 1000 + 500)) ] ||
    fail "a write stalled $stall ms (lock timeout ${LOCK_TIMEOUT}s + 0.5 s allowed)"
assert_tables_equal t "$COLS" r "$COLS"
pass "cutover retried $attempts times behind the transaction ($held), done after $took s;" \
    "longest write stall $stall ms"

# ---------------------------------------------------------------- 2. kill it
start_to_postponed 12 --kill-blockers-after 2
blocker 120
t0=$SECONDS
sleep 0.5
rm -f "$POSTPONE"
migrate_wait 60
took=$((SECONDS - t0))
expect_rc 0 "cutover with --kill-blockers-after"
grep -qE 'killing session [0-9]+' "$WORK/livemig.err" || fail "no session was killed"
if wait "$BLOCKER_PID"; then
    fail "the blocking session was not killed"
fi
BLOCKER_PID=
[ "$took" -lt 30 ] || fail "the cutover took $took s despite --kill-blockers-after 2"
workload_stop
stall=$(workload_count max_stall_ms)
[ "$stall" -lt $((LOCK_TIMEOUT * 1000 + 500)) ] ||
    fail "a write stalled $stall ms (lock timeout ${LOCK_TIMEOUT}s + 0.5 s allowed)"
assert_tables_equal t "$COLS" r "$COLS"
pass "--kill-blockers-after 2: $(grep -oE 'killing session [0-9]+' "$WORK/livemig.err" | head -n 1)," \
    "done after $took s; longest write stall $stall ms"

drop_with_helpers t r t_base
