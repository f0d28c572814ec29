#!/usr/bin/env bash
# The flagship (issue 7): flatten Patchwork online. On the v2.2 schema
# (examples/patchwork/schema.sql) with 50k generated submissions, under a
# Patchwork-shaped workload (tests/it/pw_workload.c: submission+patch in one
# transaction, Patch.save() updates, deletes with children first, comments;
# after the cutover it dual-writes diff/pull_url to the submission too), run
#   livemig migrate --table patchwork_submission \
#       --alter 'ADD COLUMN diff longtext NULL, ADD COLUMN pull_url varchar(255) NULL' \
#       --fill-from 'patchwork_patch ON …: diff, pull_url' --foreign-keys=rebuild --execute
# and check:
#   - the dry run prints the fill and the FK work; without --foreign-keys=rebuild
#     the table is refused (exit 2) and untouched;
#   (i)   every submission's diff/pull_url equal its patch's (NULL for cover letters);
#   (ii)  patchwork_submission equals the workload's reference (nothing lost or
#         invented; comment counts and patch/cover letter children agree too);
#   (iii) the FKs that referenced patchwork_submission have the same names,
#         columns and rules and reference the new table, none references the
#         old one; the table's own FKs keep their names; the definition is the
#         old one plus the two columns;
#   (iv)  the FKs are enforced against the new table (1452 for a missing
#         submission, 1451 for deleting a referenced one, including a row
#         inserted after the cutover, which only the new table has);
#   (v)   the workload had no fatal error, committed after the cutover as the
#         new code (v2_inserts > 0) with ids that continue the old table's
#         AUTO_INCREMENT, and saw FK errors only within a few seconds (the
#         documented window between the swap and the re-pointed FKs);
#   (vi)  the old table is kept as _patchwork_submission_old, no
#         _patchwork_submission_new is left.
# The test uses a database of its own, `pw` (dropped and re-created each run,
# left in place after a failure for inspection).
#
# Environment:
#   LIVEMIG_IT_RUNS=N              repeat N times (default 1; the bar is 10
#                                  consecutive passes, by hand:
#                                  LIVEMIG_IT_RUNS=10 scripts/it tests/it/test_patchwork_flatten.sh)
#   LIVEMIG_IT_PW_SUBMISSIONS=N    generated submissions (default 50000)
#   LIVEMIG_IT_THREADS, LIVEMIG_IT_TPS  workload threads (3) and rate (200 tx/s)
#   LIVEMIG_IT_SEED                first workload seed (default: random, printed)
#   LIVEMIG_IT_PW_FK_WINDOW_S=S    the workload's FK errors must all fall within S
#                                  seconds (default 3, like --cutover-lock-timeout)
. "$(dirname "$0")/lib.sh"

RUNS=${LIVEMIG_IT_RUNS:-1}
SUBMISSIONS=${LIVEMIG_IT_PW_SUBMISSIONS:-50000}
THREADS=${LIVEMIG_IT_THREADS:-3}
TPS=${LIVEMIG_IT_TPS:-200}
SEED=${LIVEMIG_IT_SEED:-$((RANDOM * 32768 + RANDOM))}
FK_WINDOW_S=${LIVEMIG_IT_PW_FK_WINDOW_S:-3}
AFTER_CUTOVER_S=3

T=patchwork_submission
ALTER='ADD COLUMN diff longtext NULL, ADD COLUMN pull_url varchar(255) NULL'
FILL='patchwork_patch ON patchwork_patch.submission_ptr_id = patchwork_submission.id: diff, pull_url'
# The constraints that reference patchwork_submission in the v2.2 schema.
REFERENCING=(patchwork_coverlette_submission_ptr_id_42f348d7_fk_patchwork
    patchwork_patch_submission_ptr_id_03216801_fk_patchwork
    patchwork_comment_submission_id_69e4e741_fk_patchwork)

