#!/usr/bin/env bash
# PostgreSQL: what livemig must refuse before it changes anything, what an
# interrupted copy must leave behind (nothing), and that a dry run is dry.
#
# Each refusal: exit 2, exactly one "livemig: error:" line, the table exactly
# as before (oid, definition, owner, ACL, rows: table_fingerprint) and no
# _T_new, slot or publication. Cases:
#   unknown table; a table without a key; REPLICA IDENTITY NOTHING (with a
#   unique index but no primary key, and with a primary key); invalid ALTER
#   texts; an ALTER that drops or renames a column a view uses, or drops one
#   an FK uses; a role with LOGIN but without REPLICATION that owns the
#   table; a role with REPLICATION that does not own it; wal_level not
#   logical (on a private server of this test's own, restarted with
#   wal_level=replica).
# Then SIGTERM and SIGINT during the copy of a 200k-row table
# (--chunk-size 100): non-zero exit, nothing left, table unchanged. And a
# dry run (no --execute): exit 0, a plan on stdout, nothing changed.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BIG_ROWS=${LIVEMIG_IT_ROWS:-200000}
NOREPL=${PGDB}_norepl
NOTOWNER=${PGDB}_notowner

pg "CREATE TABLE parent (pid int PRIMARY KEY);
    INSERT INTO parent SELECT generate_series(1, 10);
    CREATE TABLE t (id int PRIMARY KEY, pid int REFERENCES parent (pid), code text, qty int);
    INSERT INTO t SELECT g, 1 + g % 10, 'c' || g, g FROM generate_series(1, 1000) g;
    CREATE VIEW v AS SELECT id, code FROM t;
    CREATE TABLE nokey (a int, b text);
    INSERT INTO nokey SELECT g, 'b' || g FROM generate_series(1, 100) g;
    CREATE TABLE rin (id int NOT NULL UNIQUE, v text);
    INSERT INTO rin SELECT g, 'v' || g FROM generate_series(1, 100) g;
    ALTER TABLE rin REPLICA IDENTITY NOTHING;
    CREATE TABLE ripk (id int PRIMARY KEY, v text);
    INSERT INTO ripk SELECT g, 'v' || g FROM generate_series(1, 100) g;
    ALTER TABLE ripk REPLICA IDENTITY NOTHING;
    CREATE TABLE victim (x int);
    CREATE TABLE owned (id int PRIMARY KEY, v text);
    INSERT INTO owned SELECT g, 'v' || g FROM generate_series(1, 100) g;" >/dev/null

# refuse WHAT REGEX TABLE ARGS…: livemig migrate --dsn $DSN --table TABLE
# ARGS… --execute must be refused (see expect_refusal) and leave TABLE as it
# was. The DSN can be changed for one call with DSN=… refuse ….
refuse() {
    local what=$1 re=$2 t=$3 before
    shift 3
    before=$(table_fingerprint "$t")
    expect_refusal "$what" "$re" --table "$t" "$@" --execute
    [ "$(table_fingerprint "$t")" = "$before" ] || {
        diff <(echo "$before") <(table_fingerprint "$t") >&2 || true
        fail "$what: $t changed (< before, > after)"
    }
    assert_no_leftovers "$what" "$t"
}

# ---- the table
expect_refusal "unknown table" 'nosuch|not exist|not found|no table' \
    --table nosuch --alter 'ADD COLUMN x int' --execute
assert_no_leftovers "unknown table" nosuch
refuse "table without a key" 'primary key|replica identity|key' nokey --alter 'ADD COLUMN x int'
refuse "REPLICA IDENTITY NOTHING, no primary key" 'replica identity' rin --alter 'ADD COLUMN x int'
refuse "REPLICA IDENTITY NOTHING with a primary key" 'replica identity' ripk --alter 'ADD COLUMN x int'

