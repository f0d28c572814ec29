#!/usr/bin/env bash
# Metrics and hooks under live writes: /metrics is scraped while the copy
# runs (rows_copied grows, the state and throttle reason show), the textfile
# parses, every hook runs with its LIVEMIG_* environment and no password, a
# failing on-before-cutover postpones the cutover while changes keep being
# applied until it exits 0 (or `cutover` overrides it), a hook past its
# timeout is killed and only warned about, on-failure hears why, and bad
# options are refused before anything starts. Migrated tables are compared
# with a reference kept by the same workload.
. "$(dirname "$0")/lib.sh"

ROWS=40000
ALTER='ADD COLUMN c_new int NULL, MODIFY c_int bigint NULL'
COLS=$TYPES_COLUMNS
FLAG=$WORK/throttle.flag
HOOKS=$WORK/hooks
MARKS=$WORK/marks
PROM=$WORK/livemig.prom

make_types_table t_base "$ROWS"
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# prom FILE [KEY]: parse FILE as Prometheus text (every sample of a family
# with a TYPE, labels well formed, table="test.t"); print KEY's value, KEY
# being the metric name plus ",label=value" for labels other than table.
cat >"$WORK/prom.py" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
types, samples = {}, {}
for line in text.splitlines():
    if line.startswith("# TYPE "):
        _, _, name, typ = line.split(" ", 3)
        assert typ in ("counter", "gauge", "histogram"), line
        types[name] = typ
        continue
    if line.startswith("# HELP livemig_"):
        continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
    assert m, "malformed line: %r" % line
    name = m.group(1)
    fam = name if name in types else re.sub(r"_(bucket|sum|count)$", "", name)
    assert fam in types, "no TYPE for %s" % name
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    if name != "livemig_build_info":
        assert labels.get("table") == "test.t", line
    float(m.group(4))
    key = name + "".join(",%s=%s" % kv for kv in sorted(labels.items()) if kv[0] != "table")
    samples[key] = m.group(4)
if len(sys.argv) > 2:
    if sys.argv[2] not in samples:
        sys.exit("no sample %s" % sys.argv[2])
    print(samples[sys.argv[2]])
PY
prom() {
    python3 "$WORK/prom.py" "$@"
}
# scrape: GET /metrics into $WORK/scrape.txt (must be 200 and parse).
scrape() {
    curl -sf --max-time 5 -o "$WORK/scrape.txt" "$METRICS_URL" || fail "GET $METRICS_URL failed"
    prom "$WORK/scrape.txt" || fail "the scrape does not parse: $(head -c 2000 "$WORK/scrape.txt")"
}
metric() {
    prom "$WORK/scrape.txt" "$1"
}
# hook NAME BODY: an executable hook that records its environment first.
hook() {
    mkdir -p "$HOOKS" "$MARKS"
    cat >"$HOOKS/$1" <<SH
#!/bin/sh
env | grep -E '^(LIVEMIG_|MYSQL_PWD)' | sort >"$MARKS/$1.env"
echo run >>"$MARKS/$1.count"
$2
SH
    chmod +x "$HOOKS/$1"
}
env_of() {
    sed -n "s/^$2=//p" "$MARKS/$1.env"
}
wait_file() {
    local i
    for i in $(seq 1 "$((${2:-30} * 10))"); do
        [ -e "$1" ] && return 0
        sleep 0.1
    done
    fail "$1 did not appear within ${2:-30} s"
}

# ---------------------------------------------------------------- 1. metrics, hooks, the gate
reload_pair t_base t r
hook on-start 'echo "starting $LIVEMIG_TABLE"'
hook on-throttle ''
hook on-copy-complete ''
hook on-before-cutover "[ -e '$WORK/go' ] || { echo 'not yet'; exit 1; }"
hook on-success ''
hook on-failure ''
PORT=$(free_port)
METRICS_URL=http://127.0.0.1:$PORT/metrics
touch "$FLAG"
workload_start t r --threads 2 --tps 200 --seed 61
MYSQL_PWD='' migrate_bg --table t --alter "$ALTER" --execute --chunk-size 200 --nice-ratio 2 \
    --throttle-flag "$FLAG" --hooks-dir "$HOOKS" --metrics-listen "127.0.0.1:$PORT" \
    --metrics-textfile "$PROM" --progress-interval 0.3
