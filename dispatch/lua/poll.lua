-- poll: a waiting request checks whether its message has been answered, and
-- takes over as applier if the resident's lock is free (the previous applier
-- finished without reaching this message, or died).
--
-- KEYS: 1 message, 2 lock, 3 session, 4 inbox
-- ARGV: 1 token, 2 lock ttl ms
local d = redis.call('GET', KEYS[1])
if not d then
  return {'gone'}
end
local t = string.sub(d, 1, 2)
if t ~= 'p|' and t ~= 'a|' then
  return {'dup', d}
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local out = {'lead', redis.call('GET', KEYS[3]) or ''}
  for _, v in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
    out[#out + 1] = v
  end
  return out
end
return {'wait'}
