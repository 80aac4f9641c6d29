-- EMA crossover: long when the fast EMA crosses above the slow one, flat when it crosses
-- back below. Copy this file, change it, point a RUN.toml at it.
---@type onepath.Strategy
local S = {}

-- Defaults; a RUN.toml's [strategy.params] or --set strategy.params.fast=9 override them.
S.params = { fast = 12, slow = 26, size = 0.2, stop_pct = 0.03, take_pct = 0.08 }

-- The features this strategy reads, as a function of its params (or a plain list).
S.features = function(p)
  return {
    { name = "ema_fast", kind = "ema", period = p.fast },
    { name = "ema_slow", kind = "ema", period = p.slow },
  }
end

-- Called at the close of every bar. f.ema_fast is NaN until the EMA has warmed up.
function S.on_bar(ctx, bar, f)
  local fast, slow = f.ema_fast, f.ema_slow
  if slow ~= slow then return end          -- NaN: still warming up
  local above = fast > slow
  local was = ctx.state.above
  ctx.state.above = above
  if was == nil or above == was then return end
  if above and ctx.position <= 0 then
    ctx:buy{ size = S.params.size, sl_pct = S.params.stop_pct, tp_pct = S.params.take_pct }
  elseif not above and ctx.position > 0 then
    ctx:close()
  end
end

return S
