#!/usr/bin/env bash
# Bad input is refused before any change: exit 2, a clear one-line error on
# stderr, the table untouched and no helper table left behind.
. "$(dirname "$0")/lib.sh"

drop_tables t nokey nullkey _t_new _t_old _t_chk _nokey_new _nullkey_new
make_types_table t 500
sql "CREATE TABLE nokey (id int NOT NULL, v varchar(10)) ENGINE=InnoDB;
     INSERT INTO nokey VALUES (1, 'a'), (2, 'b');
     CREATE TABLE nullkey (id int NULL, v varchar(10), UNIQUE KEY u_id (id)) ENGINE=InnoDB;
     INSERT INTO nullkey VALUES (1, 'a'), (NULL, 'b')"
snapshot_table t
snapshot_table nokey
snapshot_table nullkey

DSN=$MARIADB_DSN

# Usage errors.
expect_refusal "no --table" '--table' migrate --dsn "$DSN" --alter 'ADD COLUMN x int' --execute
expect_refusal "no --alter" '--alter' migrate --dsn "$DSN" --table t --execute
expect_refusal "no --dsn" '--dsn|dsn' migrate --table t --alter 'ADD COLUMN x int' --execute
expect_refusal "unknown option" 'unknown|unrecognized|invalid|usage' \
    migrate --dsn "$DSN" --table t --alter 'ADD COLUMN x int' --no-such-option
expect_refusal "unknown subcommand" 'unknown|usage|command' frobnicate
expect_refusal "bad --chunk-size" 'chunk' \
    migrate --dsn "$DSN" --table t --alter 'ADD COLUMN x int' --chunk-size banana --execute
expect_refusal "bad DSN port" 'port' \
    migrate --dsn "mysql://root@127.0.0.1:99999/test" --table t --alter 'ADD COLUMN x int'
expect_refusal "DSN without database" 'database' \
    migrate --dsn "mysql://root@127.0.0.1:$MARIADB_PORT" --table t --alter 'ADD COLUMN x int'
assert_untouched t "usage errors"

# The table.
expect_refusal "missing table" 'does not exist|not found|no such table|unknown table' \
    migrate --dsn "$DSN" --table no_such_table --alter 'ADD COLUMN x int' --execute
! table_exists _no_such_table_new || fail "missing table: a shadow was created"
expect_refusal "no usable key" 'primary key|unique' \
    migrate --dsn "$DSN" --table nokey --alter 'ADD COLUMN x int' --execute
assert_untouched nokey "no usable key"
expect_refusal "only a nullable unique key" 'primary key|unique' \
    migrate --dsn "$DSN" --table nullkey --alter 'ADD COLUMN x int' --execute
assert_untouched nullkey "only a nullable unique key"

# The ALTER.
expect_refusal "invalid ALTER" 'alter' \
    migrate --dsn "$DSN" --table t --alter 'ADD COLUMN x nosuchtype' --execute
assert_untouched t "invalid ALTER"
expect_refusal "invalid ALTER (dry run)" 'alter' \
    migrate --dsn "$DSN" --table t --alter 'ADD COLUMN x nosuchtype'
assert_untouched t "invalid ALTER (dry run)"
expect_refusal "ALTER on a missing column" 'alter|c_nosuch' \
    migrate --dsn "$DSN" --table t --alter 'DROP COLUMN c_nosuch' --execute
assert_untouched t "ALTER on a missing column"
expect_refusal "two statements" 'one statement|;' \
    migrate --dsn "$DSN" --table t --alter 'ADD COLUMN x int; DROP TABLE t' --execute
assert_untouched t "two statements"
expect_refusal "table rename" 'rename' \
    migrate --dsn "$DSN" --table t --alter 'RENAME TO t2' --execute
assert_untouched t "table rename"
! table_exists t2 || fail "table rename: t2 exists"
expect_refusal "ALTER dropping the only key" 'key' \
    migrate --dsn "$DSN" --table t --alter 'DROP PRIMARY KEY' --execute
assert_untouched t "ALTER dropping the only key"

drop_tables t nokey nullkey
pass "all bad input refused"
