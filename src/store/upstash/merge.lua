-- Merges records into the list KEYS[1], as one atomic step on the server: afterwards the list
-- holds the ARGV[1] newest distinct records by id, newest first. ARGV[2..] are the records to
-- merge, in any order, each as the JSON text the app writes (`{"id":"<v7 UUID>",…}`).
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
if not keep or keep < 1 or keep % 1 ~= 0 then
  return redis.error_reply('ERR merge: the number to keep must be a whole number above 0')
end

-- A record's id is a version 7 UUID in lowercase canonical form, the first field of its text
-- as the app writes it. Any other entry is not a record.
local hex = '[0-9a-f]'
local function hexes(n)
  return string.rep(hex, n)
end
local ID = '^{"id":"(' .. hexes(8) .. '%-' .. hexes(4) .. '%-7' .. hexes(3) .. '%-[89ab]'
  .. hexes(3) .. '%-' .. hexes(12) .. ')"'

-- An id's 32 hex digits as three numbers (48, 40 and 40 bits: each exact in a Lua number), which
-- order ids as their text does byte by byte. Not `>` on the text: on strings it follows the
-- server's locale. And numbers compare quicker than text, once per id instead of per comparison.
local function keyed(id, entry)
  local digits = string.gsub(id, '-', '')
  return {
    id = id,
    entry = entry,
    tonumber(string.sub(digits, 1, 12), 16),
    tonumber(string.sub(digits, 13, 22), 16),
    tonumber(string.sub(digits, 23, 32), 16),
  }
end

local function newer(a, b)
  if a[1] ~= b[1] then
    return a[1] > b[1]
  end
  if a[2] ~= b[2] then
    return a[2] > b[2]
  end
  return a[3] > b[3]
end

local stored = redis.call('LRANGE', key, 0, keep - 1)
local records, others, origin = {}, {}, {}
for _, entry in ipairs(stored) do
  local id = string.match(entry, ID)
  if id == nil then
    others[#others + 1] = entry
  elseif origin[id] == nil then
    origin[id] = 'stored'
    records[#records + 1] = keyed(id, entry)
  end
end

local already = 0
for i = 2, #ARGV do
  local id = string.match(ARGV[i], ID)
  if id == nil then
    return redis.error_reply('ERR merge: argument ' .. i .. ' is not a record with a v7 UUID id')
  end
  if origin[id] == 'stored' then
    already = already + 1
  elseif origin[id] == nil then
    origin[id] = 'new'
    records[#records + 1] = keyed(id, ARGV[i])
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
  -- Rewriting drops the key's expiry, if someone set one: keep it.
  local ttl = redis.call('PTTL', key)
  redis.call('DEL', key)
  if #merged > 0 then
    redis.call('RPUSH', key, unpack(merged))
    if ttl > 0 then
      redis.call('PEXPIRE', key, ttl)
    end
  end
end
return { added, already }
