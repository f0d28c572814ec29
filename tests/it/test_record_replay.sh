#!/usr/bin/env bash
# livemig record / dump / replay end to end:
# 1. record a range of the binlog (--from/--until) during >= 10k mixed DML
#    of the concurrent workload on the many-types table (with a rotation in
#    the middle);
# 2. `zstd -dc REC | mariadb-binlog -v -` shows exactly the row events the
#    server's own binlog has for that range;
# 3. `livemig dump` reads the recording and agrees with dump of the files;
# 4. `livemig replay` into an empty copy makes it equal to the source, and
#    replaying again over the whole range (an overlap) still converges;
# 5. a torn recording yields whole transactions, then exit 1 naming the
#    file and byte offset;
# 6. --tables: the filtered recording is still a binlog mariadb-binlog reads;
# 7. SIGINT closes the recording cleanly.
. "$(dirname "$0")/lib.sh"

SRC=lm_rec_src
REF=lm_rec_ref
CPY=lm_rec_copy
OTHER=lm_rec_other
at_exit "drop_tables $SRC $REF $CPY $OTHER"
REC=$WORK/rec.binlog.zst
MIN_DML=${LM_REC_MIN_DML:-10000}

master_pos() { sql "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' ':'; }

drop_tables $SRC $REF $CPY $OTHER
sql "FLUSH BINARY LOGS"
FROM=$(master_pos)
log "recording from $FROM"

# The table, its rows and the workload all happen inside the range.
make_types_table $SRC 1000
clone_table $SRC $REF
sql "CREATE TABLE $OTHER (id int PRIMARY KEY, v varchar(20))"
workload_start $SRC $REF --threads 4 --seed 4
dml=0
for i in $(seq 1 600); do
    sleep 1
    if [ "$i" = 3 ]; then
        sql "FLUSH BINARY LOGS" # a rotation inside the range
        sql "INSERT INTO $OTHER VALUES (1, 'other'), (2, 'x')"
    fi
    dml=$(sql "SELECT SUM(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS
               WHERE VARIABLE_NAME IN ('COM_INSERT', 'COM_UPDATE', 'COM_DELETE', 'COM_REPLACE')")
    : "${DML0:=$dml}"
    # Not before the rotation and the other table's rows are in the range.
    [ "$i" -gt 3 ] && [ "${dml%.*}" -ge "$((MIN_DML + DML0))" ] && break
done
workload_stop
UNTIL=$(master_pos)
log "workload: $((dml - DML0)) DML statements; range $FROM .. $UNTIL"
[ "$((dml - DML0))" -ge "$MIN_DML" ] || fail "only $((dml - DML0)) DML statements ran"

# 1. Record the range after the fact (the server still has it).
run_livemig record --dsn "$MARIADB_DSN" --out "$REC" --from "$FROM" --until "$UNTIL" \
    --frame-size 65536
expect_rc 0 "record --from --until"
cat "$WORK/livemig.err" >&2
zstd -tq "$REC" || fail "zstd -t does not accept the recording"
frames=$(zstd -lv "$REC" 2>/dev/null | sed -n 's/^# Zstandard Frames: *\([0-9]*\).*/\1/p')
log "recording: $(stat -c %s "$REC") bytes, ${frames:-?} zstd frames"
pass "recorded $FROM .. $UNTIL"

# 2. mariadb-binlog on the decompressed recording = on the server's files.
rows_of() { grep -aE '^###' | sed -e 's/[[:space:]]*$//'; }
files=()
first=${FROM%%:*} last=${UNTIL%%:*}
for f in $(sed -e 's|.*/||' "$MARIADB_DATADIR"/mysql-bin.index); do
    [[ "$f" < "$first" ]] && continue
    [[ "$f" > "$last" ]] && continue
    files+=("$MARIADB_DATADIR/$f")
done
mariadb-binlog --no-defaults -v --start-position="${FROM##*:}" --stop-position="${UNTIL##*:}" \
    "${files[@]}" 2>"$WORK/mb.server.err" | rows_of >"$WORK/server.rows" ||
    fail "mariadb-binlog on the server files failed: $(cat "$WORK/mb.server.err")"
zstd -dc "$REC" | mariadb-binlog --no-defaults -v - 2>"$WORK/mb.rec.err" | rows_of \
    >"$WORK/rec.rows" || fail "mariadb-binlog cannot read the recording: $(cat "$WORK/mb.rec.err")"
[ -s "$WORK/server.rows" ] || fail "the server's binlog range shows no row events"
if ! cmp -s "$WORK/server.rows" "$WORK/rec.rows"; then
    diff "$WORK/server.rows" "$WORK/rec.rows" | head -20 >&2
    fail "mariadb-binlog shows different row events in the recording"
fi
pass "mariadb-binlog -v: recording = server binlog ($(grep -c '^### \(INSERT\|UPDATE\|DELETE\)' \
    "$WORK/server.rows") row events)"

# 3. dump reads the recording like the files (positions included).
"$LIVEMIG" dump --format json --tables "test.$SRC" "$REC" >"$WORK/rec.json" ||
    fail "dump of the recording failed"
for f in "${files[@]}"; do "$LIVEMIG" dump --format json --tables "test.$SRC" "$f"; done |
    python3 -c '
import json, sys
lo_f, lo_p = sys.argv[1].split(":"); hi_f, hi_p = sys.argv[2].split(":")
for line in sys.stdin:
    o = json.loads(line)
    k = (o["file"], o["pos"])
    if (o["file"], o["pos"]) >= (lo_f, int(lo_p)) and (o["file"], o["pos"]) < (hi_f, int(hi_p)):
        print(line, end="")' "$FROM" "$UNTIL" >"$WORK/files.json"
cmp -s "$WORK/rec.json" "$WORK/files.json" || {
    diff "$WORK/rec.json" "$WORK/files.json" | head -5 >&2
    fail "dump --format json differs between the recording and the files"
}
pass "dump: recording = files ($(wc -l <"$WORK/rec.json") row changes)"

# 4. Replay into an empty copy, then again over the whole range.
sql "CREATE TABLE $CPY LIKE $SRC"
run_livemig replay "$REC" --to "$MARIADB_DSN" --tables "test.$SRC" --rename "test.$SRC=test.$CPY"
expect_rc 0 "replay"
cat "$WORK/livemig.err" >&2
assert_tables_equal $SRC "$TYPES_COLUMNS" $CPY "$TYPES_COLUMNS"
run_livemig replay "$REC" --to "$MARIADB_DSN" --tables "test.$SRC" --rename "test.$SRC=test.$CPY" \
    --commit-every 50
expect_rc 0 "replay again (overlap)"
assert_tables_equal $SRC "$TYPES_COLUMNS" $CPY "$TYPES_COLUMNS"
# --from: half of it again, from a position in the middle.
mid=$(sed -n "$(($(wc -l <"$WORK/rec.json") / 2))p" "$WORK/rec.json" |
    python3 -c 'import json,sys; o=json.load(sys.stdin); print("%s:%d" % (o["file"], o["pos"]))')
run_livemig replay "$REC" --to "$MARIADB_DSN" --tables "test.$SRC" --rename "test.$SRC=test.$CPY" \
    --from "$mid"
expect_rc 0 "replay --from $mid"
assert_tables_equal $SRC "$TYPES_COLUMNS" $CPY "$TYPES_COLUMNS"

# 5. A torn recording: whole transactions, then one error line, exit 1.
size=$(stat -c %s "$REC")
head -c $((size * 2 / 3)) "$REC" >"$WORK/torn.binlog.zst"
run_livemig dump "$WORK/torn.binlog.zst"
expect_rc 1 "dump of a torn recording"
expect_error "torn.binlog.zst: .* at byte [0-9]+" "dump of a torn recording"
tail -n 1 "$WORK/livemig.out" | grep -qE ' (XID|ROTATE|QUERY|GTID_LIST|BINLOG_CHECKPOINT)' ||
    fail "a torn recording did not end at a transaction boundary: $(tail -n 1 "$WORK/livemig.out")"
[ "$(wc -l <"$WORK/livemig.out")" -gt 100 ] || fail "a torn recording yielded too little"
pass "torn recording: $(wc -l <"$WORK/livemig.out") events, then: $(head -n 1 "$WORK/livemig.err")"

# 6. --tables: transactions of other tables are left out; still a binlog.
run_livemig record --dsn "$MARIADB_DSN" --out "$WORK/f.binlog.zst" --from "$FROM" \
    --until "$UNTIL" --tables "test.$OTHER"
expect_rc 0 "record --tables"
zstd -dc "$WORK/f.binlog.zst" | mariadb-binlog --no-defaults -v - 2>"$WORK/mb.f.err" |
    rows_of >"$WORK/f.rows" || fail "mariadb-binlog cannot read a filtered recording"
grep -q "INSERT INTO \`test\`.\`$OTHER\`" "$WORK/f.rows" || fail "filtered recording lost $OTHER"
if grep -q "\`$SRC\`" "$WORK/f.rows"; then
    fail "filtered recording kept transactions of $SRC"
fi
"$LIVEMIG" dump "$WORK/f.binlog.zst" >/dev/null || fail "dump of a filtered recording failed"
pass "--tables: $(stat -c %s "$WORK/f.binlog.zst") bytes, mariadb-binlog reads it"

# 7. SIGINT closes the recording: frames and index whole.
"$LIVEMIG" record --dsn "$MARIADB_DSN" --out "$WORK/live.binlog.zst" >"$WORK/live.out" \
    2>"$WORK/live.err" &
pid=$!
sleep 1
sql "INSERT INTO $OTHER VALUES (3, 'live'); UPDATE $OTHER SET v = 'y' WHERE id = 3"
sleep 1
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "record exited $rc on SIGINT: $(cat "$WORK/live.err")"
zstd -tq "$WORK/live.binlog.zst" || fail "the recording closed by SIGINT is not whole"
"$LIVEMIG" dump --format json "$WORK/live.binlog.zst" >"$WORK/live.json" ||
    fail "dump of the live recording failed"
[ "$(grep -c "\"$OTHER\"" "$WORK/live.json")" = 2 ] || fail "live recording lacks the 2 changes"
tail -c 8 "$WORK/live.binlog.zst" | tail -c 4 | grep -q LMIX || fail "no index at the end"
pass "SIGINT: recording closed with its index"
