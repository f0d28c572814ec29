-- sysbench oltp_write_only that also writes every transaction's end time and
-- latency ("EPOCH_SECONDS LATENCY_MS", one line each) to $LM_LAT_DIR/lat.TID,
-- so that bench/compare_bench.sh can take the p99 and max over exactly the
-- time a migration ran (sysbench's own reports cover fixed intervals and
-- are lost when it is stopped early). Transactions that fail (and that
-- sysbench retries, or dies of) are logged in $LM_LAT_DIR/err.TID instead,
-- "EPOCH_SECONDS ERRNO" (ERRNO the server's error number, or ? when the
-- error did not come from the server).
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
local out, errs

function thread_init()
    orig_thread_init()
    local dir = os.getenv("LM_LAT_DIR") or "."
    out = assert(io.open(dir .. "/lat." .. sysbench.tid, "w"))
    out:setvbuf("line")
    errs = assert(io.open(dir .. "/err." .. sysbench.tid, "w"))
    errs:setvbuf("line")
end

function event()
    local t0 = now()
    local ok, e = pcall(orig_event)
    if not ok then
        -- a retried error is a table; a fatal one a message
        local errno = type(e) == "table" and e.sql_errno or tostring(e):match("errno = (%d+)")
        errs:write(string.format("%.6f %s\n", now(), tostring(errno or "?")))
        -- As an application would: end the transaction. sysbench restarts
        -- the event with BEGIN, which would commit what had succeeded of it
        -- (a DELETE without its INSERT, after an error that rolls back only
        -- the statement), and the table would lose rows.
        pcall(con.query, con, "ROLLBACK")
        error(e, 0)
    end
    local t1 = now()
    out:write(string.format("%.6f %.3f\n", t1, (t1 - t0) * 1000))
end
