-- wrk script for bench/wallet.py: POST /api/v1/pos/purchases as a cashier.
--
-- BENCH_TOKEN          the cashier's access token
-- BENCH_MEMBERS_FILE   member numbers, one a line; each request picks one at random
--                      (one line: every purchase goes to the same, "hot", member)
-- BENCH_RECEIPT_PREFIX unique per run; the receipt number is PREFIX-THREAD-COUNTER, so
--                      no two requests of a run (or of two runs) share a receipt number
--
-- Body: {"member_number": ..., "receipt_number": ..., "total": {"amount": "129.50",
-- "currency": "AED"}}. Counts the responses by status and prints "BENCH_JSON {...}" at
-- the end, like wallet_read.lua.

local members = {}
for line in io.lines(os.getenv("BENCH_MEMBERS_FILE")) do
  if line ~= "" then members[#members + 1] = line end
end
local prefix = os.getenv("BENCH_RECEIPT_PREFIX") or "r"
local headers = {
  ["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or ""),
  ["Content-Type"] = "application/json",
}

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(os.time() * 100 + (tid or 0))
end

local counter = 0
statuses = {}

function request()
  counter = counter + 1
  local member = members[math.random(#members)]
  local body = string.format(
    '{"member_number": "%s", "receipt_number": "%s-%d-%d", "total": {"amount": "129.50", "currency": "AED"}}',
    member, prefix, tid or 0, counter)
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