# sql, migrate and the workload on a database of our own.
DB=pw
[[ "$MARIADB_DSN" =~ ^(mysql://[^/]+)(/[^?]*)?(\?.*)?$ ]] || fail "cannot parse the DSN $MARIADB_DSN"
DSN_DB=${BASH_REMATCH[2]#/}
MARIADB_DSN=${BASH_REMATCH[1]}/$DB${BASH_REMATCH[3]}

# sql in the DSN's own database, for CREATE/DROP DATABASE.
sql_server() {
    local DB=${DSN_DB:-test}
    sql "$1"
}

# ------------------------------------------------------------ the workload

PW_PID=
pw_start() {
    rm -f "$WORK/pw.stop"
    "$TOOLS_DIR/pw_workload" --dsn "$MARIADB_DSN" --threads "$THREADS" --tps "$TPS" \
        --seed "$1" --stop-file "$WORK/pw.stop" --seconds 900 >"$WORK/workload.log" 2>&1 &
    PW_PID=$!
    log "pw_workload started (pid $PW_PID, seed $1)"
}

_pw_kill() {
    if [ -n "$PW_PID" ] && kill -0 "$PW_PID" 2>/dev/null; then
        kill "$PW_PID" 2>/dev/null
        wait "$PW_PID" 2>/dev/null
    fi
    PW_PID=
}
at_exit _pw_kill

# Stop the workload; it must exit 0 (1: a fatal error, 3: it diverged from
# its reference). Sets PW_SUMMARY.
pw_stop() {
    touch "$WORK/pw.stop"
    local rc=0
    for _ in $(seq 1 600); do
        kill -0 "$PW_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$PW_PID" 2>/dev/null && fail "pw_workload did not stop within 60 s"
    wait "$PW_PID" || rc=$?
    PW_PID=
    PW_SUMMARY=$(grep '^pw_workload: seconds=' "$WORK/workload.log" | tail -n 1 || true)
    log "${PW_SUMMARY:-pw_workload: no summary}"
    if grep -q 'FK error' "$WORK/workload.log"; then
        echo "FK errors seen by the workload:" >&2
        grep -A1 'FK error' "$WORK/workload.log" | head -40 >&2 || true
    fi
    case $rc in
    0) ;;
    3) fail "(ii) the workload's reference statements matched $(pw_count diverged) time(s) not" \
        "exactly one row: rows were lost or invented (see the workload log)" ;;
    *) fail "(v) pw_workload exited $rc (a fatal error, see the workload log)" ;;
    esac
}

pw_count() {
    sed -n "s/.* $1=\\([0-9]*\\).*/\\1/p" <<<"$PW_SUMMARY"
}

# ------------------------------------------------------------ checks

# expect_zero WHAT COUNT_SQL DETAIL_SQL: COUNT_SQL must give 0; else show
# DETAIL_SQL's rows (the first 10) and fail.
expect_zero() {
    local what=$1 n
    n=$(sql "$2")
    if [ "$n" != 0 ]; then
        echo "$what: $n row(s); the first ones:" >&2
        sql "$3 LIMIT 10" | sed 's/^/  /' >&2
        fail "$what"
    fi
    pass "$what"
}

# A statement that must fail with the server error CODE.
expect_sql_error() {
    local code=$1 what=$2 stmt=$3 out
    if out=$(sql "$stmt" 2>&1); then
        fail "(iv) $what: succeeded, expected error $code: $stmt"
    fi
    grep -q "ERROR $code " <<<"$out" || fail "(iv) $what: expected error $code, got: $out"
    pass "(iv) $what: error $code"
}

# The FKs that reference table $1 (or, fk_out, that $1 has): name, table,
# column, referenced table and column, update and delete rules.
FK_COLS="k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,
    k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE
    FROM information_schema.KEY_COLUMN_USAGE k
    JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.TABLE_SCHEMA
        AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
    WHERE k.TABLE_SCHEMA = DATABASE()"
fk_in() {
    sql "SELECT $FK_COLS AND k.REFERENCED_TABLE_NAME = '$1' ORDER BY 1, 2, 3"
}
fk_out() {
    sql "SELECT $FK_COLS AND k.TABLE_NAME = '$1' AND k.REFERENCED_TABLE_NAME IS NOT NULL
         ORDER BY 1, 2, 3"
}

# Binary comparison: the columns are utf8mb3_general_ci, where 'a' = 'A '.
same() {
    printf 'BINARY %s <=> BINARY %s' "$1" "$2"
}

check_data() {
    # (i) the filled columns
    expect_zero "(i) every submission's diff/pull_url equal its patch's (NULL for cover letters)" \
        "SELECT COUNT(*) FROM $T s LEFT JOIN patchwork_patch p ON p.submission_ptr_id = s.id
         WHERE NOT ($(same s.diff p.diff) AND $(same s.pull_url p.pull_url))" \
        "SELECT s.id, p.submission_ptr_id IS NOT NULL AS has_patch,
                LENGTH(s.diff), LENGTH(p.diff), MD5(s.diff), MD5(p.diff), s.pull_url, p.pull_url
         FROM $T s LEFT JOIN patchwork_patch p ON p.submission_ptr_id = s.id
         WHERE NOT ($(same s.diff p.diff) AND $(same s.pull_url p.pull_url)) ORDER BY s.id"
    # (ii) against the reference, both ways
    local differs
    differs="r.id IS NULL OR NOT ($(same s.msgid r.msgid) AND $(same s.name r.name)
             AND $(same s.diff r.diff) AND $(same s.pull_url r.pull_url))"
    expect_zero "(ii) every submission is in ref_submission with the same msgid, name, diff, pull_url" \
        "SELECT COUNT(*) FROM $T s LEFT JOIN ref_submission r ON r.id = s.id WHERE $differs" \
        "SELECT s.id, r.id AS ref_id, s.msgid, r.msgid, s.name, r.name, MD5(s.diff), MD5(r.diff),
                s.pull_url, r.pull_url
         FROM $T s LEFT JOIN ref_submission r ON r.id = s.id WHERE $differs ORDER BY s.id"
    expect_zero "(ii) no submission of ref_submission is missing" \
        "SELECT COUNT(*) FROM ref_submission r LEFT JOIN $T s ON s.id = r.id WHERE s.id IS NULL" \
        "SELECT r.id, r.msgid, r.name, r.is_cover FROM ref_submission r
         LEFT JOIN $T s ON s.id = r.id WHERE s.id IS NULL ORDER BY r.id"
    expect_zero "(ii) each submission has the patch or cover letter of its reference" \
        "SELECT COUNT(*) FROM ref_submission r
         LEFT JOIN patchwork_patch p ON p.submission_ptr_id = r.id
         LEFT JOIN patchwork_coverletter c ON c.submission_ptr_id = r.id
         WHERE (p.submission_ptr_id IS NULL) = (c.submission_ptr_id IS NULL)
            OR r.is_cover <> (c.submission_ptr_id IS NOT NULL)
            OR NOT ($(same p.diff r.diff) AND $(same p.pull_url r.pull_url))" \
        "SELECT r.id, r.is_cover, p.submission_ptr_id, c.submission_ptr_id, MD5(p.diff), MD5(r.diff)
         FROM ref_submission r LEFT JOIN patchwork_patch p ON p.submission_ptr_id = r.id
         LEFT JOIN patchwork_coverletter c ON c.submission_ptr_id = r.id
         WHERE (p.submission_ptr_id IS NULL) = (c.submission_ptr_id IS NULL)
            OR r.is_cover <> (c.submission_ptr_id IS NOT NULL)
            OR NOT ($(same p.diff r.diff) AND $(same p.pull_url r.pull_url)) ORDER BY r.id"
    expect_zero "(ii) each submission has the number of comments of its reference" \
        "SELECT COUNT(*) FROM ref_submission r LEFT JOIN (SELECT submission_id, COUNT(*) AS n
         FROM patchwork_comment GROUP BY submission_id) m ON m.submission_id = r.id
         WHERE r.ncomments <> COALESCE(m.n, 0)" \
        "SELECT r.id, r.ncomments, m.n FROM ref_submission r LEFT JOIN (SELECT submission_id,
         COUNT(*) AS n FROM patchwork_comment GROUP BY submission_id) m ON m.submission_id = r.id
         WHERE r.ncomments <> COALESCE(m.n, 0) ORDER BY r.id"
    local child col
    for child in patchwork_comment.submission_id patchwork_patch.submission_ptr_id \
        patchwork_coverletter.submission_ptr_id; do
        col=${child#*.}
        child=${child%.*}
        expect_zero "(ii) no $child row refers to a missing submission" \
            "SELECT COUNT(*) FROM $child x LEFT JOIN $T s ON s.id = x.$col WHERE s.id IS NULL" \
            "SELECT x.$col FROM $child x LEFT JOIN $T s ON s.id = x.$col WHERE s.id IS NULL"
    done
}

