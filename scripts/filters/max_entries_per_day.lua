-- A filter in Lua: at most `limit` entries per symbol per UTC day. Its state (the counts)
-- lives in the object and is saved with the run.
local F = {}
F.__index = F

function F.new(params)
  return setmetatable({ limit = params.limit or 3, day = {}, count = {} }, F)
end

-- Return the intent (perhaps changed) to pass it on, or nil and a reason to drop it.
function F:apply(intent, ctx)
  if intent.action == "close" then return intent end
  local day = math.floor(ctx.time / 86400000)
  if self.day[ctx.symbol] ~= day then
    self.day[ctx.symbol], self.count[ctx.symbol] = day, 0
  end
  if self.count[ctx.symbol] >= self.limit then
    return nil, "already " .. self.limit .. " entries today"
  end
  return intent
end

function F:on_entry(symbol, bar)
  self.count[symbol] = (self.count[symbol] or 0) + 1
end

return F
