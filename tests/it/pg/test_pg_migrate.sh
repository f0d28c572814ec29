#!/usr/bin/env bash
# PostgreSQL: several migrations of the same busy table, one after another,
# under a pgbench workload that writes the table and a reference table in
# the same transactions.
#
# The table t (100k rows, serial key) has everything a rename swap must carry
# over: an FK to parent (outgoing), an FK from child (incoming), a view v on
# it, a trigger, an owner that is not the migrating role, and a grant to
# another role. The workload inserts (keys from t's own sequence), updates
# columns, changes the unique-by-construction column code, moves rows to
# another primary key (id -> -id) and deletes rows; every change is made to
# ref_t in the same transaction, and a delete trigger on each table records
# the deleted keys. The migrations, each checked before the next:
#   add_note      ADD COLUMN note text NOT NULL DEFAULT 'n/a'
#   qty_bigint    ALTER COLUMN qty TYPE bigint     (v does not use qty: like
#                                                   PostgreSQL's own ALTER, livemig
#                                                   refuses to retype a column a
#                                                   view uses; test_pg_refuse)
#   code_unique   ADD CONSTRAINT t_code_key UNIQUE (code)
#   drop_legacy   DROP COLUMN legacy               (the workload never writes it)
# After each: exit 0, t == ref_t on the common columns (in one snapshot,
# while the workload runs), the new schema, _t_old kept (then dropped: DROP
# TABLE without CASCADE also proves nothing depends on it any more), no slot
# or publication left, the sequence owned by t and ahead of max(id), v
# showing t's rows and depending on the new t, both FKs pointing at the new
# t and validated and enforced, grants, owner and trigger carried, the
# trigger fired once per delete (t_deleted == ref_deleted). At the end the
# workload must have had no error: pgbench reports aborted clients and
# failed transactions.
#
# Environment:
#   LIVEMIG_IT_RUNS=N    repeat the whole test N times (default 1; the issue's
#                        bar is 10 consecutive passes)
#   LIVEMIG_IT_ROWS=N    rows in t (default 100000)
#   LIVEMIG_IT_CLIENTS, LIVEMIG_IT_TPS  pgbench clients (4) and rate (200 tx/s)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${LIVEMIG_IT_RUNS:-1}
ROWS=${LIVEMIG_IT_ROWS:-100000}
PARENTS=50
# Children reference ids 1..CHILDREN; the workload deletes and moves only ids
# from FIRST_MOVABLE on, so the child FK never blocks it.
CHILDREN=500
FIRST_MOVABLE=1001
READER=${PGDB}_reader
OWNER=${PGDB}_owner

pg_role "$READER" NOLOGIN
pg_role "$OWNER" NOLOGIN

# name | ALTER
MIGRATIONS=(
    "add_note|ADD COLUMN note text NOT NULL DEFAULT 'n/a'"
    "qty_bigint|ALTER COLUMN qty TYPE bigint"
    "code_unique|ADD CONSTRAINT t_code_key UNIQUE (code)"
    "drop_legacy|DROP COLUMN legacy"
)