check_fks() {
    local max_patch max_comment before after
    # (iii) the definitions
    fk_in "$T" >"$WORK/fk_in.after"
    if ! cmp -s "$WORK/fk_in.before" "$WORK/fk_in.after"; then
        echo "FKs referencing $T, before (<) and after (>):" >&2
        diff "$WORK/fk_in.before" "$WORK/fk_in.after" >&2 || true
        fail "(iii) the FKs referencing $T changed (names, columns, rules, or they do not point at the new table)"
    fi
    pass "(iii) the $(wc -l <"$WORK/fk_in.after") FKs that referenced $T reference the new table, same names"
    [ -z "$(fk_in "_${T}_old")" ] || {
        fk_in "_${T}_old" >&2
        fail "(iii) FKs still reference _${T}_old"
    }
    pass "(iii) no FK references _${T}_old"
    fk_out "$T" >"$WORK/fk_out.after"
    if ! cmp -s "$WORK/fk_out.before" "$WORK/fk_out.after"; then
        diff "$WORK/fk_out.before" "$WORK/fk_out.after" >&2 || true
        fail "(iii) the new $T's own FKs differ from the old table's (names, columns, targets)"
    fi
    pass "(iii) the new $T carries its own $(wc -l <"$WORK/fk_out.after") FKs under their names"
    # The old definition plus the two columns: the columns in their order,
    # keys and constraints by name (the server may list them in another order).
    before=$(sed -e 's/\\n/\n/g' "$WORK/create.before" | sed 's/,$//' | sort)
    after=$(show_create "$T" | sed 's/\\n/\n/g' | grep -vE "^ *\`(diff|pull_url)\` " | sed 's/,$//' | sort)
    [ "$before" = "$after" ] || {
        diff <(echo "$before") <(echo "$after") >&2 || true
        fail "(iii) the new $T is not the old definition plus diff and pull_url"
    }
    [ "$(table_columns "$T" | tr '\n' ' ')" = "$(cat "$WORK/columns.before") diff pull_url " ] ||
        fail "(iii) the columns of the new $T are not the old ones + diff, pull_url:" \
            "$(table_columns "$T" | tr '\n' ' ')"
    show_create "$T" | grep -qF "\`diff\` longtext DEFAULT NULL" ||
        fail "(iii) the new $T has no column diff longtext NULL"
    show_create "$T" | grep -qF "\`pull_url\` varchar(255) DEFAULT NULL" ||
        fail "(iii) the new $T has no column pull_url varchar(255) NULL"
    pass "(iii) the new $T is the old definition plus diff and pull_url"

    # (iv) enforced, against the new table
    local bogus
    bogus=$(($(sql "SELECT MAX(id) FROM $T") + 1000000))
    expect_sql_error 1452 "a comment on a missing submission" \
        "INSERT INTO patchwork_comment (msgid, date, headers, content, submission_id, submitter_id)
         VALUES ('<fk-test>', NOW(6), '', '', $bogus, 1)"
    expect_sql_error 1452 "a patch of a missing submission" \
        "INSERT INTO patchwork_patch (submission_ptr_id, archived, patch_project_id)
         VALUES ($bogus, 0, 1)"
    expect_sql_error 1452 "a cover letter of a missing submission" \
        "INSERT INTO patchwork_coverletter (submission_ptr_id) VALUES ($bogus)"
    max_comment=$(sql "SELECT MAX(submission_id) FROM patchwork_comment")
    expect_sql_error 1451 "deleting submission $max_comment, which has comments" \
        "BEGIN; DELETE FROM $T WHERE id = $max_comment; ROLLBACK"
    # A patch the new code inserted after the cutover: only the new table has it.
    max_patch=$(sql "SELECT COALESCE(MAX(r.id), 0) FROM ref_submission r
                     JOIN patchwork_patch p ON p.submission_ptr_id = r.id WHERE r.v2")
    [ "$max_patch" -gt 0 ] || fail "(v) no patch inserted after the cutover is left"
    expect_sql_error 1451 "deleting submission $max_patch (inserted after the cutover), which has a patch" \
        "BEGIN; DELETE FROM $T WHERE id = $max_patch; ROLLBACK"
    sql "BEGIN; INSERT INTO patchwork_comment (msgid, date, headers, content, submission_id,
         submitter_id) VALUES ('<fk-test-ok>', NOW(6), '', '', $max_patch, 1); ROLLBACK" ||
        fail "(iv) a comment on submission $max_patch (inserted after the cutover) was refused"
    pass "(iv) a comment on submission $max_patch (inserted after the cutover) is accepted"
}

