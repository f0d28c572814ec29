#!/usr/bin/env bash
# Throughput of livemig's binlog tooling against mariadb-binlog, measured in
# the same run on the same binlog file (not a ctest test: timings vary).
#
#   bench/binlog_bench.sh [BUILD_DIR] [MB]      (defaults: build, 100)
#
# Starts a throwaway MariaDB (tests/rig/mariadb.sh) unless RIG_DIR names a
# running one, writes ~MB of row events on a many-types table into one
# binlog file, then measures:
#   decode:  mariadb-binlog -v FILE  vs  livemig dump --format json FILE
#            (and livemig dump text); MB/s, rows/s, speed-up
#   record:  livemig record --from FILE:4 --until FILE:END (CPU seconds,
#            best of 3) vs mariadb-binlog --read-from-remote-server --raw
#            (streaming and writing the same bytes, no compression) and vs
#            livemig record --level 0 (livemig's own streaming, writing the
#            plain binlog: what zstd adds); zstd ratio
#   read:    livemig dump of the recording (decompress + decode)
#   replay:  livemig replay of the recording into an empty copy; rows/s
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
mb=${2:-100}
LIVEMIG=$build/livemig
[ -x "$LIVEMIG" ] || { echo "no $LIVEMIG: build first" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lm-bench.XXXXXX")
own_rig=
if [ -z "${RIG_DIR:-}" ]; then
    RIG_DIR=$work/rig
    own_rig=1
    "$here/tests/rig/mariadb.sh" start "$RIG_DIR" >/dev/null
fi
cleanup() {
    [ -n "$own_rig" ] && "$here/tests/rig/mariadb.sh" stop "$RIG_DIR" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
. "$RIG_DIR/env"
sql() {
    mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$MARIADB_PORT" -uroot \
        --default-character-set=utf8mb4 -N -B test "$@"
}
TIMEFORMAT='%R %U %S'
# t NAME CMD…: run, print "real user sys" seconds into $work/NAME.time
t() {
    local name=$1
    shift
    { time "$@" >/dev/null 2>"$work/$name.err"; } 2>"$work/$name.time"
}
real() { cut -d' ' -f1 "$work/$1.time"; }
cpu() { awk '{print $2 + $3}' "$work/$1.time"; }
calc() { python3 -c "print(round($1, 2))"; }

# ---- data: one binlog file of ~MB of row events
sql -e "DROP TABLE IF EXISTS bench_t, bench_copy;
CREATE TABLE bench_t (id int unsigned PRIMARY KEY, c_int int, c_big bigint unsigned,
  c_dec decimal(12,3), c_dbl double, c_vc varchar(64) CHARACTER SET utf8mb4, c_text text,
  c_blob blob, c_date date, c_dt datetime(6), c_ts timestamp(6) NULL, c_time time(3),
  c_enum enum('a','b','c'), c_set set('x','y','z'), c_bit bit(10), c_json json) ENGINE=InnoDB;
CREATE TABLE bench_copy LIKE bench_t; FLUSH BINARY LOGS"
file=$(sql -e "SHOW MASTER STATUS" | cut -f1)
path=$MARIADB_DATADIR/$file
next=1
while [ "$(stat -c %s "$path")" -lt $((mb * 1000000)) ]; do
    sql -e "INSERT INTO bench_t SELECT seq, seq * 7919 % 2000001 - 1000000, seq * 184467440737,
      (seq * 37 % 1000000000) / 1000, seq / 7e0, CONCAT('naïve ', seq, ' ☃'),
      REPEAT(CONCAT('lorem ipsum ', seq % 97, ' '), 1 + seq % 5), UNHEX(MD5(seq)),
      '1990-01-01' + INTERVAL (seq % 20000) DAY,
      TIMESTAMP'2001-02-03 04:05:06.123456' + INTERVAL seq SECOND,
      TIMESTAMP'2010-01-01 00:00:00' + INTERVAL seq MINUTE, SEC_TO_TIME(seq % 86400),
      ELT(1 + seq % 3, 'a', 'b', 'c'), MAKE_SET(seq % 8, 'x', 'y', 'z'), seq % 1024,
      JSON_OBJECT('n', seq, 's', CONCAT('v', seq))
      FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_${next}_to_$((next + 19999))) s;
      UPDATE bench_t SET c_int = c_int + 1, c_vc = CONCAT(c_vc, '+')
      WHERE id BETWEEN $next AND $((next + 9999));
      DELETE FROM bench_t WHERE id BETWEEN $next AND $((next + 1999))"
    next=$((next + 20000))
done
end=$(sql -e "SHOW MASTER STATUS" | cut -f2)
sql -e "FLUSH BINARY LOGS"
bytes=$(stat -c %s "$path")
MB=$(calc "$bytes / 1e6")
echo "binlog: $file, $MB MB"

# ---- decode
# Each decoder runs 3 times and its fastest run counts (wall time; CPU
# time too, which other load on a shared machine disturbs less).
best_real() {
    local name=$1 i
    shift
    for i in 1 2 3; do
        t "$name.$i" "$@"
    done
    cp "$(for i in 1 2 3; do echo "$(real "$name.$i") $work/$name.$i.time"; done |
        sort -n | head -1 | cut -d' ' -f2)" "$work/$name.time"
}
best_real mb mariadb-binlog --no-defaults -v "$path"
best_real json "$LIVEMIG" dump --format json "$path"
best_real text "$LIVEMIG" dump "$path"
rows=$("$LIVEMIG" dump --format json "$path" | wc -l)
echo "decode: $rows row changes"
printf '  %-34s %8s s %9s MB/s %11s rows/s\n' \
    "mariadb-binlog -v" "$(real mb)" "$(calc "$MB / $(real mb)")" "$(calc "$rows / $(real mb)")" \
    "livemig dump --format json" "$(real json)" "$(calc "$MB / $(real json)")" \
    "$(calc "$rows / $(real json)")" \
    "livemig dump (text)" "$(real text)" "$(calc "$MB / $(real text)")" "$(calc "$rows / $(real text)")"
