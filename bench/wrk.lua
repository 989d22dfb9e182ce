-- wrk script for every benchmark scenario; BENCH_SCENARIO picks one:
--   list         GET /v0.1/servers?limit=30&cursor=<name>:<version>  (a page from a random position, with
--                the cursor in the official nextCursor form, as a client paging through the registry sends)
--   search       GET /v0.1/servers?limit=30&version=latest&search=server-NNN   (10 matches each)
--   get_latest   GET /v0.1/servers/<random name>/versions/latest
--   get_version  GET /v0.1/servers/<random name>/versions/<one of its versions>
--   publish      POST /v0.1/publish, a new version of a random server (unique per thread and request)
--   ping         GET /v0.1/ping (static answer: the ceiling)
-- Names and versions are computed the way bench/gen_dataset.py writes them, so every read hits an
-- existing row: a 404 would show up as a non-2xx response and fail the run.

local scenario = os.getenv("BENCH_SCENARIO") or "ping"
local servers = tonumber(os.getenv("BENCH_SERVERS") or "10000")
local token = os.getenv("BENCH_TOKEN") or ""
-- Distinguishes publishes of one wrk invocation from those of an earlier one against the same database.
local run_id = os.getenv("BENCH_RUN_ID") or "0"

local next_tid = 0

-- Runs in the main Lua state once per wrk thread: give each thread an id for unique publish versions.
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

local counter = 0

function init(args)
  -- Seeded per thread so the threads do not replay the same sequence, yet runs are repeatable.
  math.randomseed(7919 * ((tid or 0) + 1))
end

local function name_of(i)
  return string.format("io.github.bench-%04d/server-%04d", i, i)
end

local function versions_of(i)
  local m = 1 + i % 3
  return { m .. ".0.0", m .. ".1.0", m .. ".1.1", m .. ".2.0", (m + 1) .. ".0.0-rc.1" }
end

local function escaped(name)
  return (name:gsub("/", "%%2F"))
end

local function random_server()
  return math.random(0, servers - 1)
end

local publish_headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. token,
}

local function publish_body(i, version)
  return string.format(
    '{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",' ..
    '"name":"%s","description":"Benchmark server %04d: published under load (v%s)","version":"%s",' ..
    '"repository":{"url":"https://github.com/bench-%04d/server-%04d","source":"github"},' ..
    '"packages":[{"registryType":"npm","identifier":"@bench-%04d/server","version":"%s",' ..
    '"transport":{"type":"stdio"}}],' ..
    -- The server's own remote URL: exercises the cross-server URL check without tripping it.
    '"remotes":[{"type":"streamable-http","url":"https://bench-%04d.example.com/mcp"}]}',
    name_of(i), i, version, version, i, i, i, version, i)
end

function request()
  if scenario == "list" then
    local i = random_server()
    local vs = versions_of(i)
    local cursor = escaped(name_of(i)) .. "%3A" .. vs[math.random(1, #vs)]
    return wrk.format("GET", "/v0.1/servers?limit=30&cursor=" .. cursor)
  elseif scenario == "search" then
    return wrk.format("GET", string.format(
      "/v0.1/servers?limit=30&version=latest&search=server-%03d", math.random(0, 999)))
  elseif scenario == "get_latest" then
    return wrk.format("GET", "/v0.1/servers/" .. escaped(name_of(random_server())) .. "/versions/latest")
  elseif scenario == "get_version" then
    local i = random_server()
    local vs = versions_of(i)
    return wrk.format("GET", "/v0.1/servers/" .. escaped(name_of(i)) .. "/versions/" .. vs[math.random(1, #vs)])
  elseif scenario == "publish" then
    counter = counter + 1
    -- Major 9 sorts above every loaded version, so each publish also moves the server's latest flag.
    local version = string.format("9.%d.%d-r%s", tid, counter, run_id)
    return wrk.format("POST", "/v0.1/publish", publish_headers, publish_body(random_server(), version))
  else
    return wrk.format("GET", "/v0.1/ping")
  end
end
