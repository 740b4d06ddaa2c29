-- bench/load_queries.lua — wrk script for bench/load_reliability.sh: varied
-- queries over the tables the run preloads (load_q_text, load_q_typed):
-- filters, sorts, keyset paging with the server's own next_cursor, offsets,
-- aggregates, CSV/NDJSON formats, /v1/tables and /v1/uploads. Each thread
-- counts answers by status (and 5xx bodies' error codes); done() prints them
-- as "status <code> <count>" lines for the script to read.
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local cities = {"London", "Zürich", "Cairo", "Lagos", "Mumbai", "Sydney", "Montréal", "Reykjavík"}
local function pick(list) return list[math.random(#list)] end
local function esc(s) return (s:gsub("[^%w%-_.~:,]", function(c) return string.format("%%%02X", string.byte(c)) end)) end

local queries = {
  function(t) return "/v1/tables/" .. t .. "/rows?limit=50" end,
  function(t) return "/v1/tables/" .. t .. "/rows?city=" .. esc(pick(cities)) .. "&sort=amount:desc&limit=20" end,
  function(t) return "/v1/tables/" .. t .. "/rows?quantity=gt:" .. math.random(1, 499) .. "&sort=id:desc&limit=25&count=exact" end,
  function(t) return "/v1/tables/" .. t .. "/rows?name=like:" .. esc(pick({"Smith", "Kim", "Rossi", "Wong"})) .. "&select=id,name,city&limit=10" end,
  function(t) return "/v1/tables/" .. t .. "/rows?offset=" .. math.random(0, 50000) .. "&limit=20" end,
  function(t) return "/v1/tables/" .. t .. "/rows?date=gte:20" .. math.random(10, 24) .. "-01-01&sort=date,id&limit=30" end,
  function(t) return "/v1/tables/" .. t .. "/aggregate?group_by=city&sum=quantity&count=true&sort=count:desc" end,
  function(t) return "/v1/tables/" .. t .. "/aggregate?group_by=city&avg=quantity&max=id&format=csv" end,
  function(t) return "/v1/tables/" .. t .. "/rows?code=in:00001,00002,00100&format=ndjson&limit=100" end,
  function(t) return "/v1/tables/" .. t .. "/rows?city=ilike:" .. esc(string.lower(pick({"london", "cairo", "lagos"}))) .. "&format=csv&limit=200" end,
  function(t) return "/v1/tables/" .. t end,
  function(t) return "/v1/tables" end,
  function(t) return "/v1/uploads?limit=10" end,
}

local tables = {"load_q_text", "load_q_typed"}
counts = {}
errors = {}
local cursor = nil

function init(args)
  math.randomseed(os.time() + (id or 0) * 7919)
end

-- Keyset paging: pages of 37 rows of load_q_typed by id (no other query asks
-- for 37, so a response with "limit":37 is one of these whichever connection
-- it came on) follow the server's own next_cursor.
local function cursor_page(c)
  local path = "/v1/tables/load_q_typed/rows?limit=37&sort=id"
  if c ~= nil then path = path .. "&cursor=" .. esc(c) end
  return wrk.format("GET", path)
end

function request()
  if cursor ~= nil and math.random() < 0.5 then
    local c = cursor
    cursor = nil
    return cursor_page(c)
  end
  if math.random() < 0.1 then return cursor_page(nil) end
  return wrk.format("GET", queries[math.random(#queries)](pick(tables)))
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if status >= 500 then
    local code = body:match('"code":"([^"]+)"') or "?"
    errors[status .. " " .. code] = (errors[status .. " " .. code] or 0) + 1
  end
  if status == 200 and body:find('"limit":37', 1, true) and body:find('"table":"load_q_typed"', 1, true) then
    cursor = body:match('"next_cursor":"([^"]+)"')
  end
end

function done(summary, latency, requests)
  local total = {}
  local errs = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("counts")) do total[code] = (total[code] or 0) + n end
    for what, n in pairs(thread:get("errors")) do errs[what] = (errs[what] or 0) + n end
  end
  for code, n in pairs(total) do io.write(string.format("status %d %d\n", code, n)) end
  for what, n in pairs(errs) do io.write(string.format("error5xx %s %d\n", what:gsub(" ", "_"), n)) end
  io.write(string.format("latency_p50_ms %.2f\nlatency_p99_ms %.2f\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000))
  io.write(string.format("socket_errors connect=%d read=%d write=%d timeout=%d\n", summary.errors.connect,
                         summary.errors.read, summary.errors.write, summary.errors.timeout))
end
