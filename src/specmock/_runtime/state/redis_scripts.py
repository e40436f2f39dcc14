"""The Lua scripts of the Redis store: each runs atomically inside Redis.

COMMIT checks every read a transaction recorded, then applies its writes (and
keeps the byte count, the first-stored order and the key set), or applies
nothing: 0 when a read no longer holds, -1 when the items would outgrow the byte
budget, else the new version. EXPORT reads every scope's items at one instant.
"""

COMMIT = """
local ns = ARGV[1]
local tx = cjson.decode(ARGV[2])
for _, g in ipairs(tx.guards) do
  local seen = redis.call('HGET', g[1], g[2])
  if (seen or '') ~= g[3] then return 0 end
end
local cleared = tx.writes[1] ~= nil and tx.writes[1][1] == 'clear'
if tx.max > 0 then
  local total = cleared and 0 or tonumber(redis.call('GET', ns .. ':bytes') or '0')
  local grown = 0
  for _, w in ipairs(tx.writes) do
    if w[1] == 'put' or w[1] == 'del' then
      local old = cleared and 0 or redis.call('HSTRLEN', ns .. ':i:' .. w[2] .. ':' .. w[3], w[4])
      grown = grown + (w[1] == 'put' and #w[5] or 0) - old
    end
  end
  if grown > 0 and total + grown > tx.max then return -1 end
end
local seq = redis.call('INCR', ns .. ':seq')
local function drop_if_empty(key)
  if redis.call('EXISTS', key) == 0 then redis.call('SREM', ns .. ':keys', key) end
end
local function unindex(ixid, sk, k, val)
  local xk = ns .. ':x:' .. ixid .. ':' .. sk
  local xr = ns .. ':xr:' .. ixid .. ':' .. sk
  local old = redis.call('HGET', xr, k)
  if old and redis.call('HGET', xk, old) == k then redis.call('HDEL', xk, old) end
  if val ~= '' then
    redis.call('HSET', xk, val, k)
    redis.call('HSET', xr, k, val)
    redis.call('SADD', ns .. ':keys', xk, xr)
  elseif old then
    redis.call('HDEL', xr, k)
    drop_if_empty(xk)
    drop_if_empty(xr)
  end
end
for _, w in ipairs(tx.writes) do
  local op = w[1]
  if op == 'clear' then
    local keys = redis.call('SMEMBERS', ns .. ':keys')
    for i = 1, #keys, 500 do
      redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys)))
    end
    redis.call('DEL', ns .. ':keys', ns .. ':scopes', ns .. ':n', ns .. ':rules', ns .. ':count', ns .. ':bytes')
  elseif op == 'num' then
    local current = tonumber(redis.call('HGET', ns .. ':n', w[2]) or '0')
    if w[3] > current then redis.call('HSET', ns .. ':n', w[2], w[3]) end
  else
    local coll, sk, k = w[2], w[3], w[4]
    local ik = ns .. ':i:' .. coll .. ':' .. sk
    local vk = ns .. ':v:' .. coll .. ':' .. sk
    local ok = ns .. ':o:' .. coll .. ':' .. sk
    local old = redis.call('HSTRLEN', ik, k)
    if op == 'put' then
      if redis.call('HSET', ik, k, w[5]) == 1 then redis.call('HINCRBY', ns .. ':count', coll, 1) end
      redis.call('INCRBY', ns .. ':bytes', #w[5] - old)
      if redis.call('HEXISTS', ok, k) == 0 then redis.call('HSET', ok, k, redis.call('INCR', ns .. ':order')) end
      redis.call('HSET', ns .. ':scopes', coll .. ':' .. sk, w[6])
      redis.call('SADD', ns .. ':keys', ik, vk, ok)
      redis.call('HSET', vk, k, seq, '*', seq)
    else
      if redis.call('HDEL', ik, k) == 1 then
        redis.call('HINCRBY', ns .. ':count', coll, -1)
        redis.call('DECRBY', ns .. ':bytes', old)
      end
      redis.call('HDEL', ok, k)
      if redis.call('EXISTS', ik) == 0 then
        -- the scope is empty: no key of it stays behind (a reader that saw it holds a version: it runs again)
        redis.call('DEL', vk, ok)
        redis.call('HDEL', ns .. ':scopes', coll .. ':' .. sk)
        redis.call('SREM', ns .. ':keys', ik, vk, ok)
      else
        redis.call('HDEL', vk, k)
        redis.call('HSET', vk, '*', seq)
      end
    end
    for _, ix in ipairs(w[7]) do unindex(ix[1], sk, k, ix[2]) end
  end
end
return seq
"""

EXPORT = """
local ns = ARGV[1]
local out = {}
local scopes = redis.call('HGETALL', ns .. ':scopes')
for i = 1, #scopes, 2 do
  local where = scopes[i]
  local items = redis.call('HGETALL', ns .. ':i:' .. where)
  table.insert(out, {scopes[i + 1], items, redis.call('HGETALL', ns .. ':o:' .. where)})
end
return {out, redis.call('HGETALL', ns .. ':n')}
"""
