#!/usr/bin/env bash
# PostgreSQL: a migration of a table of many column types under writes, in
# particular a TOASTed column that most updates leave alone.
#
# t has an identity key (GENERATED ALWAYS), numeric(20,6), jsonb, int[],
# text[], bytea, timestamptz, uuid, an enum and big, a text of 10-50 kB of
# md5 hex (stored out of line: hex does not compress much). The pgbench
# workload changes t and the reference ref_t in the same transaction:
# updates of the other columns only (pgoutput then sends big as 'u',
# unchanged TOAST, which the apply must leave as it is), updates of big,
# inserts (keys from the identity, some with a big value, some without) and
# deletes. Then
#   livemig migrate --table t --alter 'ADD COLUMN extra int DEFAULT 7' --execute
# and t must equal ref_t on every column (big by md5 and length), extra must
# be 7 in every row (copied or inserted during the migration), the identity
# must still be GENERATED ALWAYS on the new t and continue past max(id).
# Then, still under the workload, t gets REPLICA IDENTITY FULL (the stream
# then carries whole old rows, 'O') and
#   livemig migrate --table t --alter 'ALTER COLUMN n TYPE bigint' --execute --drop-old
# with the same checks, plus: the new t has REPLICA IDENTITY FULL, n is
# bigint and no _t_old is left.
#
# Environment: LIVEMIG_IT_ROWS (rows, default 1500), LIVEMIG_IT_CLIENTS,
# LIVEMIG_IT_TPS (pgbench clients, 4, and rate, 200 tx/s).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${LIVEMIG_IT_ROWS:-1500}

# big for key/seed N: 300..1499 md5s (9.6..48 kB) that depend on N
big_expr() {
    printf "(SELECT string_agg(md5(g::text || '-' || (%s)::text), '') FROM generate_series(1, 300 + (%s) %% 1200) g)" "$1" "$1"
}

log "building t: $ROWS rows"
pg "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic');
    CREATE TABLE t (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        amount numeric(20,6),
        doc jsonb,
        nums int[],
        tags text[],
        raw bytea,
        at timestamptz,
        uid uuid,
        m mood,
        big text,
        n int NOT NULL DEFAULT 0
    );
    INSERT INTO t (amount, doc, nums, tags, raw, at, uid, m, big, n)
    SELECT CASE WHEN g % 11 = 0 THEN NULL ELSE (g * 7919 % 100000000)::numeric / 1000000 * (1 - 2 * (g % 2)) END,
           CASE WHEN g % 13 = 0 THEN NULL ELSE jsonb_build_object('g', g, 's', 'é\"' || g, 'a', jsonb_build_array(g, null, true)) END,
           CASE WHEN g % 17 = 0 THEN NULL ELSE ARRAY[g, -g, NULL] END,
           CASE WHEN g % 19 = 0 THEN NULL ELSE ARRAY['a' || g, 'with space', 'quote''s', NULL, ''] END,
           CASE WHEN g % 23 = 0 THEN NULL ELSE decode(md5(g::text) || '00ff', 'hex') END,
           CASE WHEN g % 29 = 0 THEN NULL ELSE timestamptz '2001-02-03 04:05:06.789+00' + g * interval '1 hour 1.5 seconds' END,
           CASE WHEN g % 31 = 0 THEN NULL ELSE md5('u' || g)::uuid END,
           CASE WHEN g % 37 = 0 THEN NULL ELSE (enum_range(NULL::mood))[1 + g % 4] END,
           CASE WHEN g % 41 = 0 THEN NULL ELSE $(big_expr g) END,
           g % 100
      FROM generate_series(1, $ROWS) g;
    CREATE TABLE ref_t AS SELECT * FROM t;
    ALTER TABLE ref_t ADD PRIMARY KEY (id);
    ANALYZE t, ref_t;" >/dev/null

