return { type = "ml_threshold", params = { model = "models/ml_up.json", inputs = "features.ml_basic", enter = 0.3, exit = 0.15 } }
