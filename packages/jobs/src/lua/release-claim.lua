-- Lets go of a schedule's "one run at a time" claim, only if the firing still holds it
-- (a claim that expired and was taken by a later firing is left to that one).
-- KEYS[1] the claim (string: the holder's firing id)
-- ARGV[1] the firing id letting go
-- Returns 1 when deleted, 0 when someone else (or nobody) held it.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