# ---- the ALTER
refuse "invalid ALTER (garbage)" 'alter|syntax' t --alter 'FROB THE WIDGET'
refuse "invalid ALTER (incomplete)" 'alter|syntax' t --alter 'ADD COLUMN'
refuse "invalid ALTER (no such column)" 'nosuch|alter|not exist' t --alter 'ALTER COLUMN nosuch TYPE bigint'
# (victim has no dependents: nothing but livemig stops a second statement)
refuse "invalid ALTER (two statements)" 'alter|;' t --alter 'ADD COLUMN x int; DROP TABLE victim'
table_exists victim || fail "the ALTER text ran a second statement: victim is gone"
refuse "ALTER dropping a column a view uses" 'view|v\b|code' t --alter 'DROP COLUMN code'
refuse "ALTER renaming a column a view uses" 'view|v\b|code' t --alter 'RENAME COLUMN code TO code2'
refuse "ALTER retyping a column a view uses" 'view|v\b|code' t --alter 'ALTER COLUMN code TYPE varchar(100)'
refuse "ALTER dropping a column an FK uses" 'foreign|fkey|pid|constraint' t --alter 'DROP COLUMN pid'
refuse "--threads 4 (one copy connection on PostgreSQL)" 'threads' t --alter 'ADD COLUMN x int' \
    --threads 4

# ---- the role: LOGIN without REPLICATION (owning the table), and
# REPLICATION without owning the table
pg_role "$NOREPL" LOGIN
pg_role "$NOTOWNER" "LOGIN REPLICATION"
pg "ALTER TABLE owned OWNER TO \"$NOREPL\"; GRANT SELECT ON owned TO \"$NOTOWNER\"" >/dev/null
DSN_SAVED=$DSN
DSN="postgres://$NOREPL@$PG_HOST:$PG_PORT/$PGDB"
refuse "role without REPLICATION" 'replication|superuser' owned --alter 'ADD COLUMN x int'
DSN="postgres://$NOTOWNER@$PG_HOST:$PG_PORT/$PGDB"
refuse "role not owning the table" 'own' owned --alter 'ADD COLUMN x int'
DSN=$DSN_SAVED

# ---- a dry run changes nothing
before=$(table_fingerprint t)
migrate --table t --alter 'ADD COLUMN note text DEFAULT 42'
expect_rc 0 "dry run"
assert_no_crash "dry run"
[ -s "$WORK/livemig.out" ] || fail "dry run: no plan on stdout"
[ "$(table_fingerprint t)" = "$before" ] || fail "dry run: t changed"
assert_no_leftovers "dry run" t
table_exists _t_old && fail "dry run: _t_old exists"
pass "dry run: exit 0, plan printed ($(wc -l <"$WORK/livemig.out") lines), nothing changed"

# ---- SIGTERM / SIGINT during the copy
log "building big: $BIG_ROWS rows"
pg "CREATE TABLE big (id bigserial PRIMARY KEY, a int NOT NULL, b text, c timestamptz DEFAULT now());
    INSERT INTO big (a, b, c) SELECT g, md5(g::text), timestamptz '2020-01-01 00:00:00+00' + g * interval '1 s'
      FROM generate_series(1, $BIG_ROWS) g;
    ANALYZE big;" >/dev/null
for sig in TERM INT; do
    before=$(table_fingerprint big)
    migrate_bg --table big --alter 'ADD COLUMN x int' --execute --chunk-size 100 --progress-interval 0.2
    # the progress line says "state copying" (or a log line "copying")
    wait_stderr 'copying' 60
    table_exists _big_new || fail "SIG$sig: no _big_new while the log says it is copying"
    copied=$(pg "SELECT count(*) FROM _big_new")
    [ "$copied" -lt "$BIG_ROWS" ] || fail "SIG$sig: the copy was already complete ($copied rows)"
    kill -0 "$LM_PID" 2>/dev/null || fail "SIG$sig: livemig exited during the copy"
    kill -s "$sig" "$LM_PID"
    log "sent SIG$sig to livemig after $copied rows"
    migrate_wait 60
    assert_no_crash "SIG$sig"
    [ "$LM_RC" -ne 0 ] || fail "SIG$sig: livemig exited 0 although it was interrupted during the copy"
    [ "$(table_fingerprint big)" = "$before" ] || fail "SIG$sig: big changed"
    assert_no_leftovers "SIG$sig" big
    table_exists _big_old && fail "SIG$sig: _big_old exists: the cutover ran"
    pass "SIG$sig during the copy: exit $LM_RC, big unchanged, nothing left"
