-- bench_gateway.lua — the wrk script of bench_gateway (bench_gateway.c sets these):
--   BENCH_BODY            POST this JSON body, each request with a fresh Idempotency-Key
--   BENCH_SIGNIN_LOGINS   POST {login, password} sign-ins, the logins BENCH_SIGNIN_PREFIX
--                         followed by 00 .. BENCH_SIGNIN_LOGINS - 1 in turn,
--                         BENCH_SIGNIN_PASSWORD their password; with BENCH_SIGNIN_CLOSE, each
--                         on a new connection (Connection: close), as many people would
--   (neither)             the request as given on wrk's command line (a GET)
-- At the end it writes one line that bench_gateway reads:
--   WRK requests duration_us p50_us p99_us max_us connect_errors read_write_errors status_errors
--   timeouts

local threads = {}

function setup (thread)
    table.insert (threads, thread)
    thread:set ("tid", #threads)
end

local counter = 0
local body, logins, prefix, password, close

function init (args)
    body = os.getenv ("BENCH_BODY")
    logins = tonumber (os.getenv ("BENCH_SIGNIN_LOGINS") or "")
    prefix = os.getenv ("BENCH_SIGNIN_PREFIX")
    password = os.getenv ("BENCH_SIGNIN_PASSWORD")
    close = os.getenv ("BENCH_SIGNIN_CLOSE") and "close" or nil
end

-- wrk's headers (-H: the session's token) and these; wrk.format sends only the table given.
local function headers (more)
    local all = {}
    for name, value in pairs (wrk.headers) do
        all[name] = value
    end
    for name, value in pairs (more) do
        all[name] = value
    end
    return all
end

function request ()
    counter = counter + 1
    if body then
        return wrk.format ("POST", nil, headers ({
            ["Content-Type"] = "application/json",
            ["Idempotency-Key"] = string.format ("bench-%d-%d", tid, counter)
        }), body)
    elseif logins then
        -- Each thread starts at its own place in the list, so that no two sign in one login
        -- at once.
        local n = (tid * 7 + counter) % logins
        return wrk.format ("POST", nil, headers ({
            ["Content-Type"] = "application/json", ["Connection"] = close
        }),
            string.format ('{"login": "%s%02d", "password": "%s"}', prefix, n, password))
    end
    return wrk.request ()
end

function done (summary, latency, requests)
    local e = summary.errors
    io.write (string.format ("WRK %d %d %d %d %d %d %d %d %d\n", summary.requests,
        summary.duration, latency:percentile (50), latency:percentile (99), latency.max,
        e.connect, e.read + e.write, e.status, e.timeout))
end
