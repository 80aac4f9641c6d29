return { type = "rsi_mean_revert", params = { period = 14, oversold = 25, exit_level = 55 } }
