// The benchmarks' yardstick (host/cli/plain_loops.c) computes what the indicators compute:
// a ratio against a loop that did less work would flatter nobody. Equal to rounding (TA-Lib's
// running sums drift; the indicators' are reset every window), on a random walk.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "cli/plain_loops.h"
#include "indicators/registry.hpp"

using namespace onepath;

namespace {

CandleSeries walk(std::size_t n) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> step(0, 0.01);
  std::uniform_real_distribution<double> u(0, 1);
  CandleSeries s;
  double p = 30'000;
  for (std::size_t i = 0; i < n; ++i) {
    const double o = p;
    p *= std::exp(step(rng));
    s.push_back({static_cast<TimestampMs>(i) * 60'000, o, std::max(o, p) * (1 + 0.002 * u(rng)), std::min(o, p) * (1 - 0.002 * u(rng)), p, 10 + 100 * u(rng)});
  }
  return s;
}

void agree(const IndicatorConfig& c, const CandleSeries& s, const std::vector<std::vector<double>>& plain) {
  auto ind = make_indicator(c);
  std::vector<double> row(ind->outputs().size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    ind->update(s[i]);
    ind->emit(row.data());
    for (std::size_t k = 0; k < plain.size(); ++k) {
      const double a = row[k], b = plain[k][i];
      if (std::isnan(a) || std::isnan(b)) {
        if (std::isnan(a) != std::isnan(b)) FAIL(c.kind << " output " << k << " row " << i << ": " << a << " vs plain " << b);
        continue;
      }
      if (std::fabs(a - b) > 1e-6 * std::max(1.0, std::fabs(b))) FAIL(c.kind << " output " << k << " row " << i << ": " << a << " vs plain " << b);
    }
  }
}

}  // namespace

TEST_CASE("the plain C loops of the benchmarks compute what the indicators compute") {
  const CandleSeries s = walk(5000);
  const double *h = s.high.data(), *l = s.low.data(), *c = s.close.data(), *v = s.volume.data();
  const std::size_t n = s.size();
  std::vector<double> a(n), b(n), d(n);
  plain_sma(c, n, 20, a.data()), agree({"sma", {{"period", 20.0}}}, s, {a});
  plain_ema(c, n, 12, a.data()), agree({"ema", {{"period", 12.0}}}, s, {a});
  plain_rsi(c, n, 14, a.data()), agree({"rsi", {}}, s, {a});
  plain_trange(h, l, c, n, a.data()), agree({"trange", {}}, s, {a});
  plain_atr(h, l, c, n, 14, 0, a.data()), agree({"atr", {}}, s, {a});
  plain_atr(h, l, c, n, 14, 1, a.data()), agree({"natr", {}}, s, {a});
  plain_adx(h, l, c, n, 14, a.data(), b.data(), d.data()), agree({"adx", {}}, s, {a, b, d});
  plain_macd(c, n, 12, 26, 9, a.data(), b.data(), d.data()), agree({"macd", {}}, s, {a, b, d});
  plain_bbands(c, n, 20, 2.0, a.data(), b.data(), d.data()), agree({"bbands", {}}, s, {a, b, d});
  plain_stddev(c, n, 20, a.data()), agree({"stddev", {}}, s, {a});
  plain_stoch(h, l, c, n, 14, 3, 3, a.data(), b.data()), agree({"stoch", {}}, s, {a, b});
  plain_willr(h, l, c, n, 14, a.data()), agree({"willr", {}}, s, {a});
  plain_cci(h, l, c, n, 20, a.data()), agree({"cci", {}}, s, {a});
  plain_obv(c, v, n, a.data()), agree({"obv", {}}, s, {a});
  plain_mfi(h, l, c, v, n, 14, a.data()), agree({"mfi", {}}, s, {a});
}
