#!/usr/bin/env bash
# The man page and --help agree: every long option printed by `livemig --help`
# and by each command's --help is in docs/livemig.1, and every option the man
# page names is in some --help. Also checks --config end to end (no server).
. "$(dirname "$0")/lib.sh"

MAN=$SRC_DIR/docs/livemig.1
opts_of() { grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u; }

{
    "$LIVEMIG" --help
    for c in migrate verify dump record replay; do
        "$LIVEMIG" "$c" --help || fail "livemig $c --help exits non-zero"
    done
} >"$WORK/help.txt" 2>&1
opts_of <"$WORK/help.txt" >"$WORK/help.opts"
sed 's/\\-/-/g; s/\\f[BIRP]//g' "$MAN" | opts_of >"$WORK/man.opts"

missing=$(comm -23 "$WORK/help.opts" "$WORK/man.opts")
[ -z "$missing" ] || fail "options in --help but not in docs/livemig.1: $(echo $missing)"
extra=$(comm -13 "$WORK/help.opts" "$WORK/man.opts")
[ -z "$extra" ] || fail "options in docs/livemig.1 but in no --help: $(echo $extra)"
pass "$(wc -l <"$WORK/help.opts") long options agree between --help and docs/livemig.1"

for c in migrate verify dump record replay ctl; do
    grep -q "livemig $c" "$WORK/help.txt" || fail "livemig --help has no usage of $c"
    grep -q "^\.B.* livemig $c\|^\.BI\? \"livemig $c\|^\.B livemig $c" "$MAN" ||
        fail "docs/livemig.1 has no usage of $c"
done
pass "every command has a usage line in --help and in docs/livemig.1"

# --config: keys are long option names; flags on the command line win.
cat >"$WORK/c.ini" <<'INI'
# a comment
[livemig]
verbose = false
[migrate]
table = t
alter = "ADD COLUMN c int"
chunk-size = 5
[dump]
format = yaml
INI
rc=0
"$LIVEMIG" dump --config "$WORK/c.ini" /dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q 'text or json' "$WORK/err" || fail "[dump] format from --config not applied"
rc=0
"$LIVEMIG" dump --config="$WORK/c.ini" --format text /dev/null 2>"$WORK/err" || rc=$?
! grep -q 'text or json' "$WORK/err" || fail "--format on the command line does not override the file"
rc=0
"$LIVEMIG" migrate --config "$WORK/c.ini" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'needs --dsn' "$WORK/err" || fail "migrate with --config: $(cat "$WORK/err")"
printf '[migrate]\nexecute = maybe\n' >"$WORK/bad.ini"
rc=0
"$LIVEMIG" migrate --config "$WORK/bad.ini" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'bad.ini, line 2' "$WORK/err" || fail "bad config value: $(cat "$WORK/err")"
rc=0
"$LIVEMIG" migrate --config "$WORK/nonexistent.ini" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'cannot open config file' "$WORK/err" || fail "missing config file"
# --section NAME: one migration's section wins over [COMMAND], wherever it is.
cat >"$WORK/s.ini" <<'INI'
[orders]
format = text
[dump]
format = yaml
INI
"$LIVEMIG" dump --config "$WORK/s.ini" /dev/null 2>"$WORK/err" || true
grep -q 'text or json' "$WORK/err" || fail "[dump] of s.ini not applied: $(cat "$WORK/err")"
"$LIVEMIG" dump --config "$WORK/s.ini" --section orders /dev/null 2>"$WORK/err" || true
! grep -q 'text or json' "$WORK/err" || fail "--section did not win: $(cat "$WORK/err")"
rc=0
"$LIVEMIG" dump --config "$WORK/s.ini" --section nope /dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'no section \[nope\]' "$WORK/err" || fail "missing section: $(cat "$WORK/err")"
rc=0
"$LIVEMIG" dump --section orders /dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'goes with --config' "$WORK/err" || fail "--section alone accepted"
pass "--config applies [livemig] and [COMMAND] keys, --section [NAME] over them, flags win," \
    "errors name file and line"
