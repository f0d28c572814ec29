#!/usr/bin/env bash
# The case suite: every directory tests/cases/<name>/ is one migration run
# end to end against the rig (see tests/cases/README.md for the format).
#
#   CASES='enum_*' bash tests/it/test_cases.sh     # a subset (shell glob)
#
# For a case that should succeed: create.sql, start the workload
# (workload.sql in a loop, and any EVENT create.sql made), migrate with a
# postponed cutover, wait until postponed, stop the workload, cut over,
# then compare _<t>_old with the new <t> on the mapped columns with an
# independent SQL query (values as hex of utf8mb4 text / of bytes, rows
# sorted), and check expect_structure. A case with expect_failure must make
# livemig fail with that text in its error message, leave no helper tables and
# leave the table's definition as it was. A case with an xfail file is a
# known failure: its result is reported, not counted.
. "$(dirname "$0")/lib.sh"

CASES_DIR=${CASES_DIR:-$SRC_DIR/tests/cases}
PATTERN=${CASES:-*}
WL_LOOP=

wl_loop_stop() {
    if [ -n "$WL_LOOP" ]; then
        touch "$WORK/case.stop"
        wait "$WL_LOOP" 2>/dev/null || true
        WL_LOOP=
    fi
    # Events are the other kind of workload.
    local ev
    for ev in $(sql "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'test'"); do
        sql "DROP EVENT IF EXISTS \`$ev\`"
    done
}
at_exit wl_loop_stop

wl_loop_start() {
    local f=$1
    rm -f "$WORK/case.stop"
    (
        while [ ! -e "$WORK/case.stop" ]; do
            sql <"$f" >/dev/null 2>>"$WORK/workload.log" || true
            sleep 0.05
        done
    ) &
    WL_LOOP=$!
}

reset_db() {
    sql "DROP DATABASE IF EXISTS test; CREATE DATABASE test"
}

