#!/usr/bin/env bash
# Fuzz the binlog decoder and the recording reader with libFuzzer.
#
#   tests/fuzz/run.sh [SECONDS] [SEED_FILE...]     (default 600 s = 10 min)
#   FUZZ_TARGET=fuzz_pgoutput tests/fuzz/run.sh [SECONDS]
#
# fuzz_pgoutput (the walsender frame and pgoutput parsers) starts from a few
# hand-made messages; its findings become tests in tests/unit/test_pgoutput.c.
#
# Builds build-fuzz/ with clang (-fsanitize=fuzzer,address,undefined), makes
# a seed corpus from the shared MySQL fixtures, tests/unit/data and any
# SEED_FILE given (raw binlogs or recordings, e.g. one made by
# `livemig record`), then runs fuzz_binlog for SECONDS on all cores but one.
# Crashes, leaks and timeouts land in build-fuzz/artifacts/; turn each into
# a regression test in tests/unit/test_binlog_fuzz.c (its input as bytes).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-600}
shift || true
build=${FUZZ_BUILD:-build-fuzz}
target=${FUZZ_TARGET:-fuzz_binlog}

CC=clang cmake -S . -B "$build" -DLIVEMIG_FUZZ=ON -DLIVEMIG_SANITIZE=address,undefined \
    -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target "$target" -j"$(nproc)"

corpus=$build/corpus-${target#fuzz_}
[ "$target" = fuzz_binlog ] && corpus=$build/corpus
mkdir -p "$corpus" "$build/artifacts"
seed() { # seed FILE: as an event stream (byte 0 even) and as a file (odd)
    local f=$1 n
    n=$(basename "$f")
    { printf '\x00'; tail -c +5 "$f"; } >"$corpus/ev0-$n"
    { printf '\x02'; tail -c +5 "$f"; } >"$corpus/ev1-$n"
    { printf '\x01'; cat "$f"; } >"$corpus/src-$n"
}
if [ "$target" = fuzz_pgoutput ]; then
    # Byte 0: odd = a pgoutput message, even = a CopyData frame.
    p() { printf "$2" >"$corpus/$1"; }
    p begin '\x01B\0\0\0\0\1\0\0\x28\0\0\0\0\0\0\0\x10\0\0\x02\xd0'
    p commit '\x01C\0\0\0\0\0\1\0\0\x28\0\0\0\0\1\0\0\x58\0\0\0\0\0\0\0\x10'
    p origin '\x01O\0\0\0\0\0\0\0\x01node\0'
    p relation '\x01R\0\0\x40\0public\0t\0d\0\x02\x01id\0\0\0\0\x17\xff\xff\xff\xff\0v\0\0\0\x04\x13\0\0\x01\x03'
    p type '\x01Y\0\1\x86\x9fpublic\0mood\0'
    p insert '\x01I\0\0\x40\0N\0\x03t\0\0\0\x0242nb\0\0\0\x01\xff'
    p update '\x01U\0\0\x40\0K\0\x02t\0\0\0\x011nN\0\x02t\0\0\0\x012u'
    p update_old '\x01U\0\0\x40\0O\0\x01t\0\0\0\x01aN\0\x01t\0\0\0\x01b'
    p delete '\x01D\0\0\x40\0K\0\x02t\0\0\0\x0299n'
    p truncate '\x01T\0\0\0\x02\x01\0\0\x40\0\0\0\x40\x06'
    p message '\x01M\x01\0\0\0\0\0\0\x50\0pfx\0\0\0\0\x03abc'
    p xlogdata '\x00w\0\0\0\0\1\0\0\x28\0\0\0\0\1\0\0\x30\0\0\0\0\0\0\0\x01I\0\0\x40\0N\0\x01n'
    p keepalive '\x00k\0\0\0\0\1\0\0\x28\0\0\0\0\0\0\0\x01\x01'
else
    for f in ../shared/fixtures/mysql/* tests/unit/data/*.0000* "$@"; do
        [ -f "$f" ] && seed "$f"
    done
fi
# Big seeds slow every run down: keep at most 64 KiB of each.
find "$corpus" -size +64k -exec truncate -s 65536 {} \;

jobs=$(($(nproc) > 2 ? $(nproc) - 1 : 1))
# (run inside the build tree: libFuzzer writes fuzz-N.log to the cwd)
(cd "$build" && "./tests/fuzz/$target" "${corpus#"$build"/}" -max_total_time="$secs" -max_len=65536 \
    -timeout=10 -rss_limit_mb=4096 -fork="$jobs" -print_final_stats=1 \
    -artifact_prefix=artifacts/ >fuzz.log 2>&1) || true
grep -E 'DONE|crash|ERROR|SUMMARY|stat::' "$build/fuzz.log" | tail -n 20 || true
if ls "$build/artifacts/"* >/dev/null 2>&1; then
    echo "fuzz: findings in $build/artifacts/:"
    ls -l "$build/artifacts/"
    exit 1
fi
echo "fuzz: nothing found in $secs s"