# big must really be out of line and barely compressed, or the test would
# not exercise unchanged-TOAST updates.
read -r toast_kb stored_ratio < <(pg "SELECT pg_total_relation_size(reltoastrelid) / 1024,
        round(sum(pg_column_size(big))::numeric / sum(octet_length(big)), 2)
    FROM pg_class, t WHERE pg_class.oid = 't'::regclass GROUP BY reltoastrelid" | tr '\t' ' ')
[ "${toast_kb:-0}" -gt $((ROWS * 5)) ] || fail "t's TOAST table is only ${toast_kb:-0} kB: big is not out of line"
awk -v r="$stored_ratio" 'BEGIN { exit !(r > 0.45) }' ||
    fail "big compresses to $stored_ratio of its size: not the hard-to-compress values intended"
pass "t: $ROWS rows, TOAST table $toast_kb kB, big stored at $stored_ratio of its length"

COLS="id, amount, doc, nums, tags, raw, at, uid, m, n"
cat >"$WORK/workload.sql" <<EOF
\\set op random(1, 100)
\\set id random(1, :maxid)
\\set q random(1, 1000000)
\\if :op <= 45
-- the other columns only: big travels as unchanged TOAST ('u')
BEGIN;
UPDATE t SET n = n + 1, amount = :q / 7.0, doc = jsonb_build_object('q', :q, 'l', jsonb_build_array(:q, 'x')),
    nums = ARRAY[:q, NULL, -:q], tags = ARRAY['t' || :q, NULL], raw = decode(md5(:q::text), 'hex'),
    at = to_timestamp(:q), uid = md5(:q::text)::uuid, m = (enum_range(NULL::mood))[1 + :q % 4]
    WHERE id = :id;
UPDATE ref_t SET n = n + 1, amount = :q / 7.0, doc = jsonb_build_object('q', :q, 'l', jsonb_build_array(:q, 'x')),
    nums = ARRAY[:q, NULL, -:q], tags = ARRAY['t' || :q, NULL], raw = decode(md5(:q::text), 'hex'),
    at = to_timestamp(:q), uid = md5(:q::text)::uuid, m = (enum_range(NULL::mood))[1 + :q % 4]
    WHERE id = :id;
END;
\\elif :op <= 60
-- a counter only (the smallest change next to a TOASTed value)
BEGIN;
UPDATE t SET n = n + 1 WHERE id = :id;
UPDATE ref_t SET n = n + 1 WHERE id = :id;
END;
\\elif :op <= 70
-- a new big value
BEGIN;
UPDATE t SET big = $(big_expr :q), n = n + 1 WHERE id = :id;
UPDATE ref_t SET big = $(big_expr :q), n = n + 1 WHERE id = :id;
END;
\\elif :op <= 88
-- insert: the key from the identity; every other row with a big value
BEGIN;
INSERT INTO t (amount, doc, nums, tags, raw, at, uid, m, big)
    VALUES (:q / 3.0, jsonb_build_object('new', :q), ARRAY[:q], ARRAY['n' || :q], decode(md5(:q::text), 'hex'),
            to_timestamp(:q), md5('n' || :q)::uuid, 'ok',
            CASE WHEN :q % 2 = 0 THEN $(big_expr :q) ELSE 'small ' || :q END)
    RETURNING id \\gset
INSERT INTO ref_t ($COLS, big) SELECT $COLS, big FROM t WHERE id = :id;
END;
\\else
BEGIN;
DELETE FROM t WHERE id = :id;
DELETE FROM ref_t WHERE id = :id;
END;
\\endif
EOF

workload_start "$WORK/workload.sql" -D "maxid=$((ROWS * 13 / 10))"
sleep 1
# The identity: still GENERATED ALWAYS, and ahead of every key.
assert_identity() {
    local what=$1 seq
    [ "$(pg "SELECT attidentity FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'id'")" = a ] ||
        fail "$what: t.id is no longer GENERATED ALWAYS AS IDENTITY"
    seq=$(pg "BEGIN;
              WITH m AS (SELECT max(id) AS max FROM t),
                   i AS (INSERT INTO t (n) VALUES (-1) RETURNING id)
              SELECT (i.id > m.max)::text || ' ' || i.id || ' ' || m.max FROM i, m;
              ROLLBACK;")
    [[ "$seq" == "true "* ]] || fail "$what: a new row got a key not above max(id) (id, max: ${seq#* })"
    pass "$what: the identity continues past max(id) (${seq#* })"
}

# extra is 7 in every row: copied, or inserted by the workload during or
# after the migration (the workload never writes it)
assert_extra() {
    [ "$(pg "SELECT count(*) FROM t WHERE extra IS DISTINCT FROM 7")" = 0 ] ||
        fail "$1: rows of t whose extra is not 7: $(pg "SELECT count(*) FROM t WHERE extra IS DISTINCT FROM 7")"
}

# ---- 1. ADD COLUMN, replica identity default: updates carry big as 'u'
migrate --table t --alter 'ADD COLUMN extra int DEFAULT 7' --execute --progress-interval 0.5
expect_rc 0 "ADD COLUMN extra"
assert_no_crash "ADD COLUMN extra"
ms=$(blocked_ms) || exit 1
grep -qE 'applied [1-9][0-9]* change' "$WORK/livemig.err" ||
    fail "ADD COLUMN extra: no progress line 'applied N changes' with N > 0: did the stream apply anything?"
workload_check_running
table_exists _t_old || fail "ADD COLUMN extra: _t_old is missing (no --drop-old)"
assert_no_leftovers "ADD COLUMN extra" t
# while the workload still writes the new t (one snapshot per comparison)
assert_tables_equal t ref_t "$COLS, md5(big), length(big)" "ADD COLUMN extra"
assert_extra "ADD COLUMN extra"
pass "ADD COLUMN extra: extra is 7 in every row (writes blocked $ms ms)"
assert_identity "ADD COLUMN extra"
pg "DROP TABLE _t_old" >/dev/null || fail "DROP TABLE _t_old failed (something still depends on it)"

# ---- 2. REPLICA IDENTITY FULL (updates and deletes carry the whole old row,
# 'O', with big as 'u' when unchanged), a retype, and --drop-old
pg "ALTER TABLE t REPLICA IDENTITY FULL" >/dev/null
migrate --table t --alter 'ALTER COLUMN n TYPE bigint' --execute --drop-old --progress-interval 0.5
expect_rc 0 "REPLICA IDENTITY FULL, n bigint"
assert_no_crash "REPLICA IDENTITY FULL, n bigint"
ms=$(blocked_ms) || exit 1
grep -qE 'applied [1-9][0-9]* change' "$WORK/livemig.err" ||
    fail "REPLICA IDENTITY FULL: no progress line 'applied N changes' with N > 0"
workload_check_running
! table_exists _t_old || fail "--drop-old: _t_old is still there"
assert_no_leftovers "REPLICA IDENTITY FULL, n bigint" t
[ "$(pg "SELECT relreplident FROM pg_class WHERE oid = 't'::regclass")" = f ] ||
    fail "the new t lost REPLICA IDENTITY FULL"
[ "$(pg "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
         WHERE attrelid = 't'::regclass AND attname = 'n'")" = bigint ] || fail "t.n is not bigint"
assert_tables_equal t ref_t "$COLS, md5(big), length(big)" "REPLICA IDENTITY FULL, n bigint"
assert_extra "REPLICA IDENTITY FULL, n bigint"
pass "REPLICA IDENTITY FULL, n bigint, --drop-old: replica identity kept, old table dropped (writes blocked $ms ms)"

# ---- the end: the workload's verdict, and everything once more at rest
sleep 1
workload_stop
assert_tables_equal t ref_t "$COLS, md5(big), length(big)" "after the workload ($WL_TX transactions)"
assert_extra "after the workload"
assert_identity "after the workload"
