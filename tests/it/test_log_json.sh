#!/usr/bin/env bash
# --log-format json: every stderr line of a migration (log lines and
# progress lines) is one JSON object with "schema": 1 and the documented
# fields (docs/guide.md, "Output for machines"); so is the error of a
# refused migration. The migration itself must still be correct.
. "$(dirname "$0")/lib.sh"

drop_tables t r _t_new _t_old _t_chk
make_types_table t 20000
clone_table t r

# check_json_lines WHAT: validates $WORK/livemig.err; prints "LOGS PROGRESS ERRORS".
check_json_lines() {
    python3 - "$WORK/livemig.err" "$1" <<'PY'
import json, sys
path, what = sys.argv[1], sys.argv[2]
STATUS = {"schema", "state", "table", "rows_copied", "rows_estimated", "changes_applied",
          "changes_per_second", "lag_seconds", "throttled", "verify_seconds", "elapsed_seconds", "settings"}
logs = progress = errors = 0
with open(path, encoding="utf-8") as f:
    lines = f.read().splitlines()
if not lines:
    sys.exit(f"{what}: stderr is empty")
for n, line in enumerate(lines, 1):
    try:
        o = json.loads(line)
    except ValueError as e:
        sys.exit(f"{what}: stderr line {n} is not JSON ({e}): {line!r}")
    if not isinstance(o, dict):
        sys.exit(f"{what}: stderr line {n} is not a JSON object: {line!r}")
    if o.get("schema") != 1:
        sys.exit(f"{what}: stderr line {n} has no \"schema\": 1: {line!r}")
    if o.get("event") == "progress":
        st = o.get("status")
        if not isinstance(st, dict) or set(st) != STATUS:
            sys.exit(f"{what}: progress line {n} has status fields "
                     f"{sorted(st) if isinstance(st, dict) else st!r}, want {sorted(STATUS)}")
        progress += 1
    else:
        for k in ("ts", "level", "msg"):
            if not isinstance(o.get(k), str):
                sys.exit(f"{what}: log line {n} lacks string field {k!r}: {line!r}")
        if o["level"] not in ("debug", "info", "warning", "error"):
            sys.exit(f"{what}: log line {n} has level {o['level']!r}")
        logs += 1
        errors += o["level"] == "error"
print(logs, progress, errors)
PY
}

ALTER='ADD COLUMN c_new int NULL, MODIFY c_int bigint NULL'
migrate --table t --alter "$ALTER" --execute --log-format json --progress-interval 0.2
expect_rc 0 "migrate --log-format json"
read -r logs progress errors < <(check_json_lines "migrate --log-format json") ||
    fail "stderr of migrate --log-format json is not all JSON lines with schema 1"
[ "$logs" -gt 0 ] || fail "migrate --log-format json printed no log lines"
[ "$errors" -eq 0 ] || fail "a successful migration logged $errors error line(s)"
pass "migrate --log-format json: $logs log and $progress progress lines, all JSON with schema 1"
sql "ALTER TABLE r $ALTER"
assert_tables_equal t "$TYPES_COLUMNS c_new" r "$TYPES_COLUMNS c_new"

# A refusal after option parsing (no such table) is a JSON line too.
migrate --table no_such_table --alter 'ADD COLUMN x int' --execute --log-format json
[ "$LM_RC" -ne 0 ] || fail "migrate of a missing table succeeded"
read -r logs progress errors < <(check_json_lines "refused migrate --log-format json") ||
    fail "stderr of a refused migrate --log-format json is not all JSON lines with schema 1"
[ "$errors" -gt 0 ] || fail "the refused migration logged no line with level error"
pass "a refused migrate --log-format json reports its error as a JSON line (exit $LM_RC)"

drop_tables t r
