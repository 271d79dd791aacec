-- wrk script for OFREP evaluation: POST {"context":{"targetingKey":"user-<thread>-<n>", ...}}
-- with a fresh targeting key on every request (so bucketing hashes a new unit each time).
--
-- Environment (read once per thread):
--   OFREP_TOKEN   bearer token; empty = anonymous caller (public flags only)
--   OFREP_ATTRS   extra context members as a JSON fragment, e.g. "plan":"pro","age":34
--   WRK_METHOD    GET sends a bodiless GET instead (the /health baseline); default POST
--
-- done() prints one machine-readable line that run.sh parses:
--   BENCH requests=N duration_us=N rps=F p50_us=N p99_us=N non2xx=N socket_errors=N

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

function init(args)
  method = os.getenv("WRK_METHOD") or "POST"
  wrk.method = method
  if method ~= "GET" then
    wrk.headers["Content-Type"] = "application/json"
  end
  local token = os.getenv("OFREP_TOKEN") or ""
  if token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
  local attrs = os.getenv("OFREP_ATTRS") or ""
  if attrs ~= "" then
    attrs = "," .. attrs
  end
  prefix = '{"context":{"targetingKey":"user-' .. tostring(tid) .. '-'
  suffix = '"' .. attrs .. '}}'
  counter = 0
end

function request()
  if method == "GET" then
    return wrk.format()
  end
  counter = counter + 1
  return wrk.format(nil, nil, nil, prefix .. counter .. suffix)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.2f p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
