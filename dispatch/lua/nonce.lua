-- nonce: records a (timestamp, nonce) pair that came without a message (a
-- URL verification), in the same place admit records a message's, so that
-- neither can reuse the other's pair with something else.
--
-- KEYS: 1 nonce
-- ARGV: 1 hash, 2 ttl ms
local h = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2], 'GET')
if h and h ~= ARGV[1] then
  return {'replay'}
end
return {'ok'}
