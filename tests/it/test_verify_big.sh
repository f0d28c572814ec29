#!/usr/bin/env bash
# `livemig verify` on a 1,000,000-row table: equal tables pass, one changed
# character in one row is found (exit 1, the range and the row named).
. "$(dirname "$0")/lib.sh"

ROWS=${LIVEMIG_IT_BIG_ROWS:-1000000}
drop_tables big big2
log "building big: $ROWS rows"
sql "CREATE TABLE big (id int unsigned NOT NULL PRIMARY KEY, name varchar(64) NOT NULL,
        n bigint NULL, d decimal(10,2) NULL, ts datetime(3) NULL) DEFAULT CHARSET=utf8mb4;
     INSERT INTO big SELECT seq, CONCAT('name-', seq, '-', MD5(seq)), seq * 31, seq / 7,
        TIMESTAMP'2020-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_$ROWS"
clone_table big big2

started=$SECONDS
run_livemig verify --dsn "$MARIADB_DSN" --table big --against big2 --chunk-size 10000
expect_rc 0 "equal 1M-row tables"
grep -q "are equal: $ROWS rows" "$WORK/livemig.out" || fail "no equal summary"
pass "equal: $(cat "$WORK/livemig.out") (wall $((SECONDS - started))s)"

victim=$((ROWS * 3 / 4 + 17))
sql "UPDATE big2 SET name = CONCAT(LEFT(name, 10), IF(SUBSTRING(name, 11, 1) = 'x', 'y', 'x'),
        SUBSTRING(name, 12)) WHERE id = $victim"
started=$SECONDS
run_livemig verify --dsn "$MARIADB_DSN" --table big --against big2 --chunk-size 10000
expect_rc 1 "one character changed in a 1M-row table"
[ "$(grep -c '^differs: (id)' "$WORK/livemig.out")" = 1 ] || fail "expected one differing range"
grep -q "differs: source id='$victim'" "$WORK/livemig.out" || fail "the row $victim is not shown"
pass "one changed character in row $victim found: $(grep '^differs: (id)' "$WORK/livemig.out") (wall $((SECONDS - started))s)"
drop_tables big big2
