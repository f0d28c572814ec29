#!/usr/bin/env bash
# Leftovers of an earlier run: a shadow _t_new is refused without --force
# (exit 2, table untouched, the leftover kept); with --force it is dropped
# and the migration runs to the end. A foreign table on the _t_old name is
# refused even with --force (the cutover needs the name).
. "$(dirname "$0")/lib.sh"

drop_tables t r _t_new _t_old _t_chk
make_types_table t 3000
clone_table t r
ALTER='ADD COLUMN c_new int NOT NULL DEFAULT 7, MODIFY c_int bigint NULL'

# A leftover shadow (with a row that must not survive).
sql "CREATE TABLE _t_new LIKE t; INSERT INTO _t_new SELECT * FROM t WHERE id <= 3"
snapshot_table t
expect_refusal "leftover _t_new" '_t_new' \
    migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute
assert_untouched t "leftover _t_new"
[ "$(sql 'SELECT COUNT(*) FROM _t_new')" = 3 ] || fail "leftover _t_new: the leftover was changed"
expect_refusal "leftover _t_new (dry run)" '_t_new' \
    migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER"
assert_untouched t "leftover _t_new (dry run)"

# --force: drop it and migrate.
migrate --table t --alter "$ALTER" --execute --force
expect_rc 0 "--force with a leftover _t_new"
show_create t | grep -q '`c_new` int(11) NOT NULL DEFAULT 7' || fail "--force: c_new missing"
show_create t | grep -q '`c_int` bigint' || fail "--force: c_int is not bigint"
table_exists _t_old || fail "--force: _t_old missing"
! table_exists _t_new || fail "--force: _t_new left behind"
[ "$(sql 'SELECT COUNT(DISTINCT c_new), MIN(c_new) FROM t')" = "$(printf '1\t7')" ] ||
    fail "--force: c_new is not 7 everywhere"
assert_tables_equal t "$TYPES_COLUMNS" r "$TYPES_COLUMNS"
pass "--force dropped the leftover and migrated"

# A foreign table named _t_old: refused, with or without --force.
drop_tables t
clone_table r t
sql "DROP TABLE IF EXISTS _t_old; CREATE TABLE _t_old (precious int); INSERT INTO _t_old VALUES (42)"
snapshot_table t
for force in "" --force; do
    expect_refusal "foreign _t_old ${force:-(no --force)}" '_t_old' \
        migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute $force
    assert_untouched t "foreign _t_old $force"
    [ "$(sql 'SELECT precious FROM _t_old')" = 42 ] || fail "the foreign _t_old was changed"
done

drop_tables t r _t_new _t_old
pass "leftovers handled"
