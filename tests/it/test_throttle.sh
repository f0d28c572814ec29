#!/usr/bin/env bash
# Throttling on server load and at the operator's word, on a private server
# (so that Threads_running is ours to raise): --max-load pauses the copy and
# it goes on when the load drops; --critical-load stops the migration with
# the table untouched, or with --critical-load-hibernate waits it out;
# --throttle-query pauses while it says so; the control socket reads and
# changes settings (chunk-size takes effect in the next chunk) and postpones
# the cutover. Migrated tables are compared with a reference kept by the
# same workload.
. "$(dirname "$0")/lib.sh"

use_private_server
ROWS=30000
ALTER='ADD COLUMN c_new int NULL, MODIFY c_int bigint NULL'
FLAG=$WORK/throttle.flag
POSTPONE=$WORK/postpone.flag
COLS=$TYPES_COLUMNS

make_types_table t_base "$ROWS"
# spike N SECONDS: N sessions running SELECT SLEEP(SECONDS) in the background.
SPIKE_PIDS=()
spike() {
    local i
    for i in $(seq 1 "$1"); do
        sql "SELECT SLEEP($2)" >/dev/null &
        SPIKE_PIDS+=($!)
    done
    log "load spike: $1 sessions for $2 s"
}
spike_wait() {
    # (a bare `wait` would wait for every child)
    [ ${#SPIKE_PIDS[@]} -eq 0 ] || wait "${SPIKE_PIDS[@]}" 2>/dev/null || true
    SPIKE_PIDS=()
}
at_exit spike_wait

# ---------------------------------------------------------------- 1. --max-load and the socket
reload_pair t_base t r
workload_start t r --threads 2 --tps 200 --seed 77
touch "$FLAG" "$POSTPONE"
migrate_bg --table t --alter "$ALTER" --execute --chunk-size 200 --max-load 'Threads_running=10' \
    --throttle-flag "$FLAG" --postpone-cutover-flag "$POSTPONE" --progress-interval 0.5
wait_stderr 'throttled: throttle-flag' 30
[ "$(stat -c %a "$LM_SOCK")" = 600 ] || fail "the control socket is mode $(stat -c %a "$LM_SOCK")"
pass "control socket created with mode 0600"

spike 16 6
sleep 1
rm -f "$FLAG"
wait_stderr 'throttled: max-load: Threads_running=[0-9]+>10' 10
lm_status
c1=$LM_COPIED
sleep 1.5
lm_status
[ "$LM_COPIED" = "$c1" ] || fail "the copy went on under max-load ($c1 -> $LM_COPIED rows)"
grep -q '"throttled":"max-load: Threads_running=' <<<"$LM_STATUS" ||
    fail "status does not say why: $LM_STATUS"
pass "a Threads_running spike pauses the copy ($c1 rows): $(grep -o 'throttled: max-load[^,]*' \
    "$WORK/livemig.err" | head -n 1)"

[ "$(ctl chunk-size=?)" = "chunk-size=200" ] || fail "chunk-size=? answered $(ctl chunk-size=?)"
[ "$(ctl chunk-size=777)" = "ok: chunk-size=777" ] || fail "chunk-size=777 refused"
[ "$(ctl max-load=?)" = "max-load=Threads_running=10" ] || fail "max-load=? answered $(ctl max-load=?)"
[ "$(ctl nice-ratio=0.2)" = "ok: nice-ratio=0.2" ] || fail "nice-ratio=0.2 refused"
set +e
bad=$(ctl max-load=Threads_running)
set -e
grep -q '^error: invalid load limit' <<<"$bad" || fail "a bad max-load was taken: $bad"
lm_status
grep -q '"chunk_size":777' <<<"$LM_STATUS" || fail "status settings: $LM_STATUS"
pass "settings read and changed over the socket; bad values refused ($bad)"

spike_wait
wait_stderr 'throttle released' 15
wait_stderr 'chunks of 777 rows from now on \(were 200\)' 15
pass "the copy goes on when the load drops, with the new chunk size from the next chunk"

[ "$(ctl postpone)" = "ok: cutover postponed until \`cutover\`" ] || fail "postpone refused"
rm -f "$POSTPONE"
wait_state postponed 120
sleep 1.5
lm_status
[ "$LM_STATE" = postponed ] || fail "the cutover did not wait for \`cutover\` (state $LM_STATE)"
ctl cutover >/dev/null
migrate_wait 60
expect_rc 0 "migration under max-load"
workload_stop
assert_tables_equal t "$COLS" r "$COLS"
pass "postponed from the socket, cut over on \`cutover\`, table equals the reference"

# ---------------------------------------------------------------- 2. --critical-load
reload_pair t_base t r
snapshot_table t
touch "$FLAG"
migrate_bg --table t --alter "$ALTER" --execute --critical-load 'Threads_running=10' \
    --throttle-flag "$FLAG" --cleanup
wait_stderr 'throttled: throttle-flag' 30
spike 16 5
migrate_wait 30
spike_wait
expect_rc 1 "critical load"
expect_error 'critical-load: Threads_running=[0-9]+>10 twice in a row' "critical load"
assert_untouched t "critical load"
pass "critical load stops the migration (exit 1), table untouched: $(grep -o 'critical-load:.*' \
    "$WORK/livemig.err" | head -n 1)"

# ---------------------------------------------------------------- 3. --critical-load-hibernate
reload_pair t_base t r
touch "$FLAG"
migrate_bg --table t --alter "$ALTER" --execute --critical-load 'Threads_running=10' \
    --critical-load-hibernate 2 --throttle-flag "$FLAG"
wait_stderr 'throttled: throttle-flag' 30
spike 16 3
wait_stderr 'hibernating 2s' 10
spike_wait
rm -f "$FLAG"
migrate_wait 120
expect_rc 0 "critical load with hibernation"
assert_tables_equal t "$COLS" r "$COLS"
pass "with --critical-load-hibernate the migration waits the load out and completes"

# ---------------------------------------------------------------- 4. --throttle-query
reload_pair t_base t r
sql "DROP TABLE IF EXISTS thr; CREATE TABLE thr (x int); INSERT INTO thr VALUES (1)"
migrate_bg --table t --alter "$ALTER" --execute --throttle-query 'SELECT COUNT(*) FROM test.thr'
wait_stderr 'throttled: throttle-query' 30
sleep 1
lm_status
[ "$LM_COPIED" = 0 ] || fail "the copy went on while the throttle query said 1 ($LM_COPIED rows)"
sql "DELETE FROM thr"
migrate_wait 120
expect_rc 0 "throttle query"
assert_tables_equal t "$COLS" r "$COLS"
pass "--throttle-query pauses the copy until it returns 0"

# ---------------------------------------------------------------- 5. refusals
reload_pair t_base t r
snapshot_table t
expect_refusal "an unknown status variable" 'no status variable No_such_var' \
    migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute --max-load 'No_such_var=3'
expect_refusal "a malformed --critical-load" 'critical-load: invalid load limit' \
    migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute --critical-load 'x>3'
expect_refusal "a failing --throttle-query" 'throttle-query' \
    migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute --throttle-query 'SELEC 1'
assert_untouched t "refusals"

drop_with_helpers t r t_base thr