# The comparison expression for one line of orig_columns/new_columns: a
# bare column name is rendered by its type, anything else is used as is.
col_render() {
    local t=$1 c=$2 type
    if ! [[ $c =~ ^\`.*\`$|^[A-Za-z0-9_$]+$ ]]; then
        printf '%s' "$c"
        return
    fi
    c=${c#\`}
    c=${c%\`}
    c=${c//\`\`/\`}
    type=$(sql "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'test'
                AND TABLE_NAME = '$(sql_str "$t")' AND COLUMN_NAME = '$(sql_str "$c")'")
    c="\`${c//\`/\`\`}\`"
    case "$type" in
    "") fail "column $t.$c does not exist" ;;
    binary | varbinary | *blob | geometry | point | *polygon | *linestring | *collection)
        printf 'HEX(%s)' "$c" ;;
    bit) printf '%s + 0' "$c" ;;
    float) printf 'CAST(%s AS DOUBLE)' "$c" ;;
    char | varchar | *text | enum | set | json) printf 'HEX(CONVERT(%s USING utf8mb4))' "$c" ;;
    *) printf '%s' "$c" ;;
    esac
}

# Columns of both tables by name (the new table's order), for cases
# without orig_columns/new_columns.
common_columns() {
    sql "SELECT CONCAT('\`', REPLACE(n.COLUMN_NAME, '\`', '\`\`'), '\`') FROM information_schema.COLUMNS n JOIN information_schema.COLUMNS o
         ON o.TABLE_SCHEMA = 'test' AND o.TABLE_NAME = '$(sql_str "$2")'
            AND o.COLUMN_NAME = n.COLUMN_NAME
         WHERE n.TABLE_SCHEMA = 'test' AND n.TABLE_NAME = '$(sql_str "$1")'
         ORDER BY n.ORDINAL_POSITION"
}

dump_rows() {
    local t=$1 listfile=$2 out=$3 expr="" line
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        expr+="${expr:+, }IFNULL($(col_render "$t" "$line"), 'NULL')"
    done <"$listfile"
    sql "SELECT CONCAT_WS(' | ', $expr) FROM \`$t\`" >"$out.raw" || return 1
    LC_ALL=C sort "$out.raw" >"$out"
}

# run_case DIR: 0 pass, 1 fail (message in $WORK/case.why)
run_case() {
    local d=$1 name t alter flag rc i
    name=$(basename "$d")
    t=$(cat "$d/table" 2>/dev/null || echo t)
    alter=$(cat "$d/alter")
    flag=$WORK/postpone
    : >"$WORK/case.why"
    : >"$WORK/workload.log"
    reset_db
    sql "SET GLOBAL event_scheduler = ON"
    sql <"$d/create.sql" || {
        echo "create.sql failed" >"$WORK/case.why"
        return 1
    }
    local create_before
    create_before=$(show_create "$t")
    [ -f "$d/workload.sql" ] && wl_loop_start "$d/workload.sql"
    sleep 0.3

    if [ -f "$d/expect_failure" ]; then
        run_livemig migrate --dsn "$MARIADB_DSN" --table "$t" --alter "$alter" --execute \
            --chunk-size 100 --cutover-retries 3
        wl_loop_stop
        local want
        want=$(cat "$d/expect_failure")
        if [ "$LM_RC" = 0 ]; then
            echo "livemig succeeded; expected a failure with: $want" >"$WORK/case.why"
            return 1
        fi
        # The error itself must say it, not some earlier info line.
        if ! grep -i 'error' "$WORK/livemig.err" | grep -qiF -- "$want"; then
            echo "exit $LM_RC but the message lacks '$want': $(grep -i error "$WORK/livemig.err" | head -3)" >"$WORK/case.why"
            return 1
        fi
        if [ -n "$(helper_tables "$t")" ]; then
            echo "helper tables left: $(helper_tables "$t" | tr '\n' ' ')" >"$WORK/case.why"
            return 1
        fi
        if [ "$(show_create "$t")" != "$create_before" ]; then
            echo "the table's definition changed" >"$WORK/case.why"
            return 1
        fi
        echo "failed as expected (exit $LM_RC): $(grep -i 'error' "$WORK/livemig.err" |
            grep -iF -m1 -- "$want")" >"$WORK/case.why"
        return 0
    fi

    touch "$flag"
    : >"$WORK/livemig.err" # not only in the child: the wait below greps it at once
    log "livemig migrate --table $t --alter '$alter'"
    "$LIVEMIG" migrate --dsn "$MARIADB_DSN" --table "$t" --alter "$alter" --execute \
        --chunk-size "$(cat "$d/chunk_size" 2>/dev/null || echo 100)" \
        --postpone-cutover-flag "$flag" --progress-interval 1 \
        >"$WORK/livemig.out" 2>"$WORK/livemig.err" &
    local pid=$!
    for i in $(seq 1 600); do
        grep -q 'cutover postponed' "$WORK/livemig.err" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    sleep 0.5
    wl_loop_stop
    rm -f "$flag"
    rc=0
    wait "$pid" || rc=$?
    if [ "$rc" != 0 ]; then
        echo "livemig exited $rc: $(grep -i 'error' "$WORK/livemig.err" | head -3)" >"$WORK/case.why"
        return 1
    fi
    local old="_${t}_old"
    if [ -f "$d/orig_columns" ]; then
        cp "$d/orig_columns" "$WORK/cols.old"
    else
        common_columns "$t" "$old" >"$WORK/cols.old"
    fi
    if [ -f "$d/new_columns" ]; then
        cp "$d/new_columns" "$WORK/cols.new"
    else
        common_columns "$t" "$old" >"$WORK/cols.new"
    fi
    if ! dump_rows "$old" "$WORK/cols.old" "$WORK/rows.old" ||
        ! dump_rows "$t" "$WORK/cols.new" "$WORK/rows.new"; then
        echo "the comparison query failed" >"$WORK/case.why"
        return 1
    fi
    if [ "$(sql "SELECT COUNT(*) FROM \`$t\`")" != "$(wc -l <"$WORK/rows.new")" ]; then
        echo "the comparison did not read every row" >"$WORK/case.why"
        return 1
    fi
    if ! cmp -s "$WORK/rows.old" "$WORK/rows.new"; then
        {
            echo "old and new differ: $(wc -l <"$WORK/rows.old") vs $(wc -l <"$WORK/rows.new") rows"
            diff "$WORK/rows.old" "$WORK/rows.new" | head -10
        } >"$WORK/case.why"
        return 1
    fi
    if [ -f "$d/expect_structure" ]; then
        local create line
        create=$(sql "SHOW CREATE TABLE \`$t\`" | cut -f2-)
        while IFS= read -r line; do
            [ -n "$line" ] || continue
            grep -qE -- "$line" <<<"$(printf '%b' "$create")" || {
                printf 'structure lacks /%s/:\n%b\n' "$line" "$create" >"$WORK/case.why"
                return 1
            }
        done <"$d/expect_structure"
    fi
    echo "$(wc -l <"$WORK/rows.new") rows equal on $(wc -l <"$WORK/cols.new") columns" >"$WORK/case.why"
    return 0
}

passed=0 failed=0 xfailed=0 xpassed=0
failures=()
started=$SECONDS
for d in "$CASES_DIR"/$PATTERN/; do
    [ -f "$d/alter" ] || continue
    name=$(basename "$d")
    t0=$SECONDS
    if run_case "$d"; then
        result=pass
    else
        result=fail
        show_file "livemig stderr of $name" "$WORK/livemig.err" 15
    fi
    why=$(head -c 600 "$WORK/case.why")
    if [ -f "$d/xfail" ]; then
        if [ "$result" = pass ]; then
            xpassed=$((xpassed + 1))
            printf 'XPASS %s: remove %s/xfail (%s)\n' "$name" "$d" "$why"
        else
            xfailed=$((xfailed + 1))
            printf 'XFAIL %s: %s (known: %s)\n' "$name" "$why" "$(head -n1 "$d/xfail")"
        fi
    elif [ "$result" = pass ]; then
        passed=$((passed + 1))
        printf 'ok - case %s (%ss): %s\n' "$name" $((SECONDS - t0)) "$why"
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf 'FAIL case %s (%ss): %s\n' "$name" $((SECONDS - t0)) "$why"
    fi
done
reset_db
total=$((passed + failed + xfailed + xpassed))
echo "cases: $total run, $passed passed, $failed failed, $xfailed known failures, $xpassed unexpected passes ($((SECONDS - started))s)"
[ "$total" -gt 0 ] || fail "no case matched '$PATTERN' in $CASES_DIR"
[ "$failed" = 0 ] || fail "failed cases: ${failures[*]}"
