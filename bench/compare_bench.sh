#!/usr/bin/env bash
# livemig against the server's own copy and pt-online-schema-change, in one
# run, on fresh copies of the same sysbench-style table (not a ctest test:
# timings vary).
#
#   bench/compare_bench.sh [BUILD_DIR] [ROWS]      (defaults: build, 1000000)
#
# Starts a throwaway MariaDB (tests/rig/mariadb.sh) unless RIG_DIR names a
# running one, installs sysbench, percona-toolkit and time if they are
# missing (a tool that cannot be installed loses its rows, with a note),
# builds a table like sysbench's sbtest1 (id int auto_increment PK, k int
# indexed, c char(120), pad char(60)) of ROWS rows, and times, each on a
# fresh copy, with the same change (ADD COLUMN x int NULL):
#   (a) ALTER TABLE … ADD COLUMN x int NULL, ENGINE=InnoDB, ALGORITHM=COPY
#       (offline: the table is locked for writes)
#   (b) INSERT INTO copy (…) SELECT … FROM t into an empty table with the new
#       schema, in one statement (the floor of any online copy: it writes the
#       same rows to the binlog as the online tools do, (a) writes none)
#   (c) pt-online-schema-change --execute (triggers, chunked INSERT … SELECT)
#   (d) livemig migrate --execute --drop-old with default options (plus
#       --progress-interval 0.5, which only makes the progress lines, and so
#       the lag read at the end of the copy, more frequent)
# all idle; then (c) and (d) again while sysbench oltp_write_only writes the
# table being migrated at a steady rate (4 threads), recording the
# workload's p99 and max transaction latency over exactly the tool's run
# (bench/write_only_lat.lua logs every transaction), next to a baseline of
# the same workload with no migration. For livemig it also reports the apply
# lag on the last progress line of the copy and how long the cutover blocked
# writes. Peak RSS of pt-osc and livemig comes from /usr/bin/time -v.
# After every run the table must have the new column and ROWS rows, or the
# script fails.
#
# Environment: LOAD_ROWS (rows for the loaded runs, default ROWS), RATE
# (sysbench transactions/s, default 200), WARMUP (seconds of load before a
# tool starts, default 3), IDLE_ONLY=1 (skip the loaded runs).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rows=${2:-1000000}
load_rows=${LOAD_ROWS:-$rows}
rate=${RATE:-200}
warmup=${WARMUP:-3}
LIVEMIG=$build/livemig
[ -x "$LIVEMIG" ] || { echo "no $LIVEMIG: build first" >&2; exit 2; }
# shellcheck source=/dev/null
. "$here/tests/rig/common.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/lm-cmpbench.XXXXXX")
own_rig=
SB=
cleanup() {
    [ -n "$SB" ] && kill "$SB" 2>/dev/null
    [ -n "$own_rig" ] && "$here/tests/rig/mariadb.sh" stop "$RIG_DIR" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
die() {
    echo "FAILED: $*" >&2
    exit 1
}

# ---- tools: install what is missing when apt works, else say what is skipped
can_apt=
if command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; }; then
    can_apt=1
fi
# need COMMAND PACKAGE: 0 when COMMAND is (or could be made) available
need() {
    command -v "$1" >/dev/null && return 0
    if [ -n "$can_apt" ]; then
        (rig_need_pkgs "$2") || true
        command -v "$1" >/dev/null && return 0
    fi
    echo "note: $1 (Debian package $2) is not available${can_apt:+ and could not be installed}${can_apt:- and apt-get is not usable}" >&2
    return 1
}
have_pt=
have_sb=
need pt-online-schema-change percona-toolkit && have_pt=1
need sysbench sysbench && have_sb=1
[ -x /usr/bin/time ] || need /usr/bin/time time || die "/usr/bin/time is needed for peak RSS"
[ -n "$have_pt" ] || echo "note: skipping pt-online-schema-change (column (c); ratios to (c) are left empty)" >&2
[ -n "$have_sb" ] || echo "note: skipping the loaded runs (no sysbench)" >&2
[ "${IDLE_ONLY:-0}" = 1 ] && have_sb= && echo "note: IDLE_ONLY=1: skipping the loaded runs" >&2

if [ -z "${RIG_DIR:-}" ]; then
    RIG_DIR=$work/rig
    own_rig=1
    "$here/tests/rig/mariadb.sh" start "$RIG_DIR" >/dev/null
