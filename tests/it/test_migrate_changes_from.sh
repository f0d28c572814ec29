#!/usr/bin/env bash
# migrate --changes-from: a table restored from a backup taken at a known
# binlog position is migrated and brought forward from archived binlog files
# or a recording, instead of the server's live stream.
#
# The "backup" is bk0, a copy of src taken at position P while nothing
# writes. Then the workload writes src (and its reference ref) in two phases
# with a binlog rotation and a snapshot `mid` at position M in between. Each
# migration of a fresh copy of bk0 must end equal to src (or to mid with
# --changes-until M), with the new column filled; bad file sets (a gap, a
# file cut short, a start before the first file) fail and leave the copy as
# it was.
. "$(dirname "$0")/lib.sh"

COLS=$TYPES_COLUMNS
ALTER='ADD COLUMN z int NOT NULL DEFAULT 7, MODIFY c_tiny smallint NULL'
tables="src ref mid bk0 bk1 bk2 bk3 bk4 bk5"
drop_tables $tables _bk1_new _bk2_new _bk3_new _bk4_new _bk5_new _bk1_old _bk2_old _bk3_old

make_types_table src 20000
clone_table src ref
# The backup first, then P: the first event group after P (right after the
# new file's header events) is then the workload's first transaction on src,
# which livemig once skipped.
clone_table src bk0
sql "FLUSH BINARY LOGS"
read -r pfile ppos < <(sql "SHOW MASTER STATUS" | cut -f1,2)
log "backup bk0 taken at $pfile:$ppos"

workload_start src ref --threads 3 --seed 41
sleep 2
sql "FLUSH BINARY LOGS" # a rotation under writes
sleep 2
workload_stop
read -r mfile mpos < <(sql "SHOW MASTER STATUS" | cut -f1,2)
clone_table src mid
sql "FLUSH BINARY LOGS"
workload_start src ref --threads 3 --seed 42
sleep 4
workload_stop
read -r efile epos < <(sql "SHOW MASTER STATUS" | cut -f1,2)
sql "FLUSH BINARY LOGS"
log "changes from $pfile:$ppos to $efile:$epos (mid $mfile:$mpos)"

# The archived binlogs: from the backup's file up to the last complete one.
mkdir -p "$WORK/binlogs"
files=()
while read -r f; do
    if [[ "$f" > "$efile" ]]; then break; fi
    [[ "$f" < "$pfile" ]] && continue
    cp "$MARIADB_DATADIR/$f" "$WORK/binlogs/$f"
    files+=("$WORK/binlogs/$f")
done < <(sql "SHOW BINARY LOGS" | cut -f1)
[ "${#files[@]}" -ge 3 ] || fail "expected at least 3 binlog files, got ${#files[@]}"
log "archived ${#files[@]} binlog files"

check_migrated() { # TABLE REFERENCE
    assert_tables_equal "$1" "$COLS" "$2" "$COLS"
    [ "$(sql "SELECT COUNT(*) FROM \`$1\` WHERE z <> 7")" = 0 ] || fail "$1.z is not 7 everywhere"
    [ "$(sql "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
              AND TABLE_NAME = '$1' AND COLUMN_NAME = 'c_tiny'")" = smallint ] ||
        fail "$1.c_tiny was not changed to smallint"
    [ "$(helper_tables "$1" | tr '\n' ' ')" = "_$1_old " ] ||
        fail "helper tables: $(helper_tables "$1" | tr '\n' ' ') (expected only _$1_old)"
}

# --- raw binlog files
clone_table bk0 bk1
migrate --table bk1 --alter "$ALTER" --execute --changes-table test.src \
    --changes-start "$pfile:$ppos" --changes-from "${files[@]}"
expect_rc 0 "migrate bk1 from the binlog files"
grep -q 'read the --changes-from files' "$WORK/livemig.err" || fail "no end-of-files line"
check_migrated bk1 src
sql "DROP TABLE _bk1_old"

# --- a recording of the same range
rec=$WORK/changes.binlog.zst
run_livemig record --dsn "$MARIADB_DSN" --out "$rec" --from "$pfile:$ppos" --until "$efile:$epos"
expect_rc 0 "record the range"
clone_table bk0 bk2
migrate --table bk2 --alter "$ALTER" --execute --changes-table test.src --changes-from "$rec"
expect_rc 0 "migrate bk2 from a recording"
check_migrated bk2 src
sql "DROP TABLE _bk2_old"

# --- --changes-until: the state at M
clone_table bk0 bk3
migrate --table bk3 --alter "$ALTER" --execute --changes-table test.src \
    --changes-start "$pfile:$ppos" --changes-until "$mfile:$mpos" --changes-from "${files[@]}"
expect_rc 0 "migrate bk3 up to $mfile:$mpos"
check_migrated bk3 mid
sql "DROP TABLE _bk3_old"

# --- bad file sets: the copy stays as it was
clone_table bk0 bk4
snapshot_table bk4
last=$((${#files[@]} - 1))
gap=("${files[0]}" "${files[@]:2}")
migrate --table bk4 --alter "$ALTER" --execute --changes-table test.src \
    --changes-start "$pfile:$ppos" --changes-from "${gap[@]}"
expect_rc 1 "a missing file"
expect_error 'changes in between are missing' "a missing file"
assert_untouched bk4 "a missing file"
pass "a missing file in the middle: exit 1, table untouched"

migrate --table bk4 --alter "$ALTER" --execute --changes-table test.src \
    --changes-start "$pfile:$ppos" --changes-from "${files[@]:1}"
expect_rc 1 "files that start after --changes-start"
expect_error 'after --changes-start' "files that start after --changes-start"
assert_untouched bk4 "files that start after --changes-start"
pass "files starting after --changes-start: exit 1, table untouched"

migrate --table bk4 --alter "$ALTER" --execute --changes-table test.src \
    --changes-from "${files[1]}" "${files[0]}"
expect_rc 1 "files out of order"
expect_error 'overlap or are out of order' "files out of order"
assert_untouched bk4 "files out of order"
pass "files out of order: exit 1, table untouched"

# The last file cut in the middle of a row event.
cut_file=$WORK/cut.bin
size=$(stat -c %s "${files[$last]}")
head -c $((size / 2)) "${files[$last]}" >"$cut_file"
migrate --table bk4 --alter "$ALTER" --execute --changes-table test.src \
    --changes-start "$pfile:$ppos" --changes-from "${files[@]:0:$last}" "$cut_file"
expect_rc 1 "a file cut short"
expect_error 'cut\.bin' "a file cut short"
assert_untouched bk4 "a file cut short"
pass "a file cut short: exit 1 naming it, table untouched"

# --- refusals before anything is created
clone_table bk0 bk5
snapshot_table bk5
expect_refusal "--resume with --changes-from" 'resume does not work with --changes-from' \
    migrate --dsn "$MARIADB_DSN" --table bk5 --alter "$ALTER" --execute --resume \
    --changes-from "${files[0]}"
expect_refusal "--changes-start alone" 'go with --changes-from' \
    migrate --dsn "$MARIADB_DSN" --table bk5 --alter "$ALTER" --execute --changes-start "$pfile:4"
expect_refusal "an unreadable file" 'changes-from .*nope.*cannot read' \
    migrate --dsn "$MARIADB_DSN" --table bk5 --alter "$ALTER" --execute \
    --changes-from "$WORK/nope.bin"
expect_refusal "a bad position" 'invalid position' \
    migrate --dsn "$MARIADB_DSN" --table bk5 --alter "$ALTER" --execute \
    --changes-start nocolon --changes-from "${files[0]}"
assert_untouched bk5 "refusals"

drop_tables $tables
