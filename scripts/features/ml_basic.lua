-- The inputs of the example model (examples/ml): momentum, volatility, volume and where the
-- close sits in its recent range. One column each (single-output kinds), so that a model's
-- `inputs` are these names. `onepath train` reads this file; the ml_threshold strategy
-- require()s it, so the model sees the same columns in training, backtests and paper.
return {
  { name = "rsi14",   kind = "rsi",             period = 14 },
  { name = "ret1",    kind = "returns",         period = 1 },
  { name = "ret4",    kind = "returns",         period = 4 },
  { name = "ret16",   kind = "returns",         period = 16 },
  { name = "z20",     kind = "zscore",          period = 20 },
  { name = "natr14",  kind = "natr",            period = 14 },
  { name = "rvol20",  kind = "realized_vol",    period = 20 },
  { name = "vr20",    kind = "volume_ratio",    period = 20 },
  { name = "willr14", kind = "willr",           period = 14 },
  { name = "cci20",   kind = "cci",             period = 20 },
  { name = "ret64",   kind = "returns",         period = 64 },
  { name = "prank",   kind = "percentile_rank", period = 100 },
}
