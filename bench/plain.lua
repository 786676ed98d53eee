-- wrk: one URL; prints the summary as JSON on a line starting with BENCH_JSON.
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "rps": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, "latency_ms": {"p50": %.2f, "p95": %.2f, "p99": %.2f, "max": %.2f}}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
