-- Merges records into the list KEYS[1], as one atomic step on the server: afterwards the list
-- holds the ARGV[1] newest distinct records by id, newest first. ARGV[2..] are the records to
-- merge, in any order, each as the JSON text the app writes (`{"id":"…",…}`).
--
-- Returns {added, already}: how many of them are now in the list and were not before, and how
-- many were in it already (written by an earlier attempt, instance or replay). The others are
-- older than every record kept.
--
-- The same rule as `newest_distinct` in src/store/merge.rs, and held to the same results by the
-- tests. Plain Lua 5.1 and `redis.call` only (no cjson), so that any server that runs scripts
-- runs this one.

local key = KEYS[1]
local keep = tonumber(ARGV[1])

-- The id of an entry the app wrote: serde writes it first. Any other entry has none.
local function id_of(entry)
  return string.match(entry, '^{"id":"([^"\\]+)"')
end

-- Byte order, as the app compares ids. Not `>`: on strings it follows the server's locale.
local function newer(a, b)
  local x, y = a.id, b.id
  for i = 1, math.min(#x, #y) do
    local p, q = string.byte(x, i), string.byte(y, i)
    if p ~= q then
      return p > q
    end
  end
  return #x > #y
end

local stored = redis.call('LRANGE', key, 0, keep - 1)
local records, others, origin = {}, {}, {}
for _, entry in ipairs(stored) do
  local id = id_of(entry)
  if id == nil then
    others[#others + 1] = entry
  elseif origin[id] == nil then
    origin[id] = 'stored'
    records[#records + 1] = { id = id, entry = entry }
  end
end

local already = 0
for i = 2, #ARGV do
  local id = id_of(ARGV[i])
  if id == nil then
    return redis.error_reply('ERR merge: argument ' .. i .. ' is not a record with an id')
  end
  if origin[id] == 'stored' then
    already = already + 1
  elseif origin[id] == nil then
    origin[id] = 'new'
    records[#records + 1] = { id = id, entry = ARGV[i] }
  end
end

table.sort(records, newer)
local merged, added = {}, 0
for _, record in ipairs(records) do
  if #merged == keep then
    break
  end
  merged[#merged + 1] = record.entry
  if origin[record.id] == 'new' then
    added = added + 1
  end
end
-- Entries that are not the app's records (another writer's, or damaged) go last: they are the
-- first to fall out, and never push a record out.
for _, entry in ipairs(others) do
  if #merged == keep then
    break
  end
  merged[#merged + 1] = entry
end

-- Rewritten only when it changed, so that a batch written twice writes nothing the second time.
local changed = redis.call('LLEN', key) ~= #merged
for i = 1, #merged do
  if changed then
    break
  end
  changed = merged[i] ~= stored[i]
end
if changed then
  redis.call('DEL', key)
  if #merged > 0 then
    redis.call('RPUSH', key, unpack(merged))
  end
end
return { added, already }