fi
# shellcheck source=/dev/null
. "$RIG_DIR/env"
sql() {
    mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$MARIADB_PORT" -uroot -N -B test -e "$1"
}
now() { date +%s.%N; }
calc() { python3 -c "print(round($1, 2))"; }

# ---- the source table, built once without binlogging; every run starts
# from a copy of it
t_src0=$(now)
sql "SET SESSION sql_log_bin = 0;
DROP TABLE IF EXISTS sb_src;
CREATE TABLE sb_src (id int NOT NULL AUTO_INCREMENT, k int NOT NULL DEFAULT 0,
  c char(120) NOT NULL DEFAULT '', pad char(60) NOT NULL DEFAULT '',
  PRIMARY KEY (id), KEY k_1 (k)) ENGINE=InnoDB;
INSERT INTO sb_src SELECT seq, 1 + (seq * 7919) % $rows,
  CONCAT_WS('-', LPAD(seq * 48271 % 99999999989, 11, '0'), LPAD(seq * 69621 % 99999999977, 11, '0'),
    LPAD(seq * 16807 % 99999999967, 11, '0'), LPAD(seq * 39373 % 99999999947, 11, '0'),
    LPAD(seq * 40692 % 99999999943, 11, '0'), LPAD(seq * 40014 % 99999999929, 11, '0'),
    LPAD(seq * 53668 % 99999999907, 11, '0'), LPAD(seq * 12211 % 99999999889, 11, '0'),
    LPAD(seq * 3791 % 99999999871, 11, '0'), LPAD(seq * 2147 % 99999999851, 11, '0')),
  CONCAT_WS('-', LPAD(seq * 7 % 99999999989, 11, '0'), LPAD(seq * 13 % 99999999977, 11, '0'),
    LPAD(seq * 17 % 99999999967, 11, '0'), LPAD(seq * 19 % 99999999947, 11, '0'),
    LPAD(seq * 23 % 99999999943, 11, '0'))
  FROM seq_1_to_$rows"
echo "source table: $rows rows in $(calc "$(now) - $t_src0") s"

