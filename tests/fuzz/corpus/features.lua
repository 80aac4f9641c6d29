-- A feature set: an ordered list; its order is the column order.
-- Multi-output kinds give name_output columns (macd_line, macd_signal, macd_hist).
-- `input` names a candle source (close, hl2, ...) or an earlier feature's column;
-- `timeframe` makes a higher-timeframe feature (it updates when its bar closes).
return {
  { name = "ema12",    kind = "ema",  period = 12 },
  { name = "rsi14",    kind = "rsi",  period = 14 },
  { name = "adx14",    kind = "adx",  period = 14 },
  { name = "macd",     kind = "macd", fast = 12, slow = 26, signal = 9 },
  { name = "atr14_1h", kind = "atr",  period = 14, timeframe = "1h" },
  { name = "z_atr_1h", kind = "zscore", period = 50, input = "atr14_1h" },
  { name = "bb",       kind = "bbands", period = 20, k = 2, input = "hlc3" },
  { name = "cal",      kind = "calendar" },
}
