-- admit: the first of the two round trips a message costs.
-- Refuses a replayed (timestamp, nonce) carrying a different body, answers a
-- retry of a finished message with its stored reply, and otherwise claims the
-- message, appends it to the resident's inbox and tries to become the
-- resident's applier. The applier gets the session and the whole inbox, so it
-- applies messages one at a time in arrival order.
--
-- KEYS: 1 nonce (may be unused when ARGV[1] is ''), 2 message, 3 inbox, 4 lock, 5 session
-- ARGV: 1 body hash, 2 nonce ttl ms, 3 token, 4 pending ttl ms, 5 payload,
--       6 lock ttl ms, 7 inbox ttl ms
-- SET ... NX GET sets a key only if absent and returns what was there: one
-- call instead of a GET and a SET (Redis 7).
if ARGV[1] ~= '' then
  local h = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2], 'GET')
  if h and h ~= ARGV[1] then
    return {'replay'}
  end
end
local d = redis.call('SET', KEYS[2], 'p|' .. ARGV[3], 'NX', 'PX', ARGV[4], 'GET')
if d then
  local t = string.sub(d, 1, 2)
  if t == 'p|' or t == 'a|' then
    return {'pending'}
  end
  return {'dup', d}
end
local n = redis.call('RPUSH', KEYS[3], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[7])
if redis.call('SET', KEYS[4], ARGV[3], 'NX', 'PX', ARGV[6]) then
  local out = {'lead', redis.call('GET', KEYS[5]) or ''}
  if n == 1 then
    -- The usual case: the inbox was empty, so it holds just this message.
    out[3] = ARGV[5]
    return out
  end
  for _, v in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
    out[#out + 1] = v
  end
  return out
end
return {'queued'}
