#include "exec/metrics.hpp"

#include <cmath>

namespace onepath {

Metrics compute_metrics(double initial, const std::vector<EquityPoint>& eq, const std::vector<Trade>& trades, Timeframe bar) {
  const double nan = std::nan("");
  const double year_ms = 365.25 * kMsPerDay;
  const double periods_per_year = year_ms / static_cast<double>(bar.duration_ms());
  Metrics m;
  m.initial_equity = initial;
  m.final_equity = eq.empty() ? initial : eq.back().equity;
  m.total_return = m.final_equity / initial - 1.0;

  // Per-bar returns, the first against the initial equity.
  std::vector<double> r;
  r.reserve(eq.size());
  double prev = initial, peak = initial, sum = 0, down_sq = 0, exposed = 0, equity_sum = 0;
  std::int64_t below = 0;
  for (const auto& p : eq) {
    double x = p.equity / prev - 1.0;
    r.push_back(x);
    sum += x;
    down_sq += x < 0 ? x * x : 0.0;
    prev = p.equity;
    if (p.equity >= peak) {
      peak = p.equity;
      below = 0;
    } else {
      m.max_drawdown = std::fmax(m.max_drawdown, 1.0 - p.equity / peak);
      m.max_drawdown_bars = std::max(m.max_drawdown_bars, ++below);
    }
    exposed += p.gross_exposure > 0;
    equity_sum += p.equity;
  }
  const double n = static_cast<double>(r.size());
  double years = eq.empty() ? 0 : (static_cast<double>(eq.back().ts - eq.front().ts) + static_cast<double>(bar.duration_ms())) / year_ms;
  m.cagr = years > 0 && m.final_equity > 0 ? std::pow(m.final_equity / initial, 1.0 / years) - 1.0 : nan;
  if (n >= 2) {
    double mean = sum / n, ss = 0;
    for (double x : r) ss += (x - mean) * (x - mean);
    double sd = std::sqrt(ss / (n - 1)), downside = std::sqrt(down_sq / n);
    m.volatility = sd * std::sqrt(periods_per_year);
    m.sharpe = sd > 0 ? mean / sd * std::sqrt(periods_per_year) : nan;
    m.sortino = downside > 0 ? mean / downside * std::sqrt(periods_per_year) : nan;
  } else {
    m.volatility = m.sharpe = m.sortino = nan;
  }
  m.calmar = m.max_drawdown > 0 ? m.cagr / m.max_drawdown : nan;
  m.exposure = n > 0 ? exposed / n : 0;

  double gross_profit = 0, gross_loss = 0, traded = 0;
  for (const auto& t : trades) {
    if (t.pnl > 0) ++m.wins, gross_profit += t.pnl;
    else if (t.pnl < 0) ++m.losses, gross_loss += t.pnl;
    m.fees += t.fees;
    traded += t.quantity * (t.entry_price + t.exit_price);
  }
  m.trades = static_cast<std::int64_t>(trades.size());
  m.win_rate = m.trades > 0 ? static_cast<double>(m.wins) / static_cast<double>(m.trades) : nan;
  m.profit_factor = gross_loss < 0 ? gross_profit / -gross_loss : nan;
  m.avg_win = m.wins > 0 ? gross_profit / static_cast<double>(m.wins) : nan;
  m.avg_loss = m.losses > 0 ? gross_loss / static_cast<double>(m.losses) : nan;
  m.turnover = n > 0 ? traded / (equity_sum / n) : 0;
  return m;
}

}  // namespace onepath
