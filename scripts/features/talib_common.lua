-- TA-Lib's common calls as one set: 22 columns. `onepath bench enrich` measures it.
return {
  { name = "ema12",    kind = "ema",    period = 12 },
  { name = "ema26",    kind = "ema",    period = 26 },
  { name = "sma20",    kind = "sma",    period = 20 },
  { name = "rsi14",    kind = "rsi",    period = 14 },
  { name = "atr14",    kind = "atr",    period = 14 },
  { name = "natr14",   kind = "natr",   period = 14 },
  { name = "adx14",    kind = "adx",    period = 14 },
  { name = "macd",     kind = "macd",   fast = 12, slow = 26, signal = 9 },
  { name = "bb",       kind = "bbands", period = 20, k = 2 },
  { name = "stoch",    kind = "stoch",  k_period = 14, k_smooth = 3, d_period = 3 },
  { name = "stddev20", kind = "stddev", period = 20 },
  { name = "cci20",    kind = "cci",    period = 20 },
  { name = "willr14",  kind = "willr",  period = 14 },
  { name = "obv",      kind = "obv" },
  { name = "mfi14",    kind = "mfi",    period = 14 },
}
