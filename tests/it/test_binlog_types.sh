#!/usr/bin/env bash
# Every MariaDB column type through the binlog: write rows, then compare what
# `livemig dump --format json` decodes from the binlog file with what SELECT
# returns. Run without table-map metadata, with binlog_row_metadata=FULL, and
# with FULL plus log_bin_compress (MariaDB's compressed row/query events).
set -euo pipefail
: "${LIVEMIG:?LIVEMIG must name the livemig binary}"
: "${RIG_DIR:?}" "${SRC_DIR:?}"
# shellcheck disable=SC1091
source "$RIG_DIR/env"
export MARIADB_PORT

here=$SRC_DIR/tests/it
check=$here/binlog_types_check.py
work=$(mktemp -d)

db() {
    mariadb --no-defaults --default-character-set=utf8mb4 -uroot -h127.0.0.1 -P"$MARIADB_PORT" test "$@"
}

orig_meta=$(db -N -e "SELECT @@global.binlog_row_metadata")
orig_compress=$(db -N -e "SELECT @@global.log_bin_compress")
orig_minlen=$(db -N -e "SELECT @@global.log_bin_compress_min_len")
cleanup() {
    db -e "DROP TABLE IF EXISTS lm_bl_types_min, lm_bl_types_full, lm_bl_types_compressed" || true
    db -e "SET GLOBAL binlog_row_metadata=$orig_meta; SET GLOBAL log_bin_compress=$orig_compress;
           SET GLOBAL log_bin_compress_min_len=$orig_minlen" || true
    rm -rf "$work"
}
trap cleanup EXIT

fail=0

# run_case NAME METADATA COMPRESS CHECKMODE
run_case() {
    local name=$1 meta=$2 compress=$3 mode=$4 table=lm_bl_types_$1 file path
    echo "== $name: binlog_row_metadata=$meta log_bin_compress=$compress"
    db -e "SET GLOBAL binlog_row_metadata=$meta; SET GLOBAL log_bin_compress=$compress;
           SET GLOBAL log_bin_compress_min_len=10; DROP TABLE IF EXISTS $table; FLUSH BINARY LOGS"
    file=$(db -N -e "SHOW MASTER STATUS" | cut -f1)
    path=$MARIADB_DATADIR/$file
    [ -f "$path" ] || { echo "binlog $path not found"; exit 1; }
    sed "s/@T@/$table/g" "$here/binlog_types.sql" | db
    python3 "$check" capture "$table" "$work/$name.s1.json"
    sed "s/@T@/$table/g" "$here/binlog_types_dml.sql" | db
    python3 "$check" capture "$table" "$work/$name.s2.json"
    db -e "FLUSH BINARY LOGS"

    if ! "$LIVEMIG" dump --format json "$path" >"$work/$name.jsonl" 2>"$work/$name.err"; then
        echo "livemig dump --format json $path failed:"
        cat "$work/$name.err"
        fail=1
        return
    fi
    if ! python3 "$check" compare --mode "$mode" "$table" "$work/$name.jsonl" \
        "$work/$name.s1.json" "$work/$name.s2.json"; then
        echo "--- dump output:"
        grep "\"$table\"" "$work/$name.jsonl" || true
        fail=1
    fi
    # The text format must read the same file without complaint.
    if ! "$LIVEMIG" dump "$path" >"$work/$name.txt" 2>"$work/$name.err"; then
        echo "livemig dump (text) $path failed:"
        cat "$work/$name.err"
        fail=1
    fi
    if [ "$compress" = ON ] && ! grep -q "_COMPRESSED" "$work/$name.txt"; then
        echo "log_bin_compress=ON produced no compressed events to decode"
        fail=1
    fi
    last_path=$path
}

run_case min NO_LOG OFF min
run_case full FULL OFF full
run_case compressed FULL ON full

# A torn last event: exit 1 and a message naming the file and offset.
size=$(stat -c %s "$last_path")
head -c $((size - 7)) "$last_path" >"$work/torn.000001"
set +e
"$LIVEMIG" dump --format json "$work/torn.000001" >/dev/null 2>"$work/torn.err"
rc=$?
set -e
if [ $rc -ne 1 ] || ! grep -q "torn.000001: truncated event at byte [0-9]" "$work/torn.err"; then
    echo "truncated binlog: expected exit 1 and 'truncated event at byte N', got $rc:"
    cat "$work/torn.err"
    fail=1
fi

if [ $fail -ne 0 ]; then
    echo "FAIL: test_binlog_types"
    exit 1
fi
echo "PASS: test_binlog_types"
