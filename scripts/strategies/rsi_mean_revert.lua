-- RSI mean reversion: buy when RSI falls below `oversold`, exit when it climbs back above
-- `exit_level`, or at the stop / the time limit.
---@type onepath.Strategy
local S = {}

S.params = { period = 14, oversold = 30, exit_level = 50, size = 0.2, stop_pct = 0.05, max_bars = 96 }

S.features = function(p)
  return { { name = "rsi", kind = "rsi", period = p.period } }
end

function S.on_bar(ctx, bar, f)
  local rsi = f.rsi
  if rsi ~= rsi then return end            -- NaN: warming up
  local p = S.params
  if ctx.position == 0 then
    if rsi < p.oversold then
      ctx:buy{ size = p.size, sl_pct = p.stop_pct, exit_after = p.max_bars }
    end
  elseif rsi > p.exit_level then
    ctx:close()
  end
end

return S
