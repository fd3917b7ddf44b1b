-- POST one observed dose per patient: each thread takes its own share of the patients listed in
-- BENCH_DOSES (lines "patient_id amount_mg"), once each, and stops when its share is done, so
-- no patient is asked twice (no double dose by construction; the runner checks the database).
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local token = os.getenv("BENCH_TOKEN")
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
local path = os.getenv("BENCH_PATH") or "/api/v1/patients/%d/doses"

local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(bench_threads, thread)
end

local all = {}
for line in io.lines(os.getenv("BENCH_DOSES")) do
  local id, amount = line:match("^(%d+) (%S+)$")
  if id then table.insert(all, {id, amount}) end
end
local mine, next_one = {}, 1

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS"))
  for i, row in ipairs(all) do
    if (i - 1) % n == tid then table.insert(mine, row) end
  end
end

function request()
  local row = mine[next_one]
  if row == nil then
    -- this thread's share is done: stop it (a last request, if sent, repeats the previous
    -- one with its Idempotency-Key, which answers the same dose again)
    wrk.thread:stop()
    row = mine[#mine] or all[1]
  end
  next_one = next_one + 1
  local body = string.format('{"amount_mg": %s}', row[2])
  -- a headers table given to wrk.format replaces wrk.headers: all of them here
  local headers = {["Idempotency-Key"] = "bench-dose-" .. row[1],
                   ["Authorization"] = "Bearer " .. token,
                   ["Content-Type"] = "application/json"}
  return wrk.format("POST", string.format(path, row[1]), headers, body)
end