# ------------------------------------------------------------ one run

run_once() {
    local run=$1 seed=$(($1 + SEED)) started=$SECONDS out name
    log "=== run $run/$RUNS: $SUBMISSIONS submissions, workload seed $seed"
    sql_server "DROP DATABASE IF EXISTS \`$DB\`; CREATE DATABASE \`$DB\`"
    sql <"$SRC_DIR/examples/patchwork/schema.sql"
    MYSQL_PWD=$MARIADB_PASSWORD \
        MYSQL="mariadb --no-defaults --protocol=tcp -h$MARIADB_HOST -P$MARIADB_PORT -u$MARIADB_USER $DB" \
        "$SRC_DIR/examples/patchwork/generate" --submissions "$SUBMISSIONS" >&2
    "$TOOLS_DIR/pw_workload" --dsn "$MARIADB_DSN" --init-ref >&2

    fk_in "$T" >"$WORK/fk_in.before"
    fk_out "$T" >"$WORK/fk_out.before"
    show_create "$T" >"$WORK/create.before"
    table_columns "$T" | tr '\n' ' ' | sed 's/ $//' >"$WORK/columns.before"
    for name in "${REFERENCING[@]}"; do
        grep -q "^$name	" "$WORK/fk_in.before" || fail "setup: the schema lacks the FK $name"
    done
    snapshot_table "$T"

    # The plan: the fill and the FK work, nothing changed.
    migrate --table "$T" --alter "$ALTER" --fill-from "$FILL" --foreign-keys=rebuild
    expect_rc 0 "the dry run"
    out=$(cat "$WORK/livemig.out" "$WORK/livemig.err")
    for name in patchwork_patch diff pull_url "${REFERENCING[@]}"; do
        grep -q -- "$name" <<<"$out" || fail "the dry run's plan does not mention $name"
    done
    assert_untouched "$T" "the dry run"
    pass "the dry run prints the fill from patchwork_patch and the FKs to re-point; nothing changed"
    [ "$run" != 1 ] || printf -- '----- the plan\n%s\n-----\n' "$out"

    # Incoming FKs without --foreign-keys=rebuild: refused, untouched.
    migrate --table "$T" --alter "$ALTER" --fill-from "$FILL" --execute
    expect_rc 2 "without --foreign-keys=rebuild"
    for name in "${REFERENCING[@]}"; do
        expect_error "$name" "the refusal lists the referencing constraint $name"
    done
    assert_untouched "$T" "the refused run"
    fk_in "$T" | cmp -s - "$WORK/fk_in.before" || fail "the refused run changed the referencing FKs"
    pass "without --foreign-keys=rebuild: refused (exit 2), the table and its FKs untouched"

    # The migration under the workload.
    pw_start "$seed"
    sleep 1
    migrate_bg --table "$T" --alter "$ALTER" --fill-from "$FILL" --foreign-keys=rebuild --execute \
        --chunk-size 2000
    migrate_wait 300
    expect_rc 0 "the migration"
    assert_no_crash "the migration"
    # The ids the new table hands out continue the old table's.
    AI_OLD=$(sql "SELECT AUTO_INCREMENT FROM information_schema.TABLES
                  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '_${T}_old'")
    grep -qE 'applied [1-9][0-9]* change' "$WORK/livemig.err" ||
        fail "livemig applied no binlog changes (did the workload overlap the copy?)"
    sleep "$AFTER_CUTOVER_S"
    pw_stop

    # (v) the workload
    [ "$(pw_count diverged)" = 0 ] || fail "(v) the workload diverged from its reference"
    [ "$(pw_count v2_inserts)" -gt 0 ] ||
        fail "(v) no insert committed after the cutover (v2_inserts=0): $PW_SUMMARY"
    [ $(($(pw_count commits) - $(pw_count v2_commits))) -gt 0 ] ||
        fail "(v) the workload committed nothing before the cutover: $PW_SUMMARY"
    # FK errors only in the window between the swap and the re-pointed FKs.
    local span
    span=$(sed -n 's/^pw_workload\[[0-9]*\] \([0-9.]*\) s: FK error.*/\1/p' "$WORK/workload.log" |
        awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 }
             END { printf "%.3f", NR ? hi - lo : 0 }')
    awk -v s="$span" -v w="$FK_WINDOW_S" 'BEGIN { exit !(s <= w) }' ||
        fail "(v) the workload saw $(pw_count fk_errors) FK errors over $span s" \
            "(expected only in a window of at most $FK_WINDOW_S s around the cutover)"
    pass "(v) workload: no fatal error, $(pw_count v2_inserts) inserts as the new code after the cutover," \
        "$(pw_count fk_errors) FK error(s) within $span s"
    local min_v2
    min_v2=$(sql "SELECT COALESCE(MIN(id), $AI_OLD) FROM ref_submission WHERE v2")
    [ "$min_v2" -ge "$AI_OLD" ] ||
        fail "(v) the new table handed out id $min_v2, below the old table's AUTO_INCREMENT $AI_OLD (ids reused)"
    pass "(v) the new code's ids ($min_v2…) continue the old table's AUTO_INCREMENT ($AI_OLD)"

    # (vi) the tables
    table_exists "_${T}_old" || fail "(vi) the old table _${T}_old is missing (no --drop-old)"
    ! table_columns "_${T}_old" | grep -qx diff || fail "(vi) _${T}_old is not the old table"
    ! table_exists "_${T}_new" || fail "(vi) _${T}_new is left behind"
    ! table_exists "_${T}_ckp" || fail "(vi) _${T}_ckp is left behind"
    pass "(vi) _${T}_old kept, no _${T}_new left (helper tables: $(helper_tables "$T" | tr '\n' ' '))"

    check_data
    check_fks
    sed "s/^/  | /" "$WORK/livemig.err" | tail -n 8
    pass "run $run: Patchwork flattened online ($((SECONDS - started)) s; $PW_SUMMARY)"
}

for run in $(seq 1 "$RUNS"); do
    run_once "$run"
done
sql_server "DROP DATABASE IF EXISTS \`$DB\`"
pass "all $RUNS run(s) passed (seed $SEED)"
