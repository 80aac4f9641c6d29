-- SuperTrend flips (the supertrend kind comes from the ta_extra plugin): long when the
-- trend turns up, flat when it turns down. Needs [[plugins]] path = "build/plugins/ta_extra.so".
---@type onepath.Strategy
local S = {}
S.params = { period = 10, multiplier = 3, size = 0.25 }
S.features = function(p)
  return { { name = "st", kind = "supertrend", period = p.period, multiplier = p.multiplier } }
end

function S.on_bar(ctx, bar, f)
  local dir = f.st_direction
  if dir ~= dir then return end
  local was = ctx.state.dir
  ctx.state.dir = dir
  if was == nil or was == dir then return end
  if dir > 0 and ctx.position <= 0 then
    ctx:buy{ size = S.params.size, stop_loss = f.st_value }
  elseif dir < 0 and ctx.position > 0 then
    ctx:close()
  end
end

return S
