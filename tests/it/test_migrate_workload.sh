#!/usr/bin/env bash
# The core migration under live writes, checked against a reference table.
#
# A table t of many column types (100k rows) and an identical reference r.
# For each kind of ALTER: reload both, start the random workload (same
# changes to r and t in one transaction), run
#   livemig migrate --table t --alter '…' --execute --chunk-size 2000
# (or, for the cases whose name has an odd length, the default adaptive
# chunks on three copy threads: --threads 3)
# keep writing a few seconds past the cutover (into the new t), stop, and
# require t == r on the mapped columns: renamed columns under their new
# name, dropped ones left out, added ones ignored. The old table must remain
# as _t_old and no _t_new may be left.
#
# Environment:
#   LIVEMIG_IT_RUNS=N     repeat all cases N times (default 1; the Done-when
#                         bar is 20 consecutive passes: run by hand, e.g.
#                         LIVEMIG_IT_RUNS=20 scripts/it tests/it/test_migrate_workload.sh)
#   LIVEMIG_IT_ROWS=N     rows in t (default 100000)
#   LIVEMIG_IT_CASES="a b" only these cases (names below)
#   LIVEMIG_IT_THREADS, LIVEMIG_IT_TPS  workload threads (3) and rate (600 tx/s)
#   LIVEMIG_IT_SEED       first workload seed (default: random, printed)
. "$(dirname "$0")/lib.sh"

RUNS=${LIVEMIG_IT_RUNS:-1}
ROWS=${LIVEMIG_IT_ROWS:-100000}
THREADS=${LIVEMIG_IT_THREADS:-3}
TPS=${LIVEMIG_IT_TPS:-600}
SEED=${LIVEMIG_IT_SEED:-$((RANDOM * 32768 + RANDOM))}
AFTER_CUTOVER_S=3

# name | ALTER | renames (old=new …) | dropped columns | SHOW CREATE must match (grep -E) | must not match
CASES=(
    "add_column|ADD COLUMN c_new varchar(32) NOT NULL DEFAULT 'n/a'||\
|\`c_new\` varchar\(32\) NOT NULL DEFAULT 'n/a'|"
    "drop_column|DROP COLUMN c_text||c_text||\`c_text\`"
    "modify_type|MODIFY c_vu varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL, \
MODIFY c_int bigint NULL|||\`c_vu\` varchar\(255\).*|\`c_int\` int"
    "change_rename|CHANGE c_dec c_amount decimal(12,3) NULL|c_dec=c_amount||\
\`c_amount\` decimal\(12,3\)|\`c_dec\`"
    "rename_column|RENAME COLUMN c_date TO c_day|c_date=c_day||\`c_day\` date|\`c_date\`"
    "add_index|ADD INDEX k_dt (c_dt, c_ts)|||KEY \`k_dt\` \(\`c_dt\`,\`c_ts\`\)|"
    "charset_modify|MODIFY c_latin char(20) CHARACTER SET utf8mb4 NULL|||\`c_latin\` char\(20\)|latin1"
    "charset_convert|CONVERT TO CHARACTER SET utf8mb4|||\`c_latin\` char\(20\)|latin1"
)

TABLES=(t r t_base _t_old _t_new _t_chk)
drop_tables "${TABLES[@]}"
log "building t_base: $ROWS rows"
make_types_table t_base "$ROWS"

run_case() {
    local run=$1 spec=$2
    local name alter renames dropped want unwanted
    IFS='|' read -r name alter renames dropped want unwanted <<<"$spec"
    local seed=$((SEED + run * 100 + ${#name}))
    local started=$SECONDS
    log "=== run $run/$RUNS: $name: ALTER TABLE t $alter (workload seed $seed)"

    drop_tables t r _t_old _t_new
    clone_table t_base t
    clone_table t_base r

    local wl=(--threads "$THREADS" --tps "$TPS" --seed "$seed") m
    for m in $renames; do
        wl+=(--rename "$m")
    done
    workload_start t r "${wl[@]}"
    sleep 1

    local copy=(--chunk-size 2000)
    [ $((${#name} % 2)) = 1 ] && copy=(--threads 3)
    migrate --table t --alter "$alter" --execute "${copy[@]}"
    expect_rc 0 "$name"
    # The live-change path must have been exercised, not only the copy.
    grep -qE 'applied [1-9][0-9]* change' "$WORK/livemig.err" ||
        fail "$name: livemig applied no binlog changes (did the workload overlap the copy?)"

    sleep "$AFTER_CUTOVER_S"
    workload_stop

    table_exists _t_old || fail "$name: _t_old is missing after the cutover (no --drop-old)"
    ! table_exists _t_new || fail "$name: _t_new is left behind"
    local create
    create=$(show_create t)
    grep -qE -- "$want" <<<"$create" || {
        printf '%b\n' "$create" >&2
        fail "$name: the new t does not match /$want/"
    }
    if [ -n "$unwanted" ] && grep -qE -- "$unwanted" <<<"$create"; then
        printf '%b\n' "$create" >&2
        fail "$name: the new t still matches /$unwanted/"
    fi

    # Column lists: r's columns minus dropped, t's names after renames.
    local rcols=() tcols=() c d skip new
    for c in $(table_columns r); do
        skip=0
        for d in $dropped; do
            [ "$c" = "$d" ] && skip=1
        done
        [ "$skip" = 1 ] && continue
        new=$c
        for m in $renames; do
            [ "${m%%=*}" = "$c" ] && new=${m#*=}
        done
        rcols+=("$c")
        tcols+=("$new")
    done
    assert_tables_equal t "${tcols[*]}" r "${rcols[*]}" id
    sed "s/^/  | /" "$WORK/livemig.err" | tail -n 8
    pass "run $run $name ($((SECONDS - started)) s; $WL_SUMMARY)"
}

for run in $(seq 1 "$RUNS"); do
    for spec in "${CASES[@]}"; do
        name=${spec%%|*}
        if [ -n "${LIVEMIG_IT_CASES:-}" ] && ! grep -qw -- "$name" <<<"$LIVEMIG_IT_CASES"; then
            continue
        fi
        run_case "$run" "$spec"
    done
done

drop_tables "${TABLES[@]}"
pass "all cases passed ($RUNS run(s), seed $SEED)"
