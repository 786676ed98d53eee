-- wrk: mixed authenticated REST reads. The file given after `--` holds one request a line:
-- path<TAB>token. Each thread walks it from its own offset; any status but 200 is an error.
-- A second argument "fresh" sends `Cache-Control: no-cache`: every answer is made again, past
-- the API's response cache.
local requests = {}
local counter = 0
local bad = 0

init = function(args)
  local fresh = args[2] == "fresh"
  for line in io.lines(args[1]) do
    local path, token = line:match("^(.-)\t(.*)$")
    local headers = { ["Authorization"] = "Token " .. token, ["Accept"] = "application/json" }
    if fresh then headers["Cache-Control"] = "no-cache" end
    requests[#requests + 1] = wrk.format("GET", path, headers)
  end
  counter = math.random(#requests)
end

request = function()
  counter = counter % #requests + 1
  return requests[counter]
end

response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

done = function(summary, latency, requests_)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "rps": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, "latency_ms": {"p50": %.2f, "p95": %.2f, "p99": %.2f, "max": %.2f}}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
