-- abandon: the webhook had to answer before the message was applied. Mark it
-- so the applier that eventually applies it sends the reply another way
-- (customer-service message). Returns the reply if it was applied meanwhile.
--
-- KEYS: 1 message
local d = redis.call('GET', KEYS[1])
if not d then
  return {'gone'}
end
if string.sub(d, 1, 2) == 'p|' then
  redis.call('SET', KEYS[1], 'a|' .. string.sub(d, 3), 'KEEPTTL')
  return {'abandoned'}
end
if string.sub(d, 1, 2) == 'a|' then
  return {'abandoned'}
end
return {'dup', d}
