#pragma once
// What a run's equity curve and trade ledger say. Formulas in docs/execution.md.
#include <vector>

#include "core/timeframe.hpp"
#include "exec/kernel.hpp"

namespace onepath {

struct Metrics {
  double initial_equity = 0, final_equity = 0;
  double total_return = 0, cagr = 0, volatility = 0, sharpe = 0, sortino = 0;
  double max_drawdown = 0;
  std::int64_t max_drawdown_bars = 0;  // longest stretch below a previous peak
  double calmar = 0;
  std::int64_t trades = 0, wins = 0, losses = 0;
  double win_rate = 0, profit_factor = 0, avg_win = 0, avg_loss = 0;
  double exposure = 0, turnover = 0, fees = 0;
};

// Undefined ratios (no trades, no losses, zero volatility) are NaN.
Metrics compute_metrics(double initial_equity, const std::vector<EquityPoint>& equity, const std::vector<Trade>& trades,
                        Timeframe bar);

}  // namespace onepath
