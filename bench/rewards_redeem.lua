-- wrk script for bench/rewards.py: POST /api/v1/me/redemptions as many partners.
--
-- BENCH_TOKENS_FILE  partners' access tokens, one a line; the requests take them in turn
-- BENCH_REWARD_ID    the reward every request redeems (quantity 1)
--
-- Counts the responses by status and prints "BENCH_JSON {...}" at the end, like
-- wallet_read.lua.

local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
  if line ~= "" then tokens[#tokens + 1] = line end
end
local body = string.format('{"reward_id": %d}', tonumber(os.getenv("BENCH_REWARD_ID")))

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
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[(n * 7919 + (tid or 1)) % #tokens + 1],
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", nil, headers, body)
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