setup() {
    log "building t: $ROWS rows"
    pg "DROP VIEW IF EXISTS v;
        DROP TABLE IF EXISTS child, t, _t_old, _t_new, ref_t, parent, t_deleted, ref_deleted CASCADE;
        DROP FUNCTION IF EXISTS t_audit_del(), ref_audit_del();
        DROP SEQUENCE IF EXISTS code_seq;
        CREATE SEQUENCE code_seq;
        CREATE TABLE parent (pid int PRIMARY KEY, name text NOT NULL);
        INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, $PARENTS) g;
        CREATE TABLE t (
            id serial PRIMARY KEY,
            pid int NOT NULL REFERENCES parent (pid),
            code text NOT NULL,
            qty int NOT NULL DEFAULT 0,
            price numeric(12,2),
            payload text,
            legacy text,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX t_pid_idx ON t (pid);
        INSERT INTO t (pid, code, qty, price, payload, legacy, updated_at)
        SELECT 1 + g % $PARENTS, 'c' || g, g % 1000, (g % 100000) / 100.0, md5(g::text),
               CASE WHEN g % 7 = 0 THEN NULL ELSE 'L' || g END,
               timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'
          FROM generate_series(1, $ROWS) g;
        -- the reference: same rows, same key, no default on id
        CREATE TABLE ref_t AS SELECT * FROM t;
        ALTER TABLE ref_t ADD PRIMARY KEY (id);
        CREATE TABLE child (cid serial PRIMARY KEY, t_id int NOT NULL REFERENCES t (id), info text);
        INSERT INTO child (t_id, info) SELECT g, 'child of ' || g FROM generate_series(1, $CHILDREN) g;
        CREATE VIEW v AS SELECT id, pid, code FROM t;
        -- one audit table per side, filled by a delete trigger
        CREATE TABLE t_deleted (id int NOT NULL);
        CREATE TABLE ref_deleted (id int NOT NULL);
        CREATE FUNCTION t_audit_del() RETURNS trigger LANGUAGE plpgsql
            AS \$\$BEGIN INSERT INTO t_deleted VALUES (OLD.id); RETURN OLD; END\$\$;
        CREATE FUNCTION ref_audit_del() RETURNS trigger LANGUAGE plpgsql
            AS \$\$BEGIN INSERT INTO ref_deleted VALUES (OLD.id); RETURN OLD; END\$\$;
        CREATE TRIGGER t_audit_del AFTER DELETE ON t FOR EACH ROW EXECUTE FUNCTION t_audit_del();
        CREATE TRIGGER ref_audit_del AFTER DELETE ON ref_t FOR EACH ROW EXECUTE FUNCTION ref_audit_del();
        ALTER TABLE t OWNER TO \"$OWNER\";
        GRANT SELECT ON t TO \"$READER\";
        GRANT SELECT ON v TO \"$READER\";
        ANALYZE t, ref_t;" >/dev/null
    # What the cutover must carry over, as it is before any migration.
    ACL0=$(table_acl t)
    OWNER0=$(pg "SELECT relowner::regrole FROM pg_class WHERE oid = 't'::regclass")
    [ "$OWNER0" = "$OWNER" ] || fail "setup: t is owned by $OWNER0"
}

# The privileges on a relation without the grantor: grantee:privilege:grantable,…
table_acl() {
    pg "SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
                          || ':' || a.privilege_type || ':' || a.is_grantable, ',' ORDER BY 1)
          FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = $(sql_str "$1")::regclass"
}

# The workload. Variables: maxid (keys to pick from), lo (first key it may
# delete or move), nparents. One change per transaction, so that no two
# clients can deadlock on row locks.
cat >"$WORK/workload.sql" <<'EOF'
\set op random(1, 100)
\set id random(1, :maxid)
\set mid random(:lo, :maxid)
\set p random(1, :nparents)
\set q random(-1000, 1000)
\if :op <= 25
-- insert: the key from t's own sequence (its default), which must keep
-- working through every cutover
BEGIN;
INSERT INTO t (pid, code, qty, price, payload, updated_at)
    VALUES (:p, 'n' || nextval('code_seq'), :q, :q * 1.25, md5(random()::text), now())
    RETURNING id \gset
INSERT INTO ref_t (id, pid, code, qty, price, payload, updated_at)
    SELECT id, pid, code, qty, price, payload, updated_at FROM t WHERE id = :id;
END;
\elif :op <= 60
-- update ordinary columns (relative, so a lost change stays visible)
BEGIN;
UPDATE t SET qty = qty + :q, price = :q * 0.5, updated_at = now() WHERE id = :id;
UPDATE ref_t SET qty = qty + :q, price = :q * 0.5, updated_at = now() WHERE id = :id;
END;
\elif :op <= 75
-- change the unique column and the FK column (unique by construction: the
-- key is part of the code)
BEGIN;
UPDATE t SET code = 'u' || id || '.' || :q, pid = :p WHERE id = :id;
UPDATE ref_t SET code = 'u' || id || '.' || :q, pid = :p WHERE id = :id;
END;
\elif :op <= 87
-- move the row to another primary key: the stream carries the old key
BEGIN;
UPDATE t SET id = -id, payload = 'moved' WHERE id = :mid;
UPDATE ref_t SET id = -id, payload = 'moved' WHERE id = :mid;
END;
\else
BEGIN;
DELETE FROM t WHERE id = :mid;
DELETE FROM ref_t WHERE id = :mid;
END;
\endif
EOF
WL_ARGS=(-D "maxid=$((ROWS * 12 / 10))" -D "lo=$FIRST_MOVABLE" -D "nparents=$PARENTS")

