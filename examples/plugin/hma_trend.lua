-- A strategy on the plugin's indicator: long while the close is above the Hull average and
-- the average rises, flat otherwise. `hma` is a native kind from hma.so.
---@type onepath.Strategy
local S = {}
S.params = { period = 16, size = 0.2 }
S.features = function(p) return { { name = "hma", kind = "hma", period = p.period } } end

function S.on_bar(ctx, bar, f)
  local h = f.hma
  if h ~= h then return end
  local rising = ctx.state.last ~= nil and h > ctx.state.last
  ctx.state.last = h
  if rising and bar.close > h and ctx.position <= 0 then
    ctx:buy{ size = S.params.size, sl_pct = 0.03 }
  elseif (not rising or bar.close < h) and ctx.position > 0 then
    ctx:close()
  end
end

return S
