// The speed work of issue 15 changes how the indicators compute, never what: every kind
// gives the same bits as the frozen implementation in baseline/ on random candles (gaps,
// flat stretches, prices from 1e-4 to 1e6), value by value, through warm-up and after it.
#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "baseline/average.hpp"
#include "baseline/momentum.hpp"
#include "baseline/statistics.hpp"
#include "baseline/trend.hpp"
#include "baseline/volatility.hpp"
#include "baseline/volume.hpp"
#include "core/state_archive.hpp"
#include "indicators/average.hpp"
#include "indicators/momentum.hpp"
#include "indicators/statistics.hpp"
#include "indicators/trend.hpp"
#include "indicators/volatility.hpp"
#include "indicators/volume.hpp"

using namespace onepath;

namespace {

// A random walk at `scale` with gaps in time, runs of identical candles and zero volume.
CandleSeries random_candles(std::uint64_t seed, double scale, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> step(0, 0.01);
  std::uniform_real_distribution<double> u(0, 1);
  CandleSeries s;
  TimestampMs ts = 1'700'000'000'000;
  double price = scale;
  for (std::size_t i = 0; i < n; ++i) {
    ts += (u(rng) < 0.02 ? 1 + static_cast<int>(u(rng) * 50) : 1) * 900'000;  // gaps
    const bool flat = u(rng) < 0.05 && i > 0;  // the same candle again: zero ranges, equal windows
    if (!flat) price *= std::exp(step(rng));
    const double o = flat ? s.close.back() : price * (1 + 0.002 * (u(rng) - 0.5)), c = flat ? s.close.back() : price;
    const double h = flat ? s.high.back() : std::max(o, c) * (1 + 0.003 * u(rng)), l = flat ? s.low.back() : std::min(o, c) * (1 - 0.003 * u(rng));
    s.push_back({ts, o, h, l, c, u(rng) < 0.03 ? 0.0 : 1000 * u(rng)});
  }
  return s;
}

template <class New, class Old, std::size_t K = New::kOutputs.size()>
void same_bits(const char* what, New now, Old before) {
  for (double scale : {1e-4, 1.0, 37.5, 1e6}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const CandleSeries s = random_candles(seed * 1000 + static_cast<std::uint64_t>(scale * 10), scale, 3000);
      New a = now;
      Old b = before;
      double out_a[K], out_b[K];
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == s.size() / 2 + seed) {
          // The saved form is unchanged too: the same bytes, and the old one's state loaded
          // into the new kind carries on with the same bits.
          StateWriter wa, wb;
          wa(a), wb(b);
          REQUIRE_MESSAGE(wa.bytes() == wb.bytes(), what << ": the saved form changed");
          StateReader r(wb.bytes());
          r(a);
          REQUIRE(r.at_end());
        }
        const Refusal ra = a.update(s[i]), rb = b.update(s[i]);
        REQUIRE(ra == rb);
        a.emit(out_a);
        b.emit(out_b);
        if (std::memcmp(out_a, out_b, sizeof out_a) != 0) {
          FAIL(std::string(what) << " differs at row " << i << " (scale " << scale << ", seed " << seed << "): " << out_a[0] << " vs " << out_b[0]);
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("optimised indicators give the bits of the frozen implementation on random candles") {
  same_bits("sma", Sma(20), baseline::Sma(20));
  same_bits("sma 1", Sma(1), baseline::Sma(1));
  same_bits("ema", Ema(12), baseline::Ema(12));
  same_bits("wma", Wma(20), baseline::Wma(20));
  same_bits("rsi", Rsi(14), baseline::Rsi(14));
  same_bits("macd", Macd(12, 26, 9), baseline::Macd(12, 26, 9));
  same_bits("stoch", Stoch(14, 3, 3), baseline::Stoch(14, 3, 3));
  same_bits("stoch 1 1 1", Stoch(1, 1, 1), baseline::Stoch(1, 1, 1));
  same_bits("willr", Willr(14), baseline::Willr(14));
  same_bits("cci", Cci(20), baseline::Cci(20));
  same_bits("returns", Returns(3), baseline::Returns(3));
  same_bits("log_returns", LogReturns(1), baseline::LogReturns(1));
  same_bits("adx", Adx(14), baseline::Adx(14));
  same_bits("trange", TrueRange(), baseline::TrueRange());
  same_bits("atr", Atr(14), baseline::Atr(14));
  same_bits("natr", Natr(14), baseline::Natr(14));
  same_bits("stddev", Stddev(20), baseline::Stddev(20));
  same_bits("bbands", Bbands(20, 2.0), baseline::Bbands(20, 2.0));
  same_bits("bbands 5 1.5", Bbands(5, 1.5), baseline::Bbands(5, 1.5));
  same_bits("zscore", Zscore(20), baseline::Zscore(20));
  same_bits("donchian", Donchian(20), baseline::Donchian(20));
  same_bits("parkinson", Parkinson(20), baseline::Parkinson(20));
  same_bits("garman_klass", GarmanKlass(20), baseline::GarmanKlass(20));
  same_bits("realized_vol", RealizedVol(20), baseline::RealizedVol(20));
  same_bits("min", RollingMin(20), baseline::RollingMin(20));
  same_bits("max", RollingMax(7), baseline::RollingMax(7));
  same_bits("quantile", Quantile(50, 0.9), baseline::Quantile(50, 0.9));
  same_bits("obv", Obv(), baseline::Obv());
  same_bits("mfi", Mfi(14), baseline::Mfi(14));
  same_bits("volume_ratio", VolumeRatio(20), baseline::VolumeRatio(20));
  same_bits("correlation", Correlation(20, Source::close, Source::volume), baseline::Correlation(20, Source::close, Source::volume));
  same_bits("beta", Beta(20, Source::close, Source::open), baseline::Beta(20, Source::close, Source::open));
}
