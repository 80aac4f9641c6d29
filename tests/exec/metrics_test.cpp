#include <doctest/doctest.h>

#include <cmath>

#include "exec/metrics.hpp"

using namespace onepath;

TEST_CASE("metrics on a short equity curve, against hand-computed values") {
  const TimestampMs d = kMsPerDay, t0 = 1709251200000;
  // Equity 100 -> 110 -> 99 -> 121 on daily bars.
  std::vector<EquityPoint> eq = {{t0, 110, 60, 50}, {t0 + d, 99, 99, 0}, {t0 + 2 * d, 121, 71, 50}};
  std::vector<Trade> trades(3);
  trades[0].pnl = 10, trades[0].fees = 0.5, trades[0].quantity = 1, trades[0].entry_price = 100, trades[0].exit_price = 110;
  trades[1].pnl = -5, trades[1].fees = 0.5, trades[1].quantity = 1, trades[1].entry_price = 100, trades[1].exit_price = 95;
  trades[2].pnl = 3, trades[2].fees = 0.25, trades[2].quantity = 2, trades[2].entry_price = 50, trades[2].exit_price = 51.5;
  Metrics m = compute_metrics(100, eq, trades, Timeframe::parse("1d"));

  const double r[] = {0.1, 99.0 / 110 - 1, 121.0 / 99 - 1};
  const double mean = (r[0] + r[1] + r[2]) / 3;
  double ss = 0;
  for (double x : r) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / 2), down = std::sqrt(r[1] * r[1] / 3), a = std::sqrt(365.25);
  CHECK(m.total_return == doctest::Approx(0.21));
  CHECK(m.cagr == doctest::Approx(std::pow(1.21, 365.25 / 3) - 1));
  CHECK(m.volatility == doctest::Approx(sd * a));
  CHECK(m.sharpe == doctest::Approx(mean / sd * a));
  CHECK(m.sortino == doctest::Approx(mean / down * a));
  CHECK(m.max_drawdown == doctest::Approx(0.1));
  CHECK(m.max_drawdown_bars == 1);
  CHECK(m.calmar == doctest::Approx(m.cagr / 0.1));
  CHECK(m.trades == 3);
  CHECK(m.win_rate == doctest::Approx(2.0 / 3));
  CHECK(m.profit_factor == doctest::Approx(13.0 / 5));
  CHECK(m.avg_win == doctest::Approx(6.5));
  CHECK(m.avg_loss == doctest::Approx(-5));
  CHECK(m.fees == doctest::Approx(1.25));
  CHECK(m.exposure == doctest::Approx(2.0 / 3));
  CHECK(m.turnover == doctest::Approx((210 + 195 + 203) / ((110 + 99 + 121) / 3.0)));
}

TEST_CASE("undefined ratios are NaN, not infinities") {
  std::vector<EquityPoint> eq = {{0, 100, 100, 0}, {kMsPerDay, 100, 100, 0}};
  Metrics m = compute_metrics(100, eq, {}, Timeframe::parse("1d"));
  CHECK(std::isnan(m.sharpe));
  CHECK(std::isnan(m.sortino));
  CHECK(std::isnan(m.profit_factor));
  CHECK(std::isnan(m.win_rate));
  CHECK(std::isnan(m.calmar));
  CHECK(m.max_drawdown == 0);
}
