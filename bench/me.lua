-- wrk script for bench/me.py.
--
-- Sends the access token in BENCH_TOKEN (when set) as a bearer token, and at the end
-- prints one machine-readable line, "BENCH_JSON {...}", with the request count and the
-- latency percentiles in microseconds. wrk counts a response that is not 2xx or 3xx as
-- a "status" error; bench/me.py refuses a run that has any.

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %.0f, "duration_us": %.0f, "mean_us": %.1f, '
      .. '"p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f, "max_us": %.0f, '
      .. '"connect_errors": %.0f, "read_errors": %.0f, "write_errors": %.0f, '
      .. '"status_errors": %.0f, "timeouts": %.0f}\n',
    summary.requests, summary.duration, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