done

# ---- wal_level not logical: a private server restarted with wal_level=replica
PRIV=$WORK/rig
at_exit "'$SRC_DIR/tests/rig/postgres.sh' stop '$PRIV' >/dev/null 2>&1"
"$SRC_DIR/tests/rig/postgres.sh" start "$PRIV" 2>"$WORK/rig.log" || {
    cat "$WORK/rig.log" >&2
    fail "could not start a private server"
}
# (read its env in a subshell: the test keeps using the shared server's)
read -r PRIV_PORT PRIV_SOCK PRIV_DATA < <(
    # shellcheck source=/dev/null
    . "$PRIV/env"
    echo "$PG_PORT $PG_SOCKET_DIR $PG_DATADIR"
)
as_owner=()
[ "$(id -u)" -eq 0 ] && as_owner=(runuser -u postgres --)
"${as_owner[@]}" "$PG_BINDIR/pg_ctl" -D "$PRIV_DATA" -l "$PRIV_SOCK/server-replica.log" -m fast -w -t 60 \
    -o "-c port=$PRIV_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PRIV_SOCK \
        -c wal_level=replica -c fsync=off" restart >"$WORK/restart.log" 2>&1 || {
    cat "$WORK/restart.log" >&2
    fail "could not restart the private server with wal_level=replica"
}
[ "$(PG_PORT=$PRIV_PORT _psql postgres <<<"SHOW wal_level")" = replica ] ||
    fail "the private server's wal_level is not replica"
PG_PORT=$PRIV_PORT _psql postgres <<<"CREATE TABLE w (id int PRIMARY KEY, v text);
    INSERT INTO w SELECT g, 'v' || g FROM generate_series(1, 100) g;" >/dev/null
before=$(PG_PORT=$PRIV_PORT _psql postgres <<<"SELECT 'w'::regclass::oid, count(*), md5(string_agg(w::text, ',' ORDER BY id)) FROM w")
run_livemig migrate --dsn "postgres://postgres@$PG_HOST:$PRIV_PORT/postgres" --table w \
    --alter 'ADD COLUMN x int' --execute
expect_rc 2 "wal_level=replica"
assert_no_crash "wal_level=replica"
[ "$(grep -c '^livemig: error:' "$WORK/livemig.err")" = 1 ] ||
    fail "wal_level=replica: not exactly one 'livemig: error:' line"
grep '^livemig: error:' "$WORK/livemig.err" | grep -qi 'wal_level' ||
    fail "wal_level=replica: the error does not name wal_level"
[ "$(PG_PORT=$PRIV_PORT _psql postgres <<<"SELECT 'w'::regclass::oid, count(*), md5(string_agg(w::text, ',' ORDER BY id)) FROM w")" = "$before" ] ||
    fail "wal_level=replica: w changed"
[ "$(PG_PORT=$PRIV_PORT _psql postgres <<<"SELECT (SELECT count(*) FROM pg_publication) + (SELECT count(*) FROM pg_replication_slots) + (SELECT count(*) FROM pg_class WHERE relname LIKE '\\_w\\_%')")" = 0 ] ||
    fail "wal_level=replica: a publication, slot or helper table was left"
pass "wal_level=replica: refused (exit 2): $(grep -m1 '^livemig: error:' "$WORK/livemig.err")"
