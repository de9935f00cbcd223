-- Marks windows done whose work is in storage (a mask tile, or every block they feed merged),
-- when a run's state is rebuilt from its output store (see run-restore.ts). A window already
-- done keeps its outcome; a newly marked one counts as `windows_restored` (the done count
-- itself comes from the bitmap). Idempotent.
-- KEYS[1] windowsDone, KEYS[2] stats
-- ARGV: window index, ...
-- Returns how many windows were newly marked.
local marked = 0
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[1], tonumber(ARGV[i]), 1) == 0 then marked = marked + 1 end
end
if marked > 0 then
  redis.call('HINCRBY', KEYS[2], 'windows_restored', marked)
end
return marked
