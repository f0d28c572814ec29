#!/usr/bin/env bash
# livemig against the server's own copy and pt-online-schema-change, in one
# run, on fresh copies of the same sysbench-style table (not a ctest test:
# timings vary).
#
#   bench/compare_bench.sh [--build DIR] [--rows N] [-- LIVEMIG_OPTION...]
#   bench/compare_bench.sh [BUILD_DIR [ROWS]] [-- LIVEMIG_OPTION...]
#                                   (defaults: build, 1000000 rows)
#
# --rows 10000000 is the large run: about 2.5 GB a copy of the table, the
# free space for about five (checked), and several times a 1M run's time,
# most of it in building and re-copying the table (a fresh copy before each
# of the 7 runs). Options after -- (and the words of LIVEMIG_ARGS, before
# them) go to livemig migrate, to compare settings (e.g. -- --chunk-size
# 5000); the table then says livemig did not run with its defaults.
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
# table being migrated at a steady rate (4 threads), next to a baseline of
# the same workload with no migration. bench/write_only_lat.lua logs every
# transaction's end time and latency, so the workload's p99 and max are
# taken over exactly the tool's run, and over its cutover: the transactions
# that overlapped the window in which the cutover held writes, widened by
# CUT_MARGIN s on each side. The tools' output is time-stamped as it arrives
# (livemig's text log has no sub-second times): livemig's window is the N ms
# before its "writes were blocked for N ms" line (and any undone attempt's
# "after N ms of lock"), pt-osc's runs from "Swapping tables..." to
# "Swapped original and new tables OK.". For livemig it also reports the
# apply lag on the last progress line of the copy (state copying; pt-osc
# has no lag to report). Peak RSS of pt-osc and livemig comes from
# /usr/bin/time -v. After every run the table must have ROWS rows, the
# columns id, k, c, pad and x (NULL everywhere) and the source's indexes,
# and after an idle run exactly the source's rows (a checksum), or the
# script fails.
#
# Environment: LOAD_ROWS (rows for the loaded runs, default ROWS), RATE
# (sysbench transactions/s, default 200), WARMUP (seconds of load before a
# tool starts, default 3), CUT_MARGIN (seconds, default 0.05), IDLE_ONLY=1
# (skip the loaded runs), MARKDOWN=1 (print the table as Markdown),
# KEEP_WORK=1 (keep the logs and latencies, and say where).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
usage() {
    echo "usage: $0 [--build DIR] [--rows N] [BUILD_DIR [ROWS]] [-- LIVEMIG_OPTION...]" >&2
    exit 2
}
build=$here/build
rows=1000000
lm_args=()
pos=()
while [ $# -gt 0 ]; do
    case $1 in
    --build | --rows)
        [ $# -ge 2 ] || usage
        if [ "$1" = --build ]; then build=$2; else rows=$2; fi
        shift
        ;;
    --)
        shift
        lm_args=("$@")
        break
        ;;
    -*) usage ;;
    *) pos+=("$1") ;;
    esac
    shift
