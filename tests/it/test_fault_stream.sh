#!/usr/bin/env bash
# The binlog tail survives a lost stream connection, exactly once.
#
# A 100k-row table t and its reference r under the random workload; a
# migration of t runs with the copy held by --throttle-flag (changes keep
# being applied), and meanwhile:
#   - the server's "Binlog Dump" thread serving livemig is KILLed 5 times
#     (each time after the stream came back), once right after a big
#     transaction (half the table, in t and r) committed, so that the stream
#     is cut inside it and must replay it skipping what it had queued,
#   - FLUSH BINARY LOGS runs 10 times (the stream follows the rotations).
# Then the copy is released and the migration finishes. livemig must exit 0
# with exactly one reconnect warning per KILL, the workload must see no
# divergence and the new t must equal r: no change lost, none invented.
# Exactly once: the changes livemig applied must number the row changes of
# t in the binlog from its start position to the cutover (re-read with
# livemig record + dump; t's rows gain a 22nd column at the cutover), as a
# change queued twice would be applied twice.
#
# Environment: LIVEMIG_IT_ROWS=N rows in t (default 100000),
#              LIVEMIG_IT_SEED  workload seed (default: random, printed).
. "$(dirname "$0")/lib.sh"

ROWS=${LIVEMIG_IT_ROWS:-100000}
SEED=${LIVEMIG_IT_SEED:-$((RANDOM * 32768 + RANDOM))}
KILLS=5
FLUSHES=10
BIG=$((ROWS / 2))
THROTTLE=$WORK/throttle.flag
ALTER='ADD COLUMN c_new int NULL, MODIFY c_int bigint NULL'
LM_PID=

_kill_livemig() {
    if [ -n "$LM_PID" ] && kill -0 "$LM_PID" 2>/dev/null; then
        kill -TERM "$LM_PID"
        wait "$LM_PID" 2>/dev/null
    fi
}
at_exit _kill_livemig

alive() {
    kill -0 "$LM_PID" 2>/dev/null || {
        wait "$LM_PID" && LM_RC=0 || LM_RC=$?
        LM_PID=
        fail "$1: livemig exited ($LM_RC) while the stream was being disturbed"
    }
}

# Id of the server thread streaming the binlog to livemig ("" when none).
dump_thread() {
    sql "SELECT id FROM information_schema.PROCESSLIST
         WHERE command LIKE 'Binlog Dump%' ORDER BY id DESC LIMIT 1"
}

# Wait until a dump thread other than $1 serves the stream; DUMP_ID = its id.
DUMP_ID=
wait_dump_thread() {
    local old=$1 id i
    for i in $(seq 1 150); do
        alive "waiting for the binlog stream"
        id=$(dump_thread)
        if [ -n "$id" ] && [ "$id" != "$old" ]; then
            DUMP_ID=$id
            return 0
        fi
        sleep 0.1
    done
    fail "no binlog dump thread (other than '$old') within 15 s"
}

drop_tables t r t_base _t_new _t_old _t_chk
log "building t_base: $ROWS rows (workload seed $SEED)"
make_types_table t_base "$ROWS"
clone_table t_base t
clone_table t_base r

workload_start t r --threads 3 --tps 600 --seed "$SEED"
sleep 1
touch "$THROTTLE"
started=$SECONDS
log "livemig migrate (background), copy held by $THROTTLE"
"$LIVEMIG" migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute \
    --chunk-size 2000 --throttle-flag "$THROTTLE" >"$WORK/livemig.out" 2>"$WORK/livemig.err" &
LM_PID=$!

wait_dump_thread ""
kills=0
for i in $(seq 1 "$FLUSHES"); do
    sql "FLUSH BINARY LOGS"
    sleep 0.4
    alive "after FLUSH BINARY LOGS #$i"
    if [ $((i % 2)) = 0 ] && [ "$kills" -lt "$KILLS" ]; then
        if [ "$kills" = 2 ]; then
            # The KILL in the same session, so that it lands while the
            # transaction is still being streamed.
            log "a transaction changing $BIG rows of t and r, then the kill"
            sql "START TRANSACTION; UPDATE t SET c_bit = c_bit ^ 1 WHERE id <= $BIG;
                 UPDATE r SET c_bit = c_bit ^ 1 WHERE id <= $BIG; COMMIT; KILL $DUMP_ID" ||
                fail "the big transaction or KILL $DUMP_ID failed"
        else
            sql "KILL $DUMP_ID" || fail "KILL $DUMP_ID failed"
        fi
        kills=$((kills + 1))
        wait_dump_thread "$DUMP_ID"
        log "killed the dump thread ($kills/$KILLS); the stream is back as thread $DUMP_ID"
        sleep 0.6
    fi
done
[ "$kills" = "$KILLS" ] || fail "only $kills of $KILLS kills done"
alive "after the faults"
rm -f "$THROTTLE"

for i in $(seq 1 900); do
    kill -0 "$LM_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$LM_PID" 2>/dev/null && fail "livemig did not finish within 90 s of the copy's release"
LM_RC=0
wait "$LM_PID" || LM_RC=$?
LM_PID=
expect_rc 0 "migration with a disturbed stream"
grep -qE 'applied [1-9][0-9]* change' "$WORK/livemig.err" ||
    fail "livemig applied no binlog changes (did the workload overlap the migration?)"
warnings=$(grep -cE 'binlog stream: .*; reconnecting from [^ ]+:[0-9]+' "$WORK/livemig.err" || true)
[ "$warnings" = "$KILLS" ] ||
    fail "expected $KILLS reconnect warnings after $KILLS kills, livemig printed $warnings"
grep -qE 'reconnected .*; skipping [1-9][0-9]* change' "$WORK/livemig.err" ||
    fail "no reconnect happened inside a transaction: the replay-and-skip path was not exercised"
pass "livemig finished (exit 0, $((SECONDS - started)) s) after $KILLS kills and $FLUSHES rotations"
grep -E 'reconnect' "$WORK/livemig.err" | sed 's/^/  | /'

sleep 1
workload_stop
tcols=$(table_columns r | tr '\n' ' ')
assert_tables_equal t "$tcols" r "$tcols" id

from=$(sed -n 's/.*binlog from \([^ ,]*:[0-9]*\).*/\1/p' "$WORK/livemig.err" | head -n 1)
applied=$(sed -n 's/.*applied \([0-9]*\) change.*/\1/p' "$WORK/livemig.err" | tail -n 1)
if [ -z "$from" ] || [ -z "$applied" ]; then
    fail "cannot find the start position or the applied count in livemig's log"
fi
until=$(sql "SHOW MASTER STATUS" | awk '{print $1 ":" $2}')
run_livemig record --dsn "$MARIADB_DSN" --out "$WORK/t.binlog.zst" --tables "$DB.t" \
    --from "$from" --until "$until"
expect_rc 0 "recording the binlog of the run"
run_livemig dump "$WORK/t.binlog.zst" --format json --tables "$DB.t"
expect_rc 0 "dumping the recording"
logged=$(grep -F '"table":"t",' "$WORK/livemig.out" | grep -cvF '"@22":' || true)
[ "$logged" = "$applied" ] ||
    fail "livemig applied $applied changes, the binlog has $logged row changes of t before the cutover"
pass "livemig applied each of the $applied row changes of t once"
drop_tables t r t_base _t_new _t_old _t_chk
pass "the stream survived $KILLS lost connections exactly once (seed $SEED; $WL_SUMMARY)"
