-- commit: the second round trip. Stores the session and the replies of the
-- messages the applier processed, removes them from the inbox, and either
-- releases the lock or, when more messages arrived meanwhile, keeps it and
-- hands them back so the applier goes on. Refuses (and writes nothing) when the
-- lock is no longer ours: another applier took over after ours expired.
--
-- KEYS: 1 session, 2 inbox, 3 lock, 4.. message keys of the processed messages
-- ARGV: 1 token, 2 session ('-' leaves it, '' deletes it), 3 session ttl ms,
--       4 processed count, 5 reply ttl ms, 6 lock ttl ms, 7.. replies
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return {'lost', ''}
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
elseif ARGV[2] ~= '-' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
local abandoned = {}
for i = 4, #KEYS do
  local cur = redis.call('SET', KEYS[i], ARGV[i + 3], 'PX', ARGV[5], 'GET')
  if cur and string.sub(cur, 1, 2) == 'a|' then
    abandoned[#abandoned + 1] = tostring(i - 3)
  end
end
local n = tonumber(ARGV[4])
if n > 0 then
  redis.call('LTRIM', KEYS[2], n, -1)
end
local rest = redis.call('LRANGE', KEYS[2], 0, -1)
if #rest > 0 then
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
  local out = {'more', table.concat(abandoned, ',')}
  for _, v in ipairs(rest) do
    out[#out + 1] = v
  end
  return out
end
redis.call('DEL', KEYS[3])
return {'done', table.concat(abandoned, ',')}
