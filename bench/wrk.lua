-- wrk script for every benchmark scenario; BENCH_SCENARIO picks one:
--   list            GET /v0.1/servers?limit=30&cursor=<name>:<version>  (a page from a random position, with
--                   the cursor in the official nextCursor form, as a client paging through the registry sends)
--   list_hot        the same, but the cursor is one of BENCH_HOT_KEYS fixed (name, version) pairs
--   search          GET /v0.1/servers?limit=30&version=latest&search=server-NNN   (10 matches each)
--   get_latest      GET /v0.1/servers/<random name>/versions/latest
--   get_latest_hot  the same for one of BENCH_HOT_KEYS fixed names
--   get_version     GET /v0.1/servers/<random name>/versions/<one of its versions>
--   get_version_hot the same for one of BENCH_HOT_KEYS fixed (name, version) pairs
--   versions        GET /v0.1/servers/<random name>/versions (the warm-up: store and cache, other keys)
--   publish         POST /v0.1/publish, a new version of a random server (unique per thread and request)
--   ping            GET /v0.1/ping (static answer: the ceiling)
-- Names and versions are computed the way bench/gen_dataset.py writes them, so every read hits an
-- existing row: a 404 would show up as a non-2xx response and fail the run.

local scenario = os.getenv("BENCH_SCENARIO") or "ping"
local servers = tonumber(os.getenv("BENCH_SERVERS") or "10000")
-- The "hot" scenarios draw from this many keys only, spread evenly over the names: a working set a read
-- cache can hold, next to the random scenarios whose keys (every row) mostly miss it. At most a tenth of
-- the names, so it stays small next to a small dataset too (bench/run's keys_of computes the same).
local hot = math.max(1, math.min(tonumber(os.getenv("BENCH_HOT_KEYS") or "100"), math.floor(servers / 10)))
-- search=server-NNN matches the 10 names server-NNN0..server-NNN9: only terms below servers/10 match.
local terms = math.min(1000, math.max(1, math.ceil(servers / 10)))
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

-- One of the `hot` fixed keys: server index spread over the table, and a fixed version of it.
local function hot_key()
  local k = math.random(0, hot - 1)
  local i = math.floor(k * servers / hot)
  local vs = versions_of(i)
  return i, vs[1 + k % #vs]
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

local function list_page(i, version)
  return wrk.format("GET", "/v0.1/servers?limit=30&cursor=" .. escaped(name_of(i)) .. "%3A" .. version)
end

local function get_one(i, version)
  return wrk.format("GET", "/v0.1/servers/" .. escaped(name_of(i)) .. "/versions/" .. version)
end

function request()
  if scenario == "list" then
    local i = random_server()
    local vs = versions_of(i)
    return list_page(i, vs[math.random(1, #vs)])
  elseif scenario == "list_hot" then
    return list_page(hot_key())
  elseif scenario == "search" then
    return wrk.format("GET", string.format(
      "/v0.1/servers?limit=30&version=latest&search=server-%03d", math.random(0, terms - 1)))
  elseif scenario == "get_latest" then
    return get_one(random_server(), "latest")
  elseif scenario == "get_latest_hot" then
    local i = hot_key()
    return get_one(i, "latest")
  elseif scenario == "get_version" then
    local i = random_server()
    local vs = versions_of(i)
    return get_one(i, vs[math.random(1, #vs)])
  elseif scenario == "get_version_hot" then
    return get_one(hot_key())
  elseif scenario == "versions" then
    return wrk.format("GET", "/v0.1/servers/" .. escaped(name_of(random_server())) .. "/versions")
  elseif scenario == "publish" then
    counter = counter + 1
    -- Major 9 sorts above every loaded version, so each publish also moves the server's latest flag.
    local version = string.format("9.%d.%d-r%s", tid, counter, run_id)
    return wrk.format("POST", "/v0.1/publish", publish_headers, publish_body(random_server(), version))
  else
    return wrk.format("GET", "/v0.1/ping")
  end
end
