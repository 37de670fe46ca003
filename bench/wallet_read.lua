-- wrk script for bench/wallet.py: GET requests (/healthz, /api/v1/me/wallet, .../transactions).
--
-- BENCH_TOKENS_FILE (optional): access tokens, one a line; the requests take them in
-- turn as "Authorization: Bearer ...", so a run can spread over several members. No
-- file, or an empty one: no Authorization header (for /healthz).
--
-- Counts the responses by status and, at the end, prints one machine-readable line,
-- "BENCH_JSON {...}", with the request count, the latency percentiles in microseconds,
-- wrk's socket errors and the status counts. The path (and query string) is the URL's.

local tokens = {}
local tokens_file = os.getenv("BENCH_TOKENS_FILE")
if tokens_file and tokens_file ~= "" then
  for line in io.lines(tokens_file) do
    if line ~= "" then tokens[#tokens + 1] = line end
  end
end

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

local n = 0
statuses = {}

function request()
  n = n + 1
  local headers = {}
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(n + (tid or 1)) % #tokens + 1]
  end
  return wrk.format("GET", nil, headers, nil)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if type(s) == "table" then
      for code, count in pairs(s) do counts[code] = (counts[code] or 0) + count end
    end
  end
  local parts = {}
  for code, count in pairs(counts) do parts[#parts + 1] = string.format('"%d": %d', code, count) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %.0f, "duration_us": %.0f, "mean_us": %.1f, '
      .. '"p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f, "max_us": %.0f, '
      .. '"connect_errors": %.0f, "read_errors": %.0f, "write_errors": %.0f, '
      .. '"status_errors": %.0f, "timeouts": %.0f, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ", ")))
end
