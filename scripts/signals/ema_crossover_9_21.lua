-- A signal config: a signal type (a strategy under scripts/strategies/) and its params.
return { type = "ema_crossover", params = { fast = 9, slow = 21 } }