done
[ ${#pos[@]} -le 2 ] || usage
[ ${#pos[@]} -ge 1 ] && build=${pos[0]}
[ ${#pos[@]} -ge 2 ] && rows=${pos[1]}
# LIVEMIG_ARGS: more livemig options (split on blanks), before those after --
if [ -n "${LIVEMIG_ARGS:-}" ]; then
    read -r -a env_args <<<"$LIVEMIG_ARGS"
    lm_args=("${env_args[@]}" "${lm_args[@]}")
fi
load_rows=${LOAD_ROWS:-$rows}
rate=${RATE:-200}
warmup=${WARMUP:-3}
margin=${CUT_MARGIN:-0.05}
case $rows in '' | *[!0-9]* | 0*) echo "ROWS must be a positive integer, not '$rows'" >&2 && usage ;; esac
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
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "logs, latencies and timings kept in $work" >&2
    else
        rm -rf "$work"
    fi
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
need python3 python3 || die "python3 is needed for the latency figures and the table"
[ -n "$have_pt" ] || echo "note: skipping pt-online-schema-change (its rows are left out and x (c) shows —)" >&2
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

# ---- the source table, built once without binlogging, a million rows a
# statement; every run starts from a copy of it. A copy takes about 250
# bytes a row on disk; at most the source, the table, the tool's copy of it,
# the binlog of that copy and the server's undo are there at once.
need_kb=$((rows * 13 / 10))
avail_kb=$(df -Pk "$MARIADB_DATADIR" | awk 'NR == 2 {print $4}')
[ "$avail_kb" -ge "$need_kb" ] ||
    die "$rows rows need about $((need_kb / 1024)) MiB free where the server's data is ($MARIADB_DATADIR): $((avail_kb / 1024)) MiB"
chunk=1000000
t_all=$(now)
t_src0=$t_all
sql "SET SESSION sql_log_bin = 0;
DROP TABLE IF EXISTS sb_src;
CREATE TABLE sb_src (id int NOT NULL AUTO_INCREMENT, k int NOT NULL DEFAULT 0,
  c char(120) NOT NULL DEFAULT '', pad char(60) NOT NULL DEFAULT '',
  PRIMARY KEY (id), KEY k_1 (k)) ENGINE=InnoDB"
for ((lo = 1; lo <= rows; lo += chunk)); do
    hi=$((lo + chunk - 1 < rows ? lo + chunk - 1 : rows))
    sql "SET SESSION sql_log_bin = 0;
INSERT INTO sb_src SELECT seq, 1 + (seq * 7919) % $rows,
  CONCAT_WS('-', LPAD(seq * 48271 % 99999999989, 11, '0'), LPAD(seq * 69621 % 99999999977, 11, '0'),
    LPAD(seq * 16807 % 99999999967, 11, '0'), LPAD(seq * 39373 % 99999999947, 11, '0'),
    LPAD(seq * 40692 % 99999999943, 11, '0'), LPAD(seq * 40014 % 99999999929, 11, '0'),
    LPAD(seq * 53668 % 99999999907, 11, '0'), LPAD(seq * 12211 % 99999999889, 11, '0'),
    LPAD(seq * 3791 % 99999999871, 11, '0'), LPAD(seq * 2147 % 99999999851, 11, '0')),
  CONCAT_WS('-', LPAD(seq * 7 % 99999999989, 11, '0'), LPAD(seq * 13 % 99999999977, 11, '0'),
    LPAD(seq * 17 % 99999999967, 11, '0'), LPAD(seq * 19 % 99999999947, 11, '0'),
    LPAD(seq * 23 % 99999999943, 11, '0'))
  FROM seq_${lo}_to_$hi"
    [ "$rows" -gt "$chunk" ] && echo "  source table: $hi/$rows rows, $(calc "$(now) - $t_src0") s"
done
echo "source table: $rows rows in $(calc "$(now) - $t_src0") s"
# what the idle runs must leave: the source's rows (checked with a checksum)
src_sum=$(sql "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('#', id, k, c, pad))) FROM sb_src" | tr '\t' ' ')
src_idx=$(sql "SELECT GROUP_CONCAT(DISTINCT index_name ORDER BY index_name) FROM information_schema.statistics
               WHERE table_schema = 'test' AND table_name = 'sb_src'")

# reload N: a fresh sbtest1 of N rows (and nothing left of earlier runs)
reload() {
    local n=$1 t lo t0
    t0=$(now)
    for t in $(sql "SELECT table_name FROM information_schema.tables WHERE table_schema = 'test'
                    AND (table_name LIKE '%sbtest1%' OR table_name = 'sb_copy')"); do
        sql "DROP TABLE IF EXISTS \`$t\`"
    done
    sql "SET SESSION sql_log_bin = 0; CREATE TABLE sbtest1 LIKE sb_src"
    for ((lo = 1; lo <= n; lo += chunk)); do
        sql "SET SESSION sql_log_bin = 0; INSERT INTO sbtest1 SELECT * FROM sb_src
             WHERE id BETWEEN $lo AND $((lo + chunk - 1 < n ? lo + chunk - 1 : n))"
    done
    sql "FLUSH BINARY LOGS; PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 SECOND"
    [ "$n" -gt "$chunk" ] && echo "  (fresh copy of $n rows: $(calc "$(now) - $t0") s)"
    return 0
}
# check TABLE N WHAT [same]: TABLE has N rows, the columns of sb_src and x
# (NULL everywhere) and sb_src's indexes, or the script fails; with same,
# also exactly sb_src's rows (the idle runs: nothing else wrote the table)
check() {
    local got cols idx
    read -r -a got < <(sql "SELECT COUNT(*), COALESCE(SUM(x IS NOT NULL), 0),
        BIT_XOR(CRC32(CONCAT_WS('#', id, k, c, pad))) FROM \`$1\`") ||
        die "$3: cannot read $1 (no column x?)"
    cols=$(sql "SELECT GROUP_CONCAT(column_name ORDER BY ordinal_position) FROM information_schema.columns
                WHERE table_schema = 'test' AND table_name = '$1'")
    idx=$(sql "SELECT GROUP_CONCAT(DISTINCT index_name ORDER BY index_name) FROM information_schema.statistics
               WHERE table_schema = 'test' AND table_name = '$1'")
    [ "${got[0]}" = "$2" ] || die "$3: $1 has ${got[0]} rows, expected $2"
    [ "$cols" = id,k,c,pad,x ] || die "$3: $1 has the columns $cols, expected id,k,c,pad,x"
    [ "$idx" = "$src_idx" ] || die "$3: $1 has the indexes $idx, expected $src_idx"
    [ "${got[1]}" = 0 ] || die "$3: $1 has ${got[1]} rows where x is not NULL"
    if [ "${4:-}" = same ] && [ "${got[0]} ${got[2]}" != "$src_sum" ]; then
        die "$3: $1 does not hold the source's rows (count and checksum ${got[0]} ${got[2]}, expected $src_sum)"
    fi
}
# rss NAME: peak RSS in MiB from /usr/bin/time -v
rss() {
    awk -F: '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$work/$1.rusage"
}

alter='ADD COLUMN x int NULL'
pt_dsn="h=127.0.0.1,P=$MARIADB_PORT,u=root,D=test,t=sbtest1"
# stamp: every line read, prefixed with the wall-clock time it arrived
# (epoch seconds, the clock of `date +%s.%N` and of write_only_lat.lua).
# livemig's text log and pt-osc's output carry no sub-second time of their
# own; both write unbuffered, so the arrival time is the time of the event.
stamp() {
    LC_ALL=C # EPOCHREALTIME with a decimal point (this runs in a subshell)
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%s %s\n' "$EPOCHREALTIME" "$line"
    done
}
# timed NAME CMD…: run CMD under /usr/bin/time -v, its stdout and stderr
# time-stamped into $work/NAME.log; wall seconds into $work/NAME.wall
timed() {
    local name=$1 t0 t1
    shift
    t0=$(now)
    { /usr/bin/time -v -o "$work/$name.rusage" "$@" </dev/null 2>&1 || echo $? >"$work/$name.rc"; } |
        stamp >"$work/$name.log"
    t1=$(now)
    calc "$t1 - $t0" >"$work/$name.wall"
    echo "$t0 $t1" >"$work/$name.window"
    if [ -e "$work/$name.rc" ]; then
        cut -d' ' -f2- "$work/$name.log" >&2
        die "$name exited with $(cat "$work/$name.rc") (output above)"
    fi
}
run_pt() {
    timed "$1" pt-online-schema-change --alter "$alter" --execute --recursion-method=none \
        --no-check-alter --set-vars lock_wait_timeout=60 "$pt_dsn"
}
run_lm() {
    timed "$1" "$LIVEMIG" migrate --dsn "$MARIADB_DSN" --table sbtest1 --alter "$alter" \
        --execute --drop-old --progress-interval 0.5 ${lm_args[@]+"${lm_args[@]}"}
}
wall() { cat "$work/$1.wall"; }
# cpu NAME: user + system CPU seconds of the tool itself (not the server's)
cpu() {
    awk -F: '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/$1.rusage"
}
# The cutover windows, "START END" a line in $work/NAME.cut, from the
# stamped logs. livemig logs how long its lock held writes when the rename
# is done (and when it undoes an attempt): the window is the N ms before the
# line. pt-osc's swap is its RENAME, between "Swapping tables..." and
# "Swapped original and new tables OK.".
lm_cut() {
    awk '/livemig: cutover: .* renamed; writes were blocked for [0-9]+ ms/ ||
         /livemig: cutover attempt undone after [0-9]+ ms of lock/ {
        for (i = 2; i < NF; i++) if ($(i + 1) == "ms" && $i ~ /^[0-9]+$/) ms = $i
        printf "%.6f %.6f\n", $1 - ms / 1000, $1
    }' "$work/$1.log" >"$work/$1.cut"
}
pt_cut() {
    awk '/Swapping tables\.\.\./ { s = $1 }
         /Swapped original and new tables OK\./ && s != "" { printf "%.6f %.6f\n", s, $1; s = "" }' \
        "$work/$1.log" >"$work/$1.cut"
}
# blocked NAME: livemig's "writes were blocked for N ms" (the last, successful attempt)
blocked() {
    sed -n 's/.*livemig: cutover: .* writes were blocked for \([0-9]*\) ms.*/\1/p' "$work/$1.log" |
        tail -n 1
}
# swap_ms NAME: how long pt-osc's swap took, as stamped
swap_ms() {
    awk '{ s += $2 - $1 } END { if (NR) printf "%.0f", s * 1000 }' "$work/$1.cut"
}
# lag NAME: the apply lag on livemig's last progress line in state copying
lag() {
    local l
    l=$(grep ' state copying' "$work/$1.log" | tail -n 1 | sed -n 's/.*, lag \([0-9.]*\)s,.*/\1/p')
    echo "${l:-?}" # ?: the copy ended before livemig printed a progress line
}

# ---- idle
echo "idle runs, $rows rows:"
reload "$rows"
t0=$(now)
sql "ALTER TABLE sbtest1 $alter, ENGINE=InnoDB, ALGORITHM=COPY"
calc "$(now) - $t0" >"$work/alter.wall"
check sbtest1 "$rows" "ALTER COPY" same
echo "  (a) ALTER … ALGORITHM=COPY  $(wall alter) s"

reload "$rows"
sql "CREATE TABLE sb_copy LIKE sbtest1; ALTER TABLE sb_copy $alter"
t0=$(now)
sql "INSERT INTO sb_copy (id, k, c, pad) SELECT id, k, c, pad FROM sbtest1"
calc "$(now) - $t0" >"$work/insel.wall"
check sb_copy "$rows" "INSERT … SELECT" same
echo "  (b) INSERT … SELECT          $(wall insel) s"

if [ -n "$have_pt" ]; then
    reload "$rows"
    run_pt pt
    check sbtest1 "$rows" "pt-online-schema-change" same
    pt_cut pt
    echo "  (c) pt-online-schema-change  $(wall pt) s, peak RSS $(rss pt) MiB, CPU $(cpu pt) s," \
        "swap $(swap_ms pt) ms"
fi

reload "$rows"
run_lm lm
check sbtest1 "$rows" "livemig" same
lm_cut lm
echo "  (d) livemig migrate          $(wall lm) s, peak RSS $(rss lm) MiB, CPU $(cpu lm) s," \
    "lag at the end of the copy $(lag lm) s, writes blocked $(blocked lm) ms"
# where livemig's time went: the verify time on its last progress line
echo "      of which verifying: $(sed -n 's/.*, verify \([0-9.]*\)s,.*/\1/p' "$work/lm.log" | tail -n 1) s"

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
# load_stop NAME: stop the load; if it had ended by itself, say so (the
# run's latencies then cover only part of it, and are marked "!")
load_stop() {
    if ! kill -0 "$SB" 2>/dev/null; then
        grep -m 1 FATAL "$work/$1.sysbench" >"$work/$1.died" || echo "sysbench exited" >"$work/$1.died"
        echo "warning: the load stopped before the end of $1: $(cat "$work/$1.died")" >&2
    fi
    kill "$SB" 2>/dev/null || true
    wait "$SB" 2>/dev/null || true
    SB=
}
# bang NAME: "!" when NAME's load died during the run
bang() { if [ -e "$work/$1.died" ]; then echo '!'; fi; }
# latency NAME: "N P99 MAX CUT_N CUT_P99 CUT_MAX FAILED": the transactions
# that ended in NAME's window (its whole run); those that overlapped one of
# its cutover windows (widened by $margin s on each side); and the
# transactions that failed (and that sysbench retried) in the window, as
# "COUNT (ERRNO: COUNT, …)"
latency() {
    python3 - "$work/$1.lat" "$work/$1.window" "$work/$1.cut" "$margin" <<'PY'
import collections, glob, os, sys
lat_dir, run_win, cut_win, margin = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
t0, t1 = (float(x) for x in open(run_win).read().split())
cuts = []
if os.path.exists(cut_win):
    for line in open(cut_win):
        a, b = (float(x) for x in line.split())
        cuts.append((a - margin, b + margin))
run, cut = [], []
for f in glob.glob(os.path.join(lat_dir, "lat.*")):
    for line in open(f):
        p = line.split()
        if len(p) != 2:
            continue
        end, ms = float(p[0]), float(p[1])
        if t0 <= end <= t1:
            run.append(ms)
        if any(end >= a and end - ms / 1000 <= b for a, b in cuts):
            cut.append(ms)
errs = collections.Counter()
for f in glob.glob(os.path.join(lat_dir, "err.*")):
    for line in open(f):
        p = line.split()
        if len(p) == 2 and t0 <= float(p[0]) <= t1:
            errs[p[1]] += 1
def stats(v):
    v.sort()
    if not v:
        return "0 - -"
    return "%d %.1f %.1f" % (len(v), v[min(len(v) - 1, int(0.99 * len(v)))], v[-1])
failed = str(sum(errs.values()))
if errs:
    failed += " (" + ", ".join("%s: %d" % e for e in errs.most_common()) + ")"
print(stats(run), stats(cut), failed)
PY
}

if [ -n "$have_sb" ]; then
    echo "under load: sysbench oltp_write_only, 4 threads, $rate tx/s, $load_rows rows:"
    reload "$load_rows"
    load_start base
    t0=$(now)
    sleep 10
    echo "$t0 $(now)" >"$work/base.window"
    load_stop base
    read -r _ base_p99 base_max _ _ _ base_err < <(latency base)
    echo "  no migration (10 s): p99 $base_p99 ms, max $base_max ms, failed transactions $base_err"
    if [ -n "$have_pt" ]; then
        reload "$load_rows"
        load_start ptl
        run_pt ptl
        load_stop ptl
        check sbtest1 "$load_rows" "pt-online-schema-change under load"
        pt_cut ptl
        read -r _ ptl_p99 ptl_max ptl_cn ptl_cp99 ptl_cmax ptl_err < <(latency ptl)
        echo "  (c) pt-online-schema-change  $(wall ptl) s, p99 $ptl_p99 ms, max $ptl_max ms;" \
            "swap $(swap_ms ptl) ms: $ptl_cn transactions, p99 $ptl_cp99 ms, max $ptl_cmax ms;" \
            "failed transactions $ptl_err"
    fi
    reload "$load_rows"
    load_start lml
    run_lm lml
    load_stop lml
    check sbtest1 "$load_rows" "livemig under load"
    lm_cut lml
    read -r _ lml_p99 lml_max lml_cn lml_cp99 lml_cmax lml_err < <(latency lml)
    echo "  (d) livemig migrate          $(wall lml) s, p99 $lml_p99 ms, max $lml_max ms;" \
        "cutover (writes blocked $(blocked lml) ms): $lml_cn transactions, p99 $lml_cp99 ms," \
        "max $lml_cmax ms; lag at the end of the copy $(lag lml) s; failed transactions $lml_err"
fi

# ---- the table
# trow LABEL MODE WALL ROWS RSS P99 MAX CUT_P99 CUT_MAX LAG (MODE idle or load;
# an empty or "-" field is not applicable): one row into $work/table.tsv
trow() {
    local IFS=$'\t'
    echo "$*" >>"$work/table.tsv"
}
: >"$work/table.tsv"
trow "(a) ALTER TABLE ... ALGORITHM=COPY" idle "$(wall alter)" "$rows" - - - - - -
trow "(b) INSERT ... SELECT" idle "$(wall insel)" "$rows" - - - - - -
[ -n "$have_pt" ] && trow "(c) pt-online-schema-change" idle "$(wall pt)" "$rows" "$(rss pt)" \
    - - - - -
trow "(d) livemig migrate" idle "$(wall lm)" "$rows" "$(rss lm)" - - - - "$(lag lm)"
if [ -n "$have_sb" ]; then
    trow "no migration, load only (10 s)" load - - - "$base_p99$(bang base)" \
        "$base_max$(bang base)" - - -
    [ -n "$have_pt" ] && trow "(c) pt-online-schema-change, load" load "$(wall ptl)" \
        "$load_rows" "$(rss ptl)" "$ptl_p99$(bang ptl)" "$ptl_max$(bang ptl)" \
        "$ptl_cp99$(bang ptl)" "$ptl_cmax$(bang ptl)" -
    trow "(d) livemig migrate, load" load "$(wall lml)" "$load_rows" "$(rss lml)" \
        "$lml_p99$(bang lml)" "$lml_max$(bang lml)" "$lml_cp99$(bang lml)" \
        "$lml_cmax$(bang lml)" "$(lag lml)"
fi
echo
echo "$rows rows idle${have_sb:+, $load_rows rows under load ($rate tx/s, 4 threads)}; MariaDB $(sql "SELECT VERSION()")"
if [ ${#lm_args[@]} -gt 0 ]; then
    echo "livemig: NOT the default options: with ${lm_args[*]}"
else
    echo "livemig: default options"
fi
python3 - "$work/table.tsv" "${MARKDOWN:-0}" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
md = sys.argv[2] == "1"
na = "\u2014"
def num(s):
    try:
        return float(s)
    except ValueError:
        return None
ref_a = next(num(r[2]) for r in rows if r[0].startswith("(a)"))
ref_c = {r[1]: num(r[2]) for r in rows if r[0].startswith("(c)")}
head = ["tool", "wall s", "rows/s", "x (a)", "x (c)", "peak RSS MiB", "p99 ms", "max ms",
        "cutover p99 ms", "cutover max ms", "lag s"]
out = []
for label, mode, wall, n, rss, p99, mx, cp99, cmx, lag in rows:
    w = num(wall)
    cells = [label, "%.2f" % w if w else wall]
    cells.append("%d" % (int(n) / w) if w else na)
    cells.append("%.2f" % (w / ref_a) if w and ref_a else na)
    cells.append("%.2f" % (w / ref_c[mode]) if w and ref_c.get(mode) else na)
    cells += [rss, p99, mx, cp99, cmx, lag]
    out.append([na if c in ("", "-") else c for c in cells])
if md:
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in out:
        print("| " + " | ".join(r) + " |")
else:
    width = [max(len(r[i]) for r in out + [head]) for i in range(len(head))]
    for r in [head] + out:
        print("  ".join(c.ljust(width[0]) if i == 0 else c.rjust(width[i]) for i, c in enumerate(r)))
PY
echo "x (a): wall / idle (a); x (c): wall / (c) in the same mode (idle or loaded); p99 and max:"
echo "the workload's transactions that ended during the tool's run; cutover: those that overlapped"
echo "the cutover (livemig: the N ms its log says writes were blocked, before that line; pt-osc:"
echo "its swap, from \"Swapping tables...\" to \"Swapped ... OK.\"), widened by $margin s each side;"
echo "lag: livemig's apply lag on its last progress line of the copy (whole seconds); pt-osc has none."
echo "livemig idle: writes blocked $(blocked lm) ms${have_pt:+; pt-osc idle: swap $(swap_ms pt) ms}"
if [ -n "$have_sb" ]; then
    echo "under load: livemig writes blocked $(blocked lml) ms, $lml_cn transactions overlapped" \
        "the window${have_pt:+; pt-osc swap $(swap_ms ptl) ms, $ptl_cn transactions overlapped it}"
    echo "workload transactions that failed and were retried (by error number; 1213 deadlock," \
        "1205 lock wait timeout): pt-osc ${ptl_err:-—}; livemig $lml_err; no migration $base_err"
    for n in base ptl lml; do
        if [ -e "$work/$n.died" ]; then
            echo "! the load stopped during $n: $(cat "$work/$n.died")"
        fi
    done
fi
sql "DROP TABLE IF EXISTS sbtest1, sb_copy, sb_src"
echo "(the whole comparison took $(calc "($(now) - $t_all) / 60") min)"
