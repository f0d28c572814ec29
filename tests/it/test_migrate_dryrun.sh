#!/usr/bin/env bash
# Without --execute, migrate validates and prints the plan, exits 0 and
# leaves nothing behind: same definition, same rows, no helper tables.
. "$(dirname "$0")/lib.sh"

drop_tables t _t_new _t_old _t_chk
make_types_table t 2000
snapshot_table t

for alter in 'ADD COLUMN c_new varchar(10) NULL' 'DROP COLUMN c_text, ADD INDEX k_dt (c_dt)' \
    'CHANGE c_dec c_amount decimal(14,3) NULL' 'RENAME COLUMN c_date TO c_day'; do
    migrate --table t --alter "$alter"
    expect_rc 0 "dry run of '$alter'"
    out=$(cat "$WORK/livemig.out" "$WORK/livemig.err")
    [ -n "$out" ] || fail "dry run of '$alter': printed nothing"
    grep -qiE 'plan|dry run|--execute' <<<"$out" ||
        fail "dry run of '$alter': no plan printed: $out"
    assert_untouched t "dry run of '$alter'"
    ! table_exists _t_chk || fail "dry run: _t_chk left"
    pass "dry run of '$alter' prints a plan and changes nothing"
done
printf -- '----- plan printed for the last dry run\n%s\n-----\n' "$out"

drop_tables t
