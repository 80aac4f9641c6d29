-- An altcoin's inputs with BTC's beside them (seed 002; examples/cross_asset): the coin's own
-- momentum and volatility, BTC's returns as of the same close and one bar earlier, BTC's 1h
-- RSI, and how closely the coin has followed BTC. BTC must be one of the run's [data]
-- symbols (its candles are read whether or not the strategy trades it).
return {
  { name = "ret1",        kind = "returns",      period = 1 },
  { name = "ret4",        kind = "returns",      period = 4 },
  { name = "rsi14",       kind = "rsi",          period = 14 },
  { name = "natr14",      kind = "natr",         period = 14 },
  { name = "vr20",        kind = "volume_ratio", period = 20 },
  { name = "btc_ret1",    kind = "returns",      period = 1, symbol = "BTC" },
  { name = "btc_ret4",    kind = "returns",      period = 4, symbol = "BTC" },
  { name = "btc_ret4_l1", kind = "returns",      period = 4, symbol = "BTC", lag = 1 },
  { name = "btc_rsi_1h",  kind = "rsi",          period = 14, timeframe = "1h", symbol = "BTC" },
  { name = "btc_natr14",  kind = "natr",         period = 14, symbol = "BTC" },
  { name = "corr_btc",    kind = "correlation",  period = 96, input = "ret1", input2 = "btc_ret1" },
}
