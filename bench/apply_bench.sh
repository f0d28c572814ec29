#!/usr/bin/env bash
# The apply path of livemig on a fixed change stream, for comparing two
# builds (not a ctest test: timings vary).
#
#   bench/apply_bench.sh LIVEMIG [BASE_LIVEMIG]
#
# Needs a running rig (RIG_DIR=DIR, started with tests/rig/mariadb.sh start
# DIR). Builds two tables, takes a backup of each at a binlog position P,
# writes a fixed workload (python3, seeded), and archives the binlog files.
# Then each binary migrates fresh copies of the backups with --changes-from
# (the same changes, always), and the script reports:
#   hot:  a table with three hot rows (half of the changes), updates of
#         random rows, inserts, deletes and key changes, in transactions of
#         100;
#   one:  one row updated 30000 times, in transactions of 1000;
#         for both: the REPLACE and DELETE statements the server ran
#         (Com_replace, Com_delete), the rows the server wrote
#         (Handler_write + _update + _delete, the copy's included), the wall time, and
#         whether the result equals the source;
#   wide: 4 KiB rows updated 20000 times while the copy is held back by
#         --throttle-flag, so the change queue fills: livemig's peak RSS.
# Environment: HOT_STMTS (default 60000), WIDE_UPDATES (default 20000),
# HOLD (seconds the wide copy is held, default 8).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
new=${1:?usage: $0 LIVEMIG [BASE_LIVEMIG]}
base=${2:-}
hot_stmts=${HOT_STMTS:-60000}
wide_updates=${WIDE_UPDATES:-20000}
hold=${HOLD:-8}
: "${RIG_DIR:?RIG_DIR must name a running tests/rig/mariadb.sh directory}"
# shellcheck source=/dev/null
. "$RIG_DIR/env"
work=$(mktemp -d /tmp/apply-bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

sql() {
    mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$MARIADB_PORT" -uroot --batch \
        --skip-column-names test ${1:+-e "$1"}
}
com() { # the server's count of REPLACE + DELETE statements, and of row writes, so far
    sql "SELECT SUM(IF(VARIABLE_NAME LIKE 'COM%', VARIABLE_VALUE, 0)),
                SUM(IF(VARIABLE_NAME LIKE 'HANDLER%', VARIABLE_VALUE, 0))
         FROM information_schema.GLOBAL_STATUS
         WHERE VARIABLE_NAME IN ('COM_REPLACE', 'COM_DELETE', 'COM_DELETE_MULTI',
               'HANDLER_WRITE', 'HANDLER_UPDATE', 'HANDLER_DELETE')"
}
checksum() {
    sql "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', id, v, pad))), 0) FROM \`$1\`"
}

tables="hb h1 wd hb_bk h1_bk wd_bk hb_m h1_m wd_m _hb_m_old _h1_m_old _wd_m_old"
[ -n "${KEEP:-}" ] || sql "DROP TABLE IF EXISTS ${tables// /, }"
sql "CREATE TABLE hb (id int PRIMARY KEY, v int NOT NULL, pad varchar(200) NOT NULL);
     INSERT INTO hb SELECT seq, 0, REPEAT('p', 100) FROM seq_1_to_20000;
     CREATE TABLE h1 LIKE hb; INSERT INTO h1 SELECT * FROM hb WHERE id <= 1000;
     CREATE TABLE wd (id int PRIMARY KEY, v int NOT NULL, pad mediumtext NOT NULL);
     INSERT INTO wd SELECT seq, 0, REPEAT('w', 4096) FROM seq_1_to_2000;"
sql "CREATE TABLE hb_bk LIKE hb; INSERT INTO hb_bk SELECT * FROM hb;
     CREATE TABLE h1_bk LIKE h1; INSERT INTO h1_bk SELECT * FROM h1;
     CREATE TABLE wd_bk LIKE wd; INSERT INTO wd_bk SELECT * FROM wd"

python3 - "$hot_stmts" "$wide_updates" "$work" <<'PY'
import random, sys
hot, wide, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rnd = random.Random(7)
ids = set(range(1, 20001))
nxt = 1000000
out = []
for i in range(hot):
    if i % 100 == 0:
        out.append("BEGIN;")
    r = rnd.random()
    if r < 0.5:
        out.append(f"UPDATE hb SET v = v + 1 WHERE id = {rnd.randint(1, 3)};")
    elif r < 0.75:
        out.append(f"UPDATE hb SET v = v + 1 WHERE id = {rnd.randint(4, 20000)};")
    elif r < 0.85:
        nxt += 1
        ids.add(nxt)
        out.append(f"INSERT INTO hb VALUES ({nxt}, 1, 'new');")
    elif r < 0.93:
        # A row inserted earlier in this transaction or an old one.
        k = nxt if rnd.random() < 0.3 else rnd.randint(4, 20000)
        if k in ids and k > 3:
            ids.discard(k)
            out.append(f"DELETE FROM hb WHERE id = {k};")
    else:
        k = rnd.randint(4, 20000)
        if k in ids:
            nxt += 1
            ids.discard(k)
            ids.add(nxt)
            out.append(f"UPDATE hb SET id = {nxt} WHERE id = {k};")
    if i % 100 == 99:
        out.append("COMMIT;")
out.append("COMMIT;")
open(f"{work}/hb.sql", "w").write("\n".join(out) + "\n")
out = []
for i in range(30000):
    if i % 1000 == 0:
        out.append("BEGIN;")
    out.append("UPDATE h1 SET v = v + 1 WHERE id = 1;")
    if i % 1000 == 999:
        out.append("COMMIT;")
open(f"{work}/h1.sql", "w").write("\n".join(out) + "\n")
out = []
for i in range(wide):
    if i % 100 == 0:
        out.append("BEGIN;")
    out.append(f"UPDATE wd SET v = v + 1 WHERE id = {rnd.randint(1, 2000)};")
    if i % 100 == 99:
        out.append("COMMIT;")
out.append("COMMIT;")
open(f"{work}/wd.sql", "w").write("\n".join(out) + "\n")
PY
# Each table's changes in binlog files of their own: the start position in
# $work/T.start, the archived files in $work/T/.
for t in hb h1 wd; do
    sql "FLUSH BINARY LOGS"
    first=$(sql "SHOW MASTER STATUS" | cut -f1)
    # The file's start, not the position SHOW MASTER STATUS gives (its first
    # transaction): --changes-start there skips that transaction (a bug of
    # the --changes-from tail, seen while writing this).
    echo "$first:4" >"$work/$t.start"
    t0=$(date +%s.%N)
    sql <"$work/$t.sql"
    t1=$(date +%s.%N)
    sql "FLUSH BINARY LOGS"
    last=$(sql "SHOW MASTER STATUS" | cut -f1)
    mkdir "$work/$t"
    while read -r f; do
        [[ "$f" < "$first" || ! "$f" < "$last" ]] || cp "$MARIADB_DATADIR/$f" "$work/$t/"
    done < <(sql "SHOW BINARY LOGS" | cut -f1)
    echo "workload on $t: $(grep -vc 'BEGIN\|COMMIT' "$work/$t.sql") statements in $(echo "$t1 - $t0" | bc) s," \
        "binlog $(du -sh "$work/$t" | cut -f1) from $(cat "$work/$t.start")"
done

apply_run() { # LABEL BINARY NAME TABLE
    local label=$1 bin=$2 name=$3 t=$4 s0 w0 s1 w1 t1 t2 same
    sql "DROP TABLE IF EXISTS ${t}_m, _${t}_m_old; CREATE TABLE ${t}_m LIKE ${t}_bk;
         INSERT INTO ${t}_m SELECT * FROM ${t}_bk"
    read -r s0 w0 < <(com)
    t1=$(date +%s.%N)
    "$bin" migrate --dsn "$MARIADB_DSN" --table "${t}_m" \
        --alter 'ADD COLUMN z int NOT NULL DEFAULT 7' --execute --no-verify \
        --changes-table "test.$t" --changes-start "$(cat "$work/$t.start")" \
        --changes-from "$work/$t"/* \
        2>"$work/$label.$t.err" || {
        tail "$work/$label.$t.err"
        exit 1
    }
    t2=$(date +%s.%N)
    read -r s1 w1 < <(com)
    [ "$(checksum "${t}_m")" = "$(checksum "$t")" ] && same=equal || same=DIFFERENT
    printf '%-5s %-5s %6d REPLACE/DELETE statements, %7d rows written, %5.1f s, result %s\n' \
        "$label" "$name:" $((s1 - s0)) $((w1 - w0)) "$(echo "$t2 - $t1" | bc)" "$same"
}

run() { # LABEL BINARY
    local label=$1 bin=$2 rss
    apply_run "$label" "$bin" hot hb
    apply_run "$label" "$bin" one h1

    sql "DROP TABLE IF EXISTS wd_m, _wd_m_old; CREATE TABLE wd_m LIKE wd_bk;
         INSERT INTO wd_m SELECT * FROM wd_bk"
    touch "$work/hold"
    (sleep "$hold" && rm -f "$work/hold") &
    /usr/bin/time -f '%M' -o "$work/$label.rss" "$bin" migrate --dsn "$MARIADB_DSN" --table wd_m \
        --alter 'ADD COLUMN z int NOT NULL DEFAULT 7' --execute --no-verify \
        --throttle-flag "$work/hold" --changes-table test.wd --changes-start "$(cat "$work/wd.start")" \
        --changes-from "$work/wd"/* 2>"$work/$label.wide.err" || {
        tail "$work/$label.wide.err"
        exit 1
    }
    wait
    rss=$(tail -n 1 "$work/$label.rss")
    printf '%-5s wide:  peak RSS %d MiB (copy held %s s while the files were read)\n' "$label" \
        $((rss / 1024)) "$hold"
}

[ -z "$base" ] || run base "$base"
run new "$new"
[ -n "${KEEP:-}" ] || sql "DROP TABLE IF EXISTS ${tables// /, }"
