-- GET a path, with a bearer token when BENCH_TOKEN is set. BENCH_PATH may hold one %d: a
-- patient id drawn at random from 1..BENCH_PATIENTS, so reads spread over the whole clinic.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local path = os.getenv("BENCH_PATH")
local patients = tonumber(os.getenv("BENCH_PATIENTS") or "1")
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  if path:find("%%d") then
    return wrk.format("GET", string.format(path, math.random(1, patients)))
  end
  return wrk.format("GET", path)
end
