-- wrk script of bench/load.py: replays a list of prepared requests in rotation (many case ids, search terms or
-- login forms rather than one URL), counts every answer whose status is not the expected one, and prints one
-- result line (requests, errors, median/p95/p99/max latency) for load.py to read.
-- Usage: wrk -t2 -c8 -d20s --timeout 60s -s bench/load_wrk.lua http://127.0.0.1:PORT -- TARGET_FILE
-- TARGET_FILE is a Lua file returning {expect = 200, requests = {{method=, path=, cookie=, body=}, ...}}.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local prepared = {}
local position = 0
local expected = 200
unexpected = 0  -- global: read by done() through thread:get

function init(args)
  local target = dofile(args[1])
  expected = target.expect
  for _, item in ipairs(target.requests) do
    local headers = {}
    if item.cookie then headers["Cookie"] = item.cookie end
    if item.body then headers["Content-Type"] = "application/x-www-form-urlencoded" end
    table.insert(prepared, wrk.format(item.method, item.path, headers, item.body))
  end
  -- each thread starts at another place in the list, so that connections do not ask for the same record together
  position = math.floor((thread_number - 1) * #prepared / 2)
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do
    wrong = wrong + thread:get("unexpected")
  end
  local errors = summary.errors
  io.write(string.format(
    "LOAD_RESULT requests=%d duration_us=%d unexpected=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, wrong, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
