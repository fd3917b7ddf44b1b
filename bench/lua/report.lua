-- Shared by every bench script: count statuses per thread and print one JSON line at the end,
-- which bench/run.py parses (wrk's own text report is for people).
bench_threads = {}

function setup(thread)
  table.insert(bench_threads, thread)
end

function response(status, headers, body)
  if status >= 500 then
    s5xx = (s5xx or 0) + 1
    if s5xx == 1 then io.stderr:write("first 5xx: " .. status .. " " .. body:sub(1, 300) .. "\n") end
  elseif status >= 400 then
    s4xx = (s4xx or 0) + 1
    if s4xx == 1 then io.stderr:write("first 4xx: " .. status .. " " .. body:sub(1, 300) .. "\n") end
  else
    s2xx = (s2xx or 0) + 1
  end
end

function done(summary, latency, requests)
  local ok, c4, c5 = 0, 0, 0
  for _, thread in ipairs(bench_threads) do
    ok = ok + (thread:get("s2xx") or 0)
    c4 = c4 + (thread:get("s4xx") or 0)
    c5 = c5 + (thread:get("s5xx") or 0)
  end
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"ok": %d, "status_4xx": %d, "status_5xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, ok, c4, c5,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
