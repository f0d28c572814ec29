#!/usr/bin/env bash
# Steering a running migration: the control socket (status JSON, throttle,
# resume, chunk-size=N, cutover, abort), the throttle and postpone flag
# files, SIGTERM, and the socket-file rules (a live socket is refused, a
# stale one replaced). Under live writes, checked against a reference.
. "$(dirname "$0")/lib.sh"

ROWS=${LIVEMIG_IT_ROWS:-50000}
SOCK=$WORK/ctl.sock
THROTTLE=$WORK/throttle.flag
POSTPONE=$WORK/postpone.flag
ALTER='ADD COLUMN c_new int NULL, MODIFY c_int bigint NULL'
LM_PID=

drop_tables t r u t_base _t_new _t_old _t_chk _u_new _t_ckp _u_ckp
make_types_table t_base "$ROWS"

_kill_livemig() {
    if [ -n "$LM_PID" ] && kill -0 "$LM_PID" 2>/dev/null; then
        kill -TERM "$LM_PID"
        wait "$LM_PID" 2>/dev/null
    fi
}
at_exit _kill_livemig

# Start livemig migrate in the background (stdout/stderr in $WORK/livemig.*).
start_livemig() {
    : >"$WORK/livemig.err" # not only in the child: see migrate_bg in lib.sh
    log "livemig migrate $* (background)"
    "$LIVEMIG" migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute \
        --control-socket "$SOCK" --progress-interval 0.5 "$@" \
        >"$WORK/livemig.out" 2>"$WORK/livemig.err" &
    LM_PID=$!
}

# Wait for livemig to exit; sets LM_RC.
wait_livemig() {
    local i
    for i in $(seq 1 1200); do
        kill -0 "$LM_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$LM_PID" 2>/dev/null && fail "livemig did not finish within 120 s"
    LM_RC=0
    wait "$LM_PID" || LM_RC=$?
    LM_PID=
}

ctl() {
    "$LIVEMIG" ctl "$SOCK" "$@"
}

# json_field JSON NAME: the field's value (JSON text: strings keep quotes).
json_field() {
    python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])[sys.argv[2]]))' "$1" "$2"
}

# wait_status FIELD VALUE: poll `status` until FIELD equals VALUE (JSON text).
wait_status() {
    local field=$1 want=$2 i s=
    for i in $(seq 1 600); do
        kill -0 "$LM_PID" 2>/dev/null || fail "livemig exited while waiting for $field=$want"
        if s=$(ctl status 2>/dev/null) && [ "$(json_field "$s" "$field" 2>/dev/null)" = "$want" ]; then
            STATUS=$s
            return 0
        fi
        sleep 0.1
    done
    fail "status never had $field=$want (last: $s)"
}

reload() {
    drop_tables t r _t_new _t_old
    clone_table t_base t
    clone_table t_base r
}

# ---------------------------------------------------------------- 1. a steered run
reload
workload_start t r --threads 2 --tps 300 --seed 4242
touch "$THROTTLE" "$POSTPONE"
start_livemig --throttle-flag "$THROTTLE" --postpone-cutover-flag "$POSTPONE" --chunk-size 1000

wait_status throttled '"throttle-flag"'
python3 - "$STATUS" <<'EOF' || fail "status JSON lacks a field: $STATUS"
import json, sys
s = json.loads(sys.argv[1])
for k in ("state", "rows_copied", "rows_estimated", "changes_applied", "lag_seconds",
          "throttled", "elapsed_seconds"):
    assert k in s, k
assert s["state"] in ("preparing", "copying", "catching-up", "postponed", "cutting-over", "done",
                      "failed"), s["state"]
for k in ("rows_copied", "rows_estimated", "changes_applied"):
    assert isinstance(s[k], int) and s[k] >= 0, k
EOF
pass "status while the throttle flag exists: $STATUS"
copied1=$(json_field "$STATUS" rows_copied)
sleep 1.5
copied2=$(json_field "$(ctl status)" rows_copied)
[ "$copied1" = "$copied2" ] || fail "the copy went on while throttled ($copied1 -> $copied2)"
pass "the copy stays paused while the throttle flag exists ($copied2 rows)"

