return { type = "atr_breakout", params = { channel = 20, expansion = 1.2, stop_atr = 2.5 } }
