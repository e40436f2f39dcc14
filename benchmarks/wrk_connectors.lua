-- wrk script for bench_http.py: GET or POST /connectors with a bearer token,
-- then one machine-readable summary line (WRK_JSON {...}) so the Python side
-- does not parse wrk's human output.
--
-- wrk -t1 -c16 -d5s --latency -s wrk_connectors.lua http://127.0.0.1:PORT -- post RUN_PREFIX
--   args[1]: "get" (default) or "post"
--   args[2]: name prefix for POST; must differ per wrk invocation against one server,
--            since specmock answers 409 to a connector name it already holds.
--   args[3]: path for GET (default /connectors), e.g. /connectors/conn-001

local mode = "get"
local prefix = "bench"
local counter = 0
local thread_count = 0
local get_request = nil

function setup(thread)
  -- Each thread gets its own id so names stay unique with -t > 1.
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

function init(args)
  mode = args[1] or "get"
  prefix = args[2] or "bench"
  wrk.headers["Authorization"] = "Bearer x"
  if mode == "post" then
    wrk.headers["Content-Type"] = "application/json"
  else
    get_request = wrk.format("GET", args[3] or "/connectors")
  end
end

function request()
  if get_request then
    return get_request
  end
  counter = counter + 1
  local body = string.format(
    '{"type": "github", "name": "%s-%d-%d", "config": {"apiUrl": "https://api.github.com", '
      .. '"token": "ghp_x", "organization": "example-org"}}',
    prefix, thread_id or 0, counter)
  return wrk.format("POST", "/connectors", nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx3xx": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