# The operator's throttle outlives the flag file.
[ "$(ctl throttle)" = "ok: throttled" ] || fail "throttle: unexpected answer"
rm -f "$THROTTLE"
wait_status throttled '"operator"'
pass "throttle from the control socket"
answer=$(ctl chunk-size=500) || fail "chunk-size=500 failed: $answer"
grep -q '^ok' <<<"$answer" || fail "chunk-size=500: $answer"
set +e
bad=$(ctl chunk-size=0)
bad_rc=$?
unknown=$(ctl frobnicate)
unknown_rc=$?
set -e
[ "$bad_rc" = 1 ] && grep -q '^error' <<<"$bad" || fail "chunk-size=0: exit $bad_rc: $bad"
[ "$unknown_rc" = 1 ] && grep -q '^error' <<<"$unknown" || fail "unknown command: exit $unknown_rc"
pass "control answers: $answer / $bad / $unknown"
[ "$(ctl resume)" = "ok: resumed" ] || fail "resume: unexpected answer"

# A second migration (of another table) may not take over a live socket.
sql "CREATE TABLE u (id int PRIMARY KEY, v int); INSERT INTO u VALUES (1, 1)"
snapshot_table u
"$LIVEMIG" migrate --dsn "$MARIADB_DSN" --table u --alter 'ADD COLUMN w int' --execute \
    --control-socket "$SOCK" >"$WORK/second.out" 2>"$WORK/second.err" && rc=0 || rc=$?
[ "$rc" != 0 ] || fail "a second livemig on a live control socket succeeded"
grep -qi 'in use' "$WORK/second.err" || {
    cat "$WORK/second.err" >&2
    fail "live socket: no 'in use' error"
}
assert_untouched u "second livemig on a live socket"
[ -S "$SOCK" ] && ctl status >/dev/null || fail "the running livemig lost its socket"
pass "a live control socket is refused (exit $rc): $(grep -i 'in use' "$WORK/second.err")"
drop_tables u

wait_status state '"postponed"'
copied=$(json_field "$STATUS" rows_copied)
[ "$copied" -ge "$ROWS" ] || fail "postponed with only $copied rows copied"
sleep 1
applied1=$(json_field "$(ctl status)" changes_applied)
sleep 1.5
applied2=$(json_field "$(ctl status)" changes_applied)
[ "$applied2" -gt "$applied1" ] || fail "changes are not applied while postponed"
pass "postponed after copying $copied rows; changes still applied ($applied1 -> $applied2)"
table_exists _t_new || fail "postponed: no shadow"

[ "$(ctl cutover)" = "ok: cutover will not wait for the postpone flag" ] ||
    fail "cutover: unexpected answer"
wait_livemig
expect_rc 0 "steered migration"
sleep 2
workload_stop
show_create t | grep -q '`c_new` int' || fail "the ALTER was not applied"
[ ! -e "$SOCK" ] || fail "the control socket file was left behind"
cols="${TYPES_COLUMNS}"
assert_tables_equal t "$cols" r "$cols"
pass "cutover on command, table equals the reference"

# ---------------------------------------------------------------- 2. abort
reload
snapshot_table t
touch "$POSTPONE"
start_livemig --postpone-cutover-flag "$POSTPONE" --cleanup
wait_status state '"postponed"'
[ "$(ctl abort)" = "ok: aborting" ] || fail "abort: unexpected answer"
wait_livemig
expect_rc 1 "abort"
assert_untouched t "abort"
pass "abort with --cleanup: exit 1, table untouched, helpers dropped"

# ---------------------------------------------------------------- 3. SIGTERM
start_livemig --postpone-cutover-flag "$POSTPONE"
wait_status state '"postponed"'
kill -TERM "$LM_PID"
wait_livemig
expect_rc 1 "SIGTERM"
table_exists _t_new && table_exists _t_ckp ||
    fail "SIGTERM: the shadow and the checkpoint should be kept for --resume"
grep -q 'with --resume to continue' "$WORK/livemig.err" || fail "SIGTERM: no hint about --resume"
sql "DROP TABLE _t_new, _t_ckp"
assert_untouched t "SIGTERM"
pass "SIGTERM: exit 1, table untouched, shadow and checkpoint kept for --resume"

# ---------------------------------------------------------------- 4. a stale socket file
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] || fail "could not make a stale socket"
rm -f "$POSTPONE"
start_livemig --postpone-cutover-flag "$POSTPONE"
wait_livemig
expect_rc 0 "stale socket"
pass "a stale control socket file is replaced"

drop_tables t r t_base _t_old _t_new
