#!/usr/bin/env bash
# How long the cutover blocks the application's writes (not a ctest test:
# timings vary). Runs N migrations of a ROWS-row table while the test
# workload writes it, and prints, over the runs, the time livemig reports
# writes were blocked and the workload's longest statement on the table,
# next to a baseline: the workload's longest statement over the same time
# with no migration at all.
#
#   bench/cutover_bench.sh [BUILD_DIR] [RUNS] [ROWS]      (defaults: build, 20, 20000)
#
# Target (issue: safe cutover): p99 of the stalls < 200 ms with no blocker.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
runs=${2:-20}
rows=${3:-20000}
LIVEMIG=$build/livemig
WORKLOAD=$build/tests/workload
[ -x "$LIVEMIG" ] && [ -x "$WORKLOAD" ] || { echo "build $build first" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lm-cutbench.XXXXXX")
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
    mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$MARIADB_PORT" -uroot -N -B test -e "$1"
}
reload() {
    sql "DROP TABLE IF EXISTS cb, cb_ref, _cb_new, _cb_old, _cb_ckp;
         CREATE TABLE cb (id int unsigned PRIMARY KEY, a int, b varchar(64), c datetime(6), KEY (a));
         INSERT INTO cb SELECT seq, seq % 1000, MD5(seq), NOW(6) FROM seq_1_to_$rows;
         CREATE TABLE cb_ref LIKE cb; INSERT INTO cb_ref SELECT * FROM cb"
}
# workload SECONDS-or-stopfile: prints its max_stall_ms when it ends
workload_bg() {
    rm -f "$work/stop"
    "$WORKLOAD" --dsn "$MARIADB_DSN" --table cb --ref cb_ref --threads 4 --tps 400 \
        --stop-file "$work/stop" --seconds 600 >"$work/wl.out" 2>&1 &
    WL=$!
}
workload_end() {
    touch "$work/stop"
    wait "$WL"
    sed -n 's/.* max_stall_ms=\([0-9]*\).*/\1/p' "$work/wl.out" | tail -n 1
}
# stats FILE: "median p99 max" of the numbers in FILE
stats() {
    python3 - "$1" <<'PY'
import sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
p = lambda q: v[min(len(v) - 1, int(round(q * (len(v) - 1))))]
print(f"{p(0.5):.0f} {p(0.99):.0f} {v[-1]:.0f}")
PY
}

: >"$work/blocked"
: >"$work/stall"
: >"$work/base"
total=0
for i in $(seq 1 "$runs"); do
    reload
    workload_bg
    t0=$(date +%s.%N)
    "$LIVEMIG" migrate --dsn "$MARIADB_DSN" --table cb --alter 'ADD COLUMN d int NULL' --execute \
        --drop-old --no-verify --progress-interval 60 2>"$work/lm.err" ||
        { cat "$work/lm.err" >&2; exit 1; }
    dur=$(python3 -c "print($(date +%s.%N) - $t0)")
    workload_end >>"$work/stall"
    sed -n 's/.*writes were blocked for \([0-9]*\) ms.*/\1/p' "$work/lm.err" >>"$work/blocked"
    # Baseline: the same workload for the same time, no migration.
    reload
    workload_bg
    sleep "$dur"
    workload_end >>"$work/base"
    printf 'run %d/%d: blocked %s ms, longest write %s ms (baseline %s ms)\n' "$i" "$runs" \
        "$(tail -n 1 "$work/blocked")" "$(tail -n 1 "$work/stall")" "$(tail -n 1 "$work/base")"
done
read -r bm bp bx < <(stats "$work/blocked")
read -r sm sp sx < <(stats "$work/stall")
read -r zm zp zx < <(stats "$work/base")
echo "cutover over $runs runs ($rows rows, 4 writers at 400 tps), median / p99 / max in ms:"
echo "  writes blocked (livemig's measure):     $bm / $bp / $bx"
echo "  longest write during the migration:     $sm / $sp / $sx"
echo "  longest write, no migration (baseline): $zm / $zp / $zx"
echo "  p99 longest write / baseline p99: $(python3 -c "print(round($sp / max($zp, 1), 2))")x;" \
    "target p99 < 200 ms: $([ "$sp" -lt 200 ] && echo met || echo NOT met)"
sql "DROP TABLE IF EXISTS cb, cb_ref"
