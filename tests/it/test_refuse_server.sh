#!/usr/bin/env bash
# Server settings and accounts livemig cannot work with are refused before
# any change: binlog_row_image not FULL, binlog_format not ROW, binary
# logging off, an account without the privileges. Exit 2, a clear error,
# the table untouched. Global settings are restored even on failure.
. "$(dirname "$0")/lib.sh"

drop_tables t _t_new _t_old _t_chk
make_types_table t 500
snapshot_table t
ALTER='ADD COLUMN x int NULL'

# binlog_row_image (sessions opened after SET GLOBAL see the new value).
at_exit "sql \"SET GLOBAL binlog_row_image = 'FULL'\""
for image in MINIMAL NOBLOB; do
    sql "SET GLOBAL binlog_row_image = '$image'"
    expect_refusal "binlog_row_image=$image" 'binlog_row_image' \
        migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute
    assert_untouched t "binlog_row_image=$image"
done
sql "SET GLOBAL binlog_row_image = 'FULL'"

# binlog_format
at_exit "sql \"SET GLOBAL binlog_format = 'ROW'\""
for format in STATEMENT MIXED; do
    sql "SET GLOBAL binlog_format = '$format'"
    expect_refusal "binlog_format=$format" 'binlog_format' \
        migrate --dsn "$MARIADB_DSN" --table t --alter "$ALTER" --execute
    assert_untouched t "binlog_format=$format"
done
sql "SET GLOBAL binlog_format = 'ROW'"

# An account with SELECT only. Its password must never be printed.
PW='Sekr3t-pw-x9q'
at_exit "sql \"DROP USER IF EXISTS 'limited'@'%'\""
sql "DROP USER IF EXISTS 'limited'@'%';
     CREATE USER 'limited'@'%' IDENTIFIED BY '$PW';
     GRANT SELECT ON test.* TO 'limited'@'%'"
expect_refusal "account without privileges" 'privilege|grant|denied' \
    migrate --dsn "mysql://limited:$PW@127.0.0.1:$MARIADB_PORT/test" --table t --alter "$ALTER" \
    --execute
assert_untouched t "account without privileges"
if grep -qF -- "$PW" "$WORK/livemig.out" "$WORK/livemig.err"; then
    fail "the password of the DSN was printed"
fi
pass "the password was not printed"
# The same through MYSQL_PWD instead of the DSN.
export MYSQL_PWD=$PW
expect_refusal "account without privileges (MYSQL_PWD)" 'privilege|grant|denied' \
    migrate --dsn "mysql://limited@127.0.0.1:$MARIADB_PORT/test" --table t --alter "$ALTER" \
    --execute
unset MYSQL_PWD
! grep -qF -- "$PW" "$WORK/livemig.out" "$WORK/livemig.err" || fail "MYSQL_PWD was printed"
# A wrong password: a connection error, still refused before any change.
run_livemig migrate --dsn "mysql://limited:wrong@127.0.0.1:$MARIADB_PORT/test" --table t \
    --alter "$ALTER" --execute
[ "$LM_RC" = 1 ] || [ "$LM_RC" = 2 ] || fail "wrong password: exit $LM_RC, expected 1 or 2"
expect_error 'denied|password|connect' "wrong password"
assert_untouched t "wrong password"
pass "wrong password: exit $LM_RC"

# Binary logging off: log_bin cannot change at runtime, so a second server.
NOBIN=$WORK/rig-nobinlog
at_exit "'$SRC_DIR/tests/rig/mariadb.sh' stop '$NOBIN' >/dev/null 2>&1"
MARIADB_RIG_NO_BINLOG=1 "$SRC_DIR/tests/rig/mariadb.sh" start "$NOBIN" 2>"$WORK/nobin.log" || {
    cat "$WORK/nobin.log" >&2
    fail "could not start a server without binary logging"
}
NOBIN_PORT=$(. "$NOBIN/env" && echo "$MARIADB_PORT")
mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$NOBIN_PORT" -uroot test \
    -e "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1)"
expect_refusal "log_bin off" 'log_bin|binary log' \
    migrate --dsn "mysql://root@127.0.0.1:$NOBIN_PORT/test" --table t --alter "$ALTER" --execute
left=$(mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$NOBIN_PORT" -uroot test -N \
    -e "SHOW TABLES")
[ "$left" = t ] || fail "log_bin off: tables now: $left"
"$SRC_DIR/tests/rig/mariadb.sh" stop "$NOBIN"

drop_tables t
pass "all server settings refused"
