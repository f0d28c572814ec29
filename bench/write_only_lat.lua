-- sysbench oltp_write_only that also writes every transaction's end time and
-- latency ("EPOCH_SECONDS LATENCY_MS", one line each) to $LM_LAT_DIR/lat.TID,
-- so that bench/compare_bench.sh can take the p99 and max over exactly the
-- time a migration ran (sysbench's own reports cover fixed intervals and
-- are lost when it is stopped early). Transactions that fail (and that
-- sysbench retries) are counted in $LM_LAT_DIR/err.TID instead.
local ffi = require("ffi")
pcall(ffi.cdef, [[
typedef struct { long tv_sec; long tv_nsec; } lm_bench_ts;
int clock_gettime(int clk_id, lm_bench_ts *tp);
]])
dofile((os.getenv("SYSBENCH_LUA_DIR") or "/usr/share/sysbench") .. "/oltp_write_only.lua")

local ts = ffi.new("lm_bench_ts")
local function now()
    ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME: comparable with `date +%s.%N`
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local orig_thread_init, orig_event = thread_init, event
local out, errs, nerr

function thread_init()
    orig_thread_init()
    local dir = os.getenv("LM_LAT_DIR") or "."
    out = assert(io.open(dir .. "/lat." .. sysbench.tid, "w"))
    out:setvbuf("line")
    errs = assert(io.open(dir .. "/err." .. sysbench.tid, "w"))
    errs:setvbuf("line")
    nerr = 0
end

function event()
    local t0 = now()
    local ok, e = pcall(orig_event)
    if not ok then
        nerr = nerr + 1
        errs:write(nerr, "\n")
        error(e, 0)
    end
    local t1 = now()
    out:write(string.format("%.6f %.3f\n", t1, (t1 - t0) * 1000))
end