# The columns of t after each migration (name type), cumulative.
expected_columns() {
    local done=" $1 " qty=integer
    printf '%s\n' "id integer" "pid integer" "code text"
    [[ "$done" == *" qty_bigint "* ]] && qty=bigint
    printf '%s\n' "qty $qty" "price numeric(12,2)" "payload text"
    [[ "$done" == *" drop_legacy "* ]] || echo "legacy text"
    echo "updated_at timestamp with time zone"
    [[ "$done" == *" add_note "* ]] && echo "note text"
    return 0
}

# check_migration NAME DONE: everything that must hold after migration NAME
# (DONE: the names of all migrations so far, this one included).
check_migration() {
    local name=$1 done=$2 ms
    expect_rc 0 "$name"
    assert_no_crash "$name"
    ms=$(blocked_ms) || exit 1
    grep -qE 'applied [1-9][0-9]* change' "$WORK/livemig.err" ||
        fail "$name: no progress line 'applied N changes' with N > 0: did the stream apply anything?"
    workload_check_running

    # the swap happened, the helpers are gone
    table_exists _t_old || fail "$name: _t_old is missing (no --drop-old)"
    assert_no_leftovers "$name" t
    diff <(expected_columns "$done") <(table_columns t) >&2 ||
        fail "$name: t does not have the expected columns (< expected, > t)"
    [ "$(pg "SELECT '_t_old'::regclass::oid")" = "$OID_BEFORE" ] ||
        fail "$name: _t_old is not the old table (its oid is not t's before the migration)"

    # the data
    local cols="id, pid, code, qty, price, payload, updated_at"
    [[ " $done " == *" drop_legacy "* ]] || cols+=", legacy"
    assert_tables_equal t ref_t "$cols" "$name"
    case "$name" in
    add_note)
        [ "$(pg "SELECT count(*) FROM t WHERE note IS DISTINCT FROM 'n/a'")" = 0 ] ||
            fail "$name: rows of t whose note is not the default 'n/a'"
        ;;
    qty_bigint)
        [ "$(pg "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
                 WHERE attrelid = 't'::regclass AND attname = 'qty'")" = bigint ] ||
            fail "$name: t.qty is not bigint"
        ;;
    code_unique)
        [ "$(pg "SELECT contype FROM pg_constraint
                 WHERE conrelid = 't'::regclass AND conname = 't_code_key'")" = u ] ||
            fail "$name: t has no unique constraint t_code_key"
        # (the row is locked so that the workload cannot change its code
        # in between; the failed transaction rolls back)
        pg_fails "BEGIN; SELECT 1 FROM t WHERE id = 1 FOR UPDATE;
                  INSERT INTO t (pid, code) SELECT 1, code FROM t WHERE id = 1;" \
            'duplicate key.*t_code_key' "$name: a duplicate code"
        ;;
    esac
    [[ " $done " != *" add_note "* ]] || [ "$(pg "SELECT count(*) FROM t WHERE note <> 'n/a'")" = 0 ] ||
        fail "$name: note lost its default values"
    pass "$name: t has the new schema and the default values"

    # the key sequence: owned by the new t, ahead of every key
    [ "$(pg "SELECT pg_get_serial_sequence('t', 'id')")" = public.t_id_seq ] ||
        fail "$name: t_id_seq is not owned by t.id any more"
    local seq
    seq=$(pg "BEGIN;
              WITH m AS (SELECT max(id) AS max FROM t),
                   i AS (INSERT INTO t (pid, code) VALUES (1, 'seqprobe') RETURNING id)
              SELECT (i.id > m.max)::text || ' ' || i.id || ' ' || m.max FROM i, m;
              ROLLBACK;")
    [[ "$seq" == "true "* ]] || fail "$name: a new row got a key not above max(id) (id, max: ${seq#* })"

    # the view shows the new table
    [ "$(pg "BEGIN ISOLATION LEVEL REPEATABLE READ;
             SELECT (SELECT count(*) FROM v) = (SELECT count(*) FROM t);
             COMMIT;")" = t ] || fail "$name: v does not show the rows of t"
    [ "$(pg "SELECT string_agg(DISTINCT d.refobjid::regclass::text, ',')
               FROM pg_depend d JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass
                                                   AND d.objid = r.oid
              WHERE r.ev_class = 'v'::regclass AND d.refclassid = 'pg_class'::regclass
                AND d.refobjid <> 'v'::regclass")" = t ] ||
        fail "$name: v does not depend on the new t (only): $(pg "SELECT string_agg(DISTINCT
              d.refobjid::regclass::text, ',') FROM pg_depend d JOIN pg_rewrite r ON d.objid = r.oid
              WHERE r.ev_class = 'v'::regclass AND d.refobjid <> 'v'::regclass")"

    # foreign keys in both directions: on the new t, validated, enforced
    [ "$(pg "SELECT string_agg(confrelid::regclass || ':' || convalidated, ',')
               FROM pg_constraint WHERE conrelid = 'child'::regclass AND contype = 'f'")" = t:true ] ||
        fail "$name: child's FK does not reference the new t (validated): $(pg "SELECT string_agg(
              conname || ' -> ' || confrelid::regclass || ' validated ' || convalidated, ', ')
              FROM pg_constraint WHERE conrelid = 'child'::regclass AND contype = 'f'")"
    [ "$(pg "SELECT string_agg(confrelid::regclass || ':' || convalidated, ',')
               FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'f'")" = parent:true ] ||
        fail "$name: t has no validated FK to parent"
    pg_fails "INSERT INTO child (t_id) VALUES (-2000000000)" 'violates foreign key' \
        "$name: a child of a missing t row"
    pg_fails "INSERT INTO t (pid, code) VALUES (-1, 'orphan')" 'violates foreign key' \
        "$name: a t row with a missing parent"
    # a child of a row that exists only in the new t must be accepted
    pg "BEGIN;
        INSERT INTO t (pid, code) VALUES (1, 'fkprobe') RETURNING id \\gset
        INSERT INTO child (t_id) VALUES (:id);
        ROLLBACK;" >/dev/null || fail "$name: child cannot reference a row of the new t"
    pass "$name: sequence, view and both FKs follow the new t"

    # grants, owner, trigger
    [ "$(table_acl t)" = "$ACL0" ] || fail "$name: the privileges on t changed: $ACL0 -> $(table_acl t)"
    [ "$(pg "SELECT has_table_privilege('$READER', 't', 'SELECT')
                AND has_table_privilege('$READER', 'v', 'SELECT')
                AND NOT has_table_privilege('$READER', 't', 'INSERT')")" = t ] ||
        fail "$name: $READER lost SELECT on t or v (or gained INSERT)"
    [ "$(pg "SELECT relowner::regrole FROM pg_class WHERE oid = 't'::regclass")" = "$OWNER0" ] ||
        fail "$name: the owner of t is not $OWNER0 any more"
    [ "$(pg "SELECT count(*) FROM pg_trigger WHERE tgrelid = 't'::regclass AND tgname = 't_audit_del'
             AND tgenabled = 'O'")" = 1 ] || fail "$name: the trigger t_audit_del is not on the new t"
    # the delete trigger fired exactly once per deleted row: not on the
    # shadow while changes were applied, and again on t after the cutover
    assert_tables_equal t_deleted ref_deleted "id" "$name: deleted keys"
    pass "$name: grants, owner and trigger carried (writes blocked $ms ms)"

    # nothing depends on the old table any more
    pg "DROP TABLE _t_old" >/dev/null || fail "$name: DROP TABLE _t_old failed (something still depends on it)"
    table_exists t_id_seq || fail "$name: dropping _t_old dropped t_id_seq"
}

for run in $(seq 1 "$RUNS"); do
    started=$SECONDS
    log "=== run $run/$RUNS"
    setup
    assert_no_leftovers "setup" t
    workload_start "$WORK/workload.sql" "${WL_ARGS[@]}"
    sleep 1
    done_names=
    for spec in "${MIGRATIONS[@]}"; do
        IFS='|' read -r name alter <<<"$spec"
        done_names+="${done_names:+ }$name"
        log "--- $name: ALTER TABLE t $alter"
        OID_BEFORE=$(pg "SELECT 't'::regclass::oid")
        migrate --table t --alter "$alter" --execute --progress-interval 0.5
        check_migration "$name" "$done_names"
    done
    # keep writing a little into the final table, then the workload's verdict
    sleep 1
    workload_stop
    assert_tables_equal t ref_t "id, pid, code, qty, price, payload, updated_at" "after the workload"
    assert_tables_equal t_deleted ref_deleted "id" "deleted keys after the workload"
    pass "run $run/$RUNS: ${#MIGRATIONS[@]} migrations under load ($WL_TX transactions) in $((SECONDS - started)) s"
done
