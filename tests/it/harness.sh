# shellcheck shell=bash
# The database-independent half of the integration test helpers, sourced by
# tests/it/lib.sh (MariaDB) and tests/it/pg/lib.sh (PostgreSQL): reporting,
# the exit handler, and waiting for a livemig run in the background.
#
# Sets TEST_NAME and WORK (a temporary directory removed at exit). The
# sourcing library may set WORKLOAD_LOG_TITLE (how the workload's log in
# $WORK/workload.log is headed when a test fails).

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lm-$TEST_NAME.XXXXXX")
WORKLOAD_LOG_TITLE=${WORKLOAD_LOG_TITLE:-workload log}

# ------------------------------------------------------------ reporting

log() {
    printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

pass() {
    printf 'ok - %s\n' "$*"
}

fail() {
    printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
    exit 1
}

# Print a file under a header (for failures).
show_file() {
    local title=$1 f=$2 n=${3:-60}
    [ -s "$f" ] || return 0
    printf -- '----- %s (%s, last %s lines)\n' "$title" "$f" "$n" >&2
    tail -n "$n" "$f" >&2
    printf -- '-----\n' >&2
}

# ------------------------------------------------------------ cleanup

_at_exit=()
# Run a command when the test exits (last registered runs first).
at_exit() {
    _at_exit=("$*" "${_at_exit[@]}")
}

_lib_exit() {
    local rc=$? c
    set +e
    for c in "${_at_exit[@]}"; do
        eval "$c"
    done
    if [ "$rc" -ne 0 ]; then
        show_file "livemig stdout" "$WORK/livemig.out"
        show_file "livemig stderr" "$WORK/livemig.err"
        show_file "$WORKLOAD_LOG_TITLE" "$WORK/workload.log" 40
        printf 'FAIL: %s (exit %s)\n' "$TEST_NAME" "$rc" >&2
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap _lib_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ livemig's exit

LM_RC=0
expect_rc() {
    local want=$1 what=$2
    # (on failure, the exit handler shows livemig's output)
    [ "$LM_RC" = "$want" ] || fail "$what: livemig exited $LM_RC, expected $want"
}

# ------------------------------------------------------------ a migration in the background

# The library's migrate_bg starts it and sets LM_PID; the library registers
# at_exit _migrate_bg_kill where its other exit actions want it.
LM_PID=
_migrate_bg_kill() {
    if [ -n "$LM_PID" ] && kill -0 "$LM_PID" 2>/dev/null; then
        kill -9 "$LM_PID" 2>/dev/null
        wait "$LM_PID" 2>/dev/null
    fi
    LM_PID=
}

# migrate_wait [SECONDS]: wait (default 120 s) for the background livemig to
# exit; sets LM_RC. Fails when it does not exit in time.
migrate_wait() {
    local limit=${1:-120} _
    for _ in $(seq 1 $((limit * 10))); do
        kill -0 "$LM_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$LM_PID" 2>/dev/null && fail "livemig did not finish within $limit s"
    LM_RC=0
    wait "$LM_PID" || LM_RC=$?
    LM_PID=
    log "livemig exited $LM_RC"
}