# reload N: a fresh sbtest1 of N rows (and nothing left of earlier runs)
reload() {
    local n=$1 t
    for t in $(sql "SELECT table_name FROM information_schema.tables WHERE table_schema = 'test'
                    AND (table_name LIKE '%sbtest1%' OR table_name = 'sb_copy')"); do
        sql "DROP TABLE IF EXISTS \`$t\`"
    done
    sql "SET SESSION sql_log_bin = 0; CREATE TABLE sbtest1 LIKE sb_src;
         INSERT INTO sbtest1 SELECT * FROM sb_src WHERE id <= $n;
         FLUSH BINARY LOGS; PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 SECOND"
}
# check TABLE N WHAT: TABLE has N rows and the column x, or the script fails
check() {
    local got has
    got=$(sql "SELECT COUNT(*) FROM \`$1\`")
    has=$(sql "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'test'
               AND table_name = '$1' AND column_name = 'x'")
    [ "$got" = "$2" ] || die "$3: $1 has $got rows, expected $2"
    [ "$has" = 1 ] || die "$3: $1 has no column x"
}
# rss NAME: peak RSS in MiB from /usr/bin/time -v
rss() {
    awk -F: '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$work/$1.rusage"
}

alter='ADD COLUMN x int NULL'
pt_dsn="h=127.0.0.1,P=$MARIADB_PORT,u=root,D=test,t=sbtest1"
# timed NAME CMD…: run CMD under /usr/bin/time -v; wall seconds into $work/NAME.wall
timed() {
    local name=$1 t0 rc=0
    shift
    t0=$(now)
    /usr/bin/time -v -o "$work/$name.rusage" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    calc "$(now) - $t0" >"$work/$name.wall"
    echo "$t0 $(now)" >"$work/$name.window"
    if [ "$rc" -ne 0 ]; then
        cat "$work/$name.out" "$work/$name.err" >&2
        die "$name exited with $rc (output above)"
    fi
}
run_pt() {
    timed "$1" pt-online-schema-change --alter "$alter" --execute --recursion-method=none \
        --no-check-alter --set-vars lock_wait_timeout=60 "$pt_dsn"
}
run_lm() {
    timed "$1" "$LIVEMIG" migrate --dsn "$MARIADB_DSN" --table sbtest1 --alter "$alter" \
        --execute --drop-old --progress-interval 0.5
}
wall() { cat "$work/$1.wall"; }
# cpu NAME: user + system CPU seconds of the tool itself (not the server's)
cpu() {
    awk -F: '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/$1.rusage"
}

# ---- idle
echo "idle runs, $rows rows:"
reload "$rows"
t0=$(now)
sql "ALTER TABLE sbtest1 $alter, ENGINE=InnoDB, ALGORITHM=COPY"
calc "$(now) - $t0" >"$work/alter.wall"
check sbtest1 "$rows" "ALTER COPY"
echo "  (a) ALTER … ALGORITHM=COPY  $(wall alter) s"

reload "$rows"
sql "CREATE TABLE sb_copy LIKE sbtest1; ALTER TABLE sb_copy $alter"
t0=$(now)
sql "INSERT INTO sb_copy (id, k, c, pad) SELECT id, k, c, pad FROM sbtest1"
calc "$(now) - $t0" >"$work/insel.wall"
check sb_copy "$rows" "INSERT … SELECT"
echo "  (b) INSERT … SELECT          $(wall insel) s"

if [ -n "$have_pt" ]; then
    reload "$rows"
    run_pt pt
    check sbtest1 "$rows" "pt-online-schema-change"
    echo "  (c) pt-online-schema-change  $(wall pt) s, peak RSS $(rss pt) MiB, CPU $(cpu pt) s"
fi

reload "$rows"
run_lm lm
check sbtest1 "$rows" "livemig"
lm_blocked=$(sed -n 's/.*writes were blocked for \([0-9]*\) ms.*/\1/p' "$work/lm.err" | tail -n 1)
echo "  (d) livemig migrate          $(wall lm) s, peak RSS $(rss lm) MiB, CPU $(cpu lm) s," \
    "writes blocked ${lm_blocked:-?} ms"
# where livemig's time went: the verify time on its last progress line
echo "      of which verifying: $(sed -n 's/.*, verify \([0-9.]*\)s,.*/\1/p' "$work/lm.err" | tail -n 1) s"

# ---- under load
# load_start NAME: sysbench writing sbtest1 in the background, latencies in
# $work/NAME.lat/. Besides sysbench's default list (deadlock, lock wait
# timeout, record changed), error 1146 is retried: with pt-osc's triggers,
# MariaDB 10.11 sometimes fails a prepared INSERT with "Table
# '_sbtest1_new' doesn't exist" for a while, which would end sysbench (and
# so the load) for good; the failures are reported instead.
load_start() {
    mkdir -p "$work/$1.lat"
    LM_LAT_DIR=$work/$1.lat sysbench "$here/bench/write_only_lat.lua" --db-driver=mysql \
        --mysql-host=127.0.0.1 --mysql-port="$MARIADB_PORT" --mysql-user=root --mysql-db=test \
        --mysql-ignore-errors=1213,1020,1205,1146 \
        --tables=1 --table-size="$load_rows" --threads=4 --rate="$rate" --time=3600 \
        --report-interval=1 --percentile=99 run >"$work/$1.sysbench" 2>&1 &
    SB=$!
    sleep "$warmup"
    kill -0 "$SB" 2>/dev/null || { cat "$work/$1.sysbench" >&2; die "sysbench did not start"; }
}
load_stop() {
    kill "$SB" 2>/dev/null || true
    wait "$SB" 2>/dev/null || true
    SB=
}
# latency NAME: "count p99 max errors" of the transactions that ended in NAME's window
latency() {
    python3 - "$work/$1.lat" "$work/$1.window" <<'PY'
import glob, os, sys
t0, t1 = (float(x) for x in open(sys.argv[2]).read().split())
lat = []
for f in glob.glob(os.path.join(sys.argv[1], "lat.*")):
    for line in open(f):
        p = line.split()
        if len(p) == 2 and t0 <= float(p[0]) <= t1:
            lat.append(float(p[1]))
errs = sum(sum(1 for _ in open(f)) for f in glob.glob(os.path.join(sys.argv[1], "err.*")))
lat.sort()
if not lat:
    print("0 - - %d" % errs)
else:
    print("%d %.1f %.1f %d" % (len(lat), lat[min(len(lat) - 1, int(0.99 * len(lat)))], lat[-1], errs))
PY
}

if [ -n "$have_sb" ]; then
    echo "under load: sysbench oltp_write_only, 4 threads, $rate tx/s, $load_rows rows:"
    reload "$load_rows"
    load_start base
    t0=$(now)
    sleep 10
    echo "$t0 $(now)" >"$work/base.window"
    load_stop
    read -r _ base_p99 base_max base_err < <(latency base)
    echo "  no migration (10 s): p99 $base_p99 ms, max $base_max ms"
    if [ -n "$have_pt" ]; then
        reload "$load_rows"
        load_start ptl
        run_pt ptl
        load_stop
        check sbtest1 "$load_rows" "pt-online-schema-change under load"
        read -r _ ptl_p99 ptl_max ptl_err < <(latency ptl)
        echo "  (c) pt-online-schema-change  $(wall ptl) s, p99 $ptl_p99 ms, max $ptl_max ms"
    fi
    reload "$load_rows"
    load_start lml
    run_lm lml
    load_stop
    check sbtest1 "$load_rows" "livemig under load"
    read -r _ lml_p99 lml_max lml_err < <(latency lml)
    lml_blocked=$(sed -n 's/.*writes were blocked for \([0-9]*\) ms.*/\1/p' "$work/lml.err" | tail -n 1)
    lml_lag=$(grep 'state copying' "$work/lml.err" | tail -n 1 | sed -n 's/.*, lag \([0-9.]*\)s,.*/\1/p')
    echo "  (d) livemig migrate          $(wall lml) s, p99 $lml_p99 ms, max $lml_max ms," \
        "lag at the end of the copy ${lml_lag:-?} s, writes blocked ${lml_blocked:-?} ms"
fi

# ---- the table
A=$(wall alter)
C=
[ -n "$have_pt" ] && C=$(wall pt)
ratio() { [ -n "$2" ] && calc "$1 / $2" || echo -; }
row() { # LABEL WALL ROWS RSS P99 MAX [REF_C]: REF_C (default: idle (c)) for the x (c) column
    printf '%-36s %8s %10s %8s %8s %9s %9s %9s\n' "$1" "$2" "$(calc "$3 / $2" | cut -d. -f1)" \
        "$(ratio "$2" "$A")" "$(ratio "$2" "${7-$C}")" "$4" "$5" "$6"
}
echo
echo "$rows rows idle${have_sb:+, $load_rows rows under load ($rate tx/s, 4 threads)}; MariaDB $(sql "SELECT VERSION()")"
echo "x (a): wall / idle (a); x (c): wall / (c) in the same mode (idle or loaded)"
printf '%-36s %8s %10s %8s %8s %9s %9s %9s\n' tool "wall s" "rows/s" "x (a)" "x (c)" "RSS MiB" \
    "p99 ms" "max ms"
row "(a) ALTER TABLE ... ALGORITHM=COPY" "$A" "$rows" - - -
row "(b) INSERT ... SELECT" "$(wall insel)" "$rows" - - -
[ -n "$have_pt" ] && row "(c) pt-online-schema-change" "$C" "$rows" "$(rss pt)" - -
row "(d) livemig migrate" "$(wall lm)" "$rows" "$(rss lm)" - -
if [ -n "$have_sb" ]; then
    printf '%-36s %8s %10s %8s %8s %9s %9s %9s\n' "no migration, load only" - - - - - \
        "$base_p99" "$base_max"
    CL=
    [ -n "$have_pt" ] && CL=$(wall ptl) && row "(c) pt-online-schema-change, load" "$CL" \
        "$load_rows" "$(rss ptl)" "$ptl_p99" "$ptl_max" "$CL"
    row "(d) livemig migrate, load" "$(wall lml)" "$load_rows" "$(rss lml)" "$lml_p99" "$lml_max" "$CL"
    echo "livemig under load: apply lag on the last progress line of the copy ${lml_lag:-?} s," \
        "writes blocked ${lml_blocked:-?} ms at the cutover; workload transactions retried:" \
        "pt-osc ${ptl_err:--}, livemig $lml_err, none $base_err"
fi
echo "livemig idle: writes blocked ${lm_blocked:-?} ms at the cutover"
sql "DROP TABLE IF EXISTS sbtest1, sb_copy, sb_src"