wait_stderr "metrics on http://127.0.0.1:$PORT/metrics" 30
wait_file "$MARKS/on-throttle.env"
[ "$(env_of on-start LIVEMIG_EVENT)" = on-start ] || fail "on-start: $(cat "$MARKS/on-start.env")"
[ "$(env_of on-start LIVEMIG_TABLE)" = test.t ] || fail "on-start: LIVEMIG_TABLE"
[ "$(env_of on-start LIVEMIG_DATABASE)" = test ] || fail "on-start: LIVEMIG_DATABASE"
[ "$(env_of on-start LIVEMIG_ALTER)" = "$ALTER" ] || fail "on-start: LIVEMIG_ALTER"
[ "$(env_of on-start LIVEMIG_HOOK_TIMEOUT)" = 60 ] || fail "on-start: LIVEMIG_HOOK_TIMEOUT"
[ "$(env_of on-start LIVEMIG_ROWS_ESTIMATED)" -gt 0 ] || fail "on-start: LIVEMIG_ROWS_ESTIMATED"
for v in STATE ROWS_COPIED CHANGES_APPLIED ELAPSED_SECONDS; do
    [ -n "$(env_of on-start "LIVEMIG_$v")" ] || fail "on-start: no LIVEMIG_$v"
done
! grep -q MYSQL_PWD "$MARKS"/*.env || fail "a hook saw MYSQL_PWD"
grep -q 'hook on-start: starting test.t' "$WORK/livemig.err" || fail "the hook's output is not logged"
[ "$(env_of on-throttle LIVEMIG_THROTTLE_REASON)" = throttle-flag ] ||
    fail "on-throttle: $(cat "$MARKS/on-throttle.env")"
[ "$(env_of on-throttle LIVEMIG_STATE)" = copying ] || fail "on-throttle: LIVEMIG_STATE"
pass "on-start and on-throttle ran with LIVEMIG_* (table, database, alter, counters), no password"

scrape
[ "$(metric livemig_throttled)" = 1 ] || fail "livemig_throttled is $(metric livemig_throttled)"
[ "$(metric 'livemig_throttle_info,reason=throttle-flag')" = 1 ] || fail "no throttle_info"
[ "$(metric 'livemig_state,state=copying')" = 1 ] || fail "state copying is not 1"
[ "$(metric 'livemig_state,state=done')" = 0 ] || fail "state done is not 0"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")" = 404 ] ||
    fail "another path is not 404"
prom "$PROM" livemig_elapsed_seconds >/dev/null || fail "the textfile does not parse"
pass "/metrics while throttled: throttled 1, throttle_info{reason=throttle-flag}, state copying; 404 elsewhere; textfile parses"

rc=0
"$LIVEMIG" migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" \
    --metrics-listen "127.0.0.1:$PORT" >/dev/null 2>"$WORK/second.err" || rc=$?
[ "$rc" = 2 ] && grep -q "metrics-listen 127.0.0.1:$PORT: cannot listen" "$WORK/second.err" ||
    fail "a busy metrics port: exit $rc, $(cat "$WORK/second.err")"
pass "a port in use is refused (exit 2): $(head -n 1 "$WORK/second.err")"

rm -f "$FLAG"
seen=()
last=0
for i in $(seq 1 600); do
    scrape
    [ "$(metric 'livemig_state,state=copying')" = 1 ] || break
    n=$(metric livemig_rows_copied_total)
    if [ "$n" != "$last" ]; then
        seen+=("$n")
        last=$n
    fi
    sleep 0.05
done
[ "${#seen[@]}" -ge 2 ] || fail "rows_copied was not seen growing while copying (${seen[*]:-})"
for ((i = 1; i < ${#seen[@]}; i++)); do
    [ "${seen[i]}" -gt "${seen[i - 1]}" ] || fail "rows_copied went back: ${seen[*]}"
done
pass "rows_copied_total grows during the copy: ${seen[0]} … ${seen[-1]} (${#seen[@]} scrapes)"

wait_state postponed 120
wait_stderr 'hook on-before-cutover exited 1: cutover postponed' 10
grep -q 'hook on-before-cutover: not yet' "$WORK/livemig.err" || fail "the gate's output is not logged"
[ "$(env_of on-copy-complete LIVEMIG_ROWS_COPIED)" -ge "$ROWS" ] ||
    fail "on-copy-complete: $(cat "$MARKS/on-copy-complete.env")"
scrape
[ "$(metric 'livemig_state,state=postponed')" = 1 ] || fail "state postponed is not 1"
a1=$(metric livemig_changes_applied_total)
sleep 6
scrape
a2=$(metric livemig_changes_applied_total)
[ "$a2" -gt "$a1" ] || fail "no changes applied while postponed ($a1 -> $a2)"
[ "$(wc -l <"$MARKS/on-before-cutover.count")" -ge 2 ] || fail "the gate hook did not run again"
lm_status
[ "$LM_STATE" = postponed ] || fail "state $LM_STATE while on-before-cutover fails"
pass "a failing on-before-cutover postpones the cutover, runs again, changes applied meanwhile ($a1 -> $a2)"

touch "$WORK/go"
migrate_wait 120
expect_rc 0 "metrics and hooks migration"
assert_no_crash "metrics and hooks migration"
grep -q 'hook on-before-cutover exited 0: cutting over' "$WORK/livemig.err" || fail "no go line"
[ "$(env_of on-success LIVEMIG_STATE)" = "done" ] || fail "on-success: $(cat "$MARKS/on-success.env")"
[ ! -e "$MARKS/on-failure.env" ] || fail "on-failure ran after a success"
prom "$PROM" >/dev/null || fail "the final textfile does not parse"
[ "$(prom "$PROM" 'livemig_state,state=done')" = 1 ] || fail "textfile: state done is not 1"
[ "$(prom "$PROM" livemig_cutover_attempts_total)" -ge 1 ] || fail "textfile: no cutover attempt"
python3 -c 'import sys; sys.exit(not 0 < float(sys.argv[1]) < 3)' \
    "$(prom "$PROM" livemig_cutover_stall_seconds)" || fail "textfile: cutover_stall_seconds"
[ "$(prom "$PROM" livemig_chunks_total)" = "$(prom "$PROM" livemig_chunk_seconds_count)" ] ||
    fail "textfile: chunks_total differs from the histogram's count"
[ ! -e "$PROM.tmp" ] || fail "$PROM.tmp left behind"
workload_stop
assert_tables_equal t "$COLS" r "$COLS"
pass "cut over once the gate exits 0; on-success ran; final textfile: done, stall $(prom "$PROM" \
    livemig_cutover_stall_seconds)s, $(prom "$PROM" livemig_chunks_total) chunks"

# ---------------------------------------------------------------- 2. `cutover` overrides, a slow hook
reload_pair t_base t r
rm -rf "$HOOKS" "$MARKS"
hook on-start 'sleep 30'
hook on-before-cutover 'exit 1'
workload_start t r --threads 2 --tps 100 --seed 62
migrate_bg --table t --alter "$ALTER" --execute --hooks-dir "$HOOKS" --hook-timeout 1
wait_stderr 'warning: hook on-start did not finish in time' 20
wait_state postponed 120
ctl cutover >/dev/null
migrate_wait 60
expect_rc 0 "cutover over a failing on-before-cutover"
assert_no_crash "cutover over a failing on-before-cutover"
grep -q 'hook on-before-cutover exited 1; cutting over anyway' "$WORK/livemig.err" ||
    fail "no override line"
workload_stop
assert_tables_equal t "$COLS" r "$COLS"
pass "a hook past --hook-timeout is killed with a warning; \`cutover\` overrides on-before-cutover"

# ---------------------------------------------------------------- 3. on-failure
reload_pair t_base t r
snapshot_table t
rm -rf "$HOOKS" "$MARKS"
hook on-failure ''
touch "$FLAG"
migrate_bg --table t --alter "$ALTER" --execute --hooks-dir "$HOOKS" --throttle-flag "$FLAG" \
    --cleanup
wait_stderr 'throttled: throttle-flag' 30
ctl abort >/dev/null
migrate_wait 30
expect_rc 1 "abort with hooks"
assert_no_crash "abort with hooks"
grep -q 'aborted from the control socket' <<<"$(env_of on-failure LIVEMIG_ERROR)" ||
    fail "on-failure: $(cat "$MARKS/on-failure.env")"
[ "$(env_of on-failure LIVEMIG_STATE)" = failed ] || fail "on-failure: LIVEMIG_STATE"
assert_untouched t "abort with hooks"
pass "on-failure hears why: $(env_of on-failure LIVEMIG_ERROR)"
rm -f "$FLAG"

# ---------------------------------------------------------------- 4. refusals
expect_refusal "a missing --hooks-dir" 'hooks-dir .*/nope: No such file' \
    migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute --hooks-dir "$WORK/nope"
chmod -x "$HOOKS/on-failure"
expect_refusal "a hook that is not executable" 'on-failure is not executable' \
    migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute --hooks-dir "$HOOKS"
expect_refusal "a bad --metrics-listen" 'metrics-listen 127.0.0.1:99999: want HOST:PORT' \
    migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute \
    --metrics-listen 127.0.0.1:99999
expect_refusal "an unwritable --metrics-textfile" 'metrics-textfile: cannot write' \
    migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute \
    --metrics-textfile "$WORK/nope/m.prom"
assert_untouched t "refusals"

drop_with_helpers t r t_base
