-- ATR breakout: long when the close breaks above the previous bar's Donchian high while
-- the ATR expands (ATR above `expansion` times its own average); exit when the close
-- falls below the previous bar's Donchian middle, or at a stop `stop_atr` ATRs away.
---@type onepath.Strategy
local S = {}

S.params = { channel = 20, atr_period = 14, atr_average = 50, expansion = 1.1, stop_atr = 2, size = 0.2 }

S.features = function(p)
  return {
    { name = "dc",      kind = "donchian", period = p.channel },     -- dc_upper, dc_lower, dc_middle
    { name = "atr",     kind = "atr",      period = p.atr_period },
    { name = "atr_avg", kind = "sma",      period = p.atr_average, input = "atr" },
  }
end

function S.on_bar(ctx, bar, f)
  local st = ctx.state
  local upper, middle = st.upper, st.middle   -- the previous bar's channel
  st.upper, st.middle = f.dc_upper, f.dc_middle
  if upper == nil or f.atr_avg ~= f.atr_avg then return end
  local p = S.params
  if ctx.position == 0 then
    if bar.close > upper and f.atr > p.expansion * f.atr_avg then
      ctx:buy{ size = p.size, sl_atr = p.stop_atr, atr = f.atr }
    end
  elseif bar.close < middle then
    ctx:close()
  end
end

return S
