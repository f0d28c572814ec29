#!/usr/bin/env bash
# Fuzz the binlog decoder and the recording reader with libFuzzer.
#
#   tests/fuzz/run.sh [SECONDS] [SEED_FILE...]     (default 600 s = 10 min)
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

CC=clang cmake -S . -B "$build" -DLIVEMIG_FUZZ=ON -DLIVEMIG_SANITIZE=address,undefined \
    -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz_binlog -j"$(nproc)"

corpus=$build/corpus
mkdir -p "$corpus" "$build/artifacts"
seed() { # seed FILE: as an event stream (byte 0 even) and as a file (odd)
    local f=$1 n
    n=$(basename "$f")
    { printf '\x00'; tail -c +5 "$f"; } >"$corpus/ev0-$n"
    { printf '\x02'; tail -c +5 "$f"; } >"$corpus/ev1-$n"
    { printf '\x01'; cat "$f"; } >"$corpus/src-$n"
}
for f in ../shared/fixtures/mysql/* tests/unit/data/*.0000* "$@"; do
    [ -f "$f" ] && seed "$f"
done
# Big seeds slow every run down: keep at most 64 KiB of each.
find "$corpus" -size +64k -exec truncate -s 65536 {} \;

jobs=$(($(nproc) > 2 ? $(nproc) - 1 : 1))
# (run inside the build tree: libFuzzer writes fuzz-N.log to the cwd)
(cd "$build" && ./tests/fuzz/fuzz_binlog corpus -max_total_time="$secs" -max_len=65536 \
    -timeout=10 -rss_limit_mb=4096 -fork="$jobs" -print_final_stats=1 \
    -artifact_prefix=artifacts/ >fuzz.log 2>&1) || true
grep -E 'DONE|crash|ERROR|SUMMARY|stat::' "$build/fuzz.log" | tail -n 20 || true
if ls "$build/artifacts/"* >/dev/null 2>&1; then
    echo "fuzz: findings in $build/artifacts/:"
    ls -l "$build/artifacts/"
    exit 1
fi
echo "fuzz: nothing found in $secs s"