echo "  speed-up vs mariadb-binlog -v: json $(calc "$(real mb) / $(real json)")x," \
    "text $(calc "$(real mb) / $(real text)")x (target >= 5x)"
echo "  CPU seconds: mariadb-binlog $(cpu mb), json $(cpu json), text $(cpu text);" \
    "CPU speed-up: json $(calc "$(cpu mb) / max($(cpu json), 0.01)")x," \
    "text $(calc "$(cpu mb) / max($(cpu text), 0.01)")x"

# ---- record vs plain streaming
# Runs of a fraction of a second on a shared machine are noisy: each
# command runs 3 times and the one with the least CPU counts.
best3() {
    local name=$1 i
    shift
    for i in 1 2 3; do
        t "$name.$i" "$@"
    done
    cp "$(for i in 1 2 3; do echo "$(cpu "$name.$i") $work/$name.$i.time"; done |
        sort -n | head -1 | cut -d' ' -f2)" "$work/$name.time"
}
rec=$work/rec.binlog.zst
best3 rec "$LIVEMIG" record --dsn "$MARIADB_DSN" --out "$rec" --from "$file:4" --until "$file:$end"
# --level 0 (not in the usage): same stream and transaction tracking, no zstd
best3 plain "$LIVEMIG" record --dsn "$MARIADB_DSN" --out "$work/plain.binlog" --level 0 \
    --from "$file:4" --until "$file:$end"
mkdir -p "$work/raw"
best3 stream mariadb-binlog --no-defaults --read-from-remote-server --raw -h127.0.0.1 \
    -P"$MARIADB_PORT" -uroot --result-file="$work/raw/" "$file"
rbytes=$(stat -c %s "$rec")
echo "record: $(calc "$rbytes / 1e6") MB, zstd ratio $(calc "$bytes / $rbytes") (target >= 2.5)"
printf '  %-47s %6s s wall %6s s CPU\n' \
    "livemig record (zstd level 1)" "$(real rec)" "$(cpu rec)" \
    "livemig record --level 0 (no zstd)" "$(real plain)" "$(cpu plain)" \
    "mariadb-binlog --read-from-remote-server --raw" "$(real stream)" "$(cpu stream)"
echo "  record CPU / mariadb-binlog --raw CPU: $(calc "$(cpu rec) / max($(cpu stream), 0.01)")" \
    "(target <= 1.05)"
echo "  record CPU / livemig --level 0 CPU: $(calc "$(cpu rec) / max($(cpu plain), 0.01)")" \
    "(the cost of zstd over livemig's own streaming)"

# ---- reading the recording
t recjson "$LIVEMIG" dump --format json "$rec"
echo "read recording: $(real recjson) s ($(calc "$MB / $(real recjson)") MB/s of binlog)"

# ---- replay
t replay "$LIVEMIG" replay "$rec" --to "$MARIADB_DSN" --tables test.bench_t \
    --rename test.bench_t=test.bench_copy
t replay50 "$LIVEMIG" replay "$rec" --to "$MARIADB_DSN" --tables test.bench_t \
    --rename test.bench_t=test.bench_copy --commit-every 50
echo "replay: $(calc "$rows / $(real replay)") rows/s (one target transaction per source" \
    "transaction), $(calc "$rows / $(real replay50)") rows/s (--commit-every 50, an overlap)"
same=$(sql -e "SELECT (SELECT COUNT(*) FROM bench_t) = (SELECT COUNT(*) FROM bench_copy)
    AND (SELECT BIT_XOR(CRC32(CONCAT_WS('|', id, c_int, c_vc, c_json))) FROM bench_t) =
        (SELECT BIT_XOR(CRC32(CONCAT_WS('|', id, c_int, c_vc, c_json))) FROM bench_copy)")
echo "replayed copy equals the source: $([ "$same" = 1 ] && echo yes || echo NO)"
sql -e "DROP TABLE bench_t, bench_copy"
