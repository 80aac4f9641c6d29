#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/rng.hpp"
#include "indicators/average.hpp"
#include "indicators/momentum.hpp"
#include "indicators/registry.hpp"
#include "reference.hpp"

using namespace onepath;

namespace {

using Params = std::map<std::string, std::variant<double, std::string>>;

// Several parameter sets per kind; together they cover every kind of the registry.
const std::vector<IndicatorConfig> kConfigs = {
    {"sma", {{"period", 1.0}}}, {"sma", {{"period", 2.0}}}, {"sma", {{"period", 20.0}, {"input", "hlc3"}}},
    {"ema", {{"period", 1.0}}}, {"ema", {{"period", 12.0}}}, {"ema", {{"period", 10.0}, {"seed", "first"}, {"input", "ohlc4"}}},
    {"wma", {{"period", 1.0}}}, {"wma", {{"period", 20.0}, {"input", "hl2"}}},
    {"rsi", {{"period", 2.0}}}, {"rsi", {}},
    {"trange", {}},
    {"atr", {{"period", 1.0}}}, {"atr", {}}, {"natr", {}},
    {"adx", {{"period", 2.0}}}, {"adx", {}},
    {"macd", {}}, {"macd", {{"fast", 3.0}, {"slow", 5.0}, {"signal", 2.0}}},
    {"bbands", {}}, {"bbands", {{"period", 5.0}, {"k", 1.5}, {"input", "hl2"}}},
    {"stddev", {}}, {"stddev", {{"period", 2.0}}},
    {"stoch", {}}, {"stoch", {{"k_period", 5.0}, {"k_smooth", 1.0}, {"d_period", 1.0}}},
    {"willr", {}}, {"willr", {{"period", 1.0}}},
    {"cci", {}}, {"cci", {{"period", 2.0}}}, {"cci", {{"period", 7.0}}},
    {"obv", {}}, {"obv", {{"input", "open"}}},
    {"mfi", {}}, {"mfi", {{"period", 1.0}}},
    {"returns", {}}, {"returns", {{"period", 5.0}}}, {"log_returns", {}}, {"log_returns", {{"period", 3.0}, {"input", "volume"}}},
    {"zscore", {}}, {"zscore", {{"period", 50.0}, {"input", "volume"}}},
    {"min", {{"period", 5.0}}}, {"max", {{"period", 30.0}, {"input", "high"}}}, {"min", {{"period", 1.0}}},
    {"quantile", {{"period", 50.0}, {"q", 0.9}}}, {"quantile", {{"period", 7.0}}}, {"quantile", {{"period", 10.0}, {"q", 0.0}}},
    {"quantile", {{"period", 10.0}, {"q", 1.0}}}, {"quantile", {{"period", 1.0}}},
    {"percentile_rank", {{"period", 50.0}}}, {"percentile_rank", {{"period", 3.0}, {"input", "volume"}}},
    {"donchian", {}}, {"donchian", {{"period", 1.0}}},
    {"parkinson", {}}, {"garman_klass", {}}, {"garman_klass", {{"period", 1.0}}},
    {"realized_vol", {}}, {"realized_vol", {{"period", 1.0}}},
    {"volume_ratio", {}}, {"volume_ratio", {{"period", 1.0}}},
    {"correlation", {}}, {"correlation", {{"period", 30.0}, {"input", "high"}, {"input2", "low"}}},
    {"beta", {}}, {"beta", {{"period", 10.0}, {"input", "close"}, {"input2", "open"}}},
    {"cusum", {{"threshold", 0.01}}}, {"cusum", {{"threshold", 0.05}}},
    {"calendar", {}},
};

std::string name_of(const IndicatorConfig& c) { return c.kind + "(" + make_indicator(c)->params_text() + ")"; }

// A random walk at a price scale, with flat stretches (equal prices, zero or constant
// volume), H = L bars, zero-volume bars, jumps and timestamp gaps; prices on a tick grid.
CandleSeries test_series(double scale, std::uint64_t seed, std::size_t n = 2500) {
  Rng r(seed);
  const double tick = scale * 1e-6;
  auto q = [&](double v) { return std::round(v / tick) * tick; };
  CandleSeries s;
  double p = scale;
  TimestampMs ts = 1709251200000;
  std::size_t flat_left = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ts += 15 * kMsPerMinute * (r.chance(0.02) ? 1 + static_cast<TimestampMs>(r.below(50)) : 1);
    if (flat_left == 0 && r.chance(0.006)) flat_left = 30 + r.below(40);
    double o = q(p);
    if (flat_left > 0) {
      --flat_left;
      s.push_back({ts, o, o, o, o, flat_left % 2 ? 0.0 : 0.0});
      continue;
    }
    double ret = 0.01 * r.normal() + (r.chance(0.003) ? 0.15 * r.normal() : 0.0);
    p *= std::exp(ret);
    double c = q(p);
    bool hl_equal = r.chance(0.02);
    double h = hl_equal ? std::max(o, c) : q(std::max(o, c) * std::exp(std::fabs(r.normal()) * 0.004));
    double l = hl_equal ? std::min(o, c) : q(std::min(o, c) * std::exp(-std::fabs(r.normal()) * 0.004));
    if (hl_equal) o = c = h = l;
    double v = r.chance(0.05) ? 0.0 : std::round(100 * std::exp(r.normal()) * 1000) / 1000;
    s.push_back({ts, o, h, l, c, v});
  }
  return s;
}

// Feeds every candle; returns outputs[k][row].
std::vector<std::vector<double>> run(Indicator& ind, const CandleSeries& s, std::size_t from = 0) {
  std::size_t k = ind.outputs().size();
  std::vector<std::vector<double>> out(k, std::vector<double>(s.size()));
  std::vector<double> row(k);
  for (std::size_t i = from; i < s.size(); ++i) {
    ind.update(s[i]);
    ind.emit(row.data());
    for (std::size_t j = 0; j < k; ++j) out[j][i] = row[j];
  }
  return out;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

const double kScales[] = {0.002, 30, 60000};

}  // namespace

TEST_CASE("every kind of the registry is covered by the reference tests") {
  for (const auto& k : indicator_kinds()) {
    CAPTURE(k.kind);
    CHECK(std::any_of(kConfigs.begin(), kConfigs.end(), [&](const auto& c) { return c.kind == k.kind; }));
  }
}

TEST_CASE("every kind agrees with its reference loop within 1e-9 relative, at three price scales") {
  for (double scale : kScales) {
    for (std::uint64_t seed : {1, 2}) {
      CandleSeries s = test_series(scale, seed * 7919 + static_cast<std::uint64_t>(scale * 1000));
      for (const auto& config : kConfigs) {
        auto ind = make_indicator(config);
        auto got = run(*ind, s);
        auto want = reference::compute(config, s);
        REQUIRE(want.size() == got.size());
        std::size_t mismatches = 0;
        for (std::size_t k = 0; k < got.size(); ++k) {
          for (std::size_t i = 0; i < s.size(); ++i) {
            double a = got[k][i], b = want[k][i];
            REQUIRE_FALSE(std::isinf(a));
            bool ok = (std::isnan(a) && std::isnan(b)) || std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
            if (!ok && mismatches++ < 3) {
              INFO(name_of(config), " scale ", scale, " output ", ind->outputs()[k], " row ", i, ": got ", a, " want ", b);
              CHECK(ok);
            }
          }
        }
        CHECK_MESSAGE(mismatches == 0, name_of(config), " at scale ", scale, ": ", mismatches, " rows differ");
      }
    }
  }
}

TEST_CASE("the first valid row is warmup(), and ready() turns true there") {
  CandleSeries s = test_series(30, 99);
  for (const auto& config : kConfigs) {
    CAPTURE(name_of(config));
    auto ind = make_indicator(config);
    std::vector<double> row(ind->outputs().size());
    int first = -1;
    for (std::size_t i = 0; i < s.size() && first < 0; ++i) {
      CHECK(ind->ready() == (static_cast<int>(i) > ind->warmup()));
      ind->update(s[i]);
      ind->emit(row.data());
      if (std::any_of(row.begin(), row.end(), [](double v) { return !std::isnan(v); })) first = static_cast<int>(i);
    }
    CHECK(first == ind->warmup());
    CHECK(ind->ready());
  }
}

TEST_CASE("bootstrap then update equals updating all, bit for bit, at random split points") {
  Rng r(5);
  for (double scale : kScales) {
    CandleSeries s = test_series(scale, 11);
    for (const auto& config : kConfigs) {
      CAPTURE(name_of(config));
      auto whole = make_indicator(config);
      auto expected = run(*whole, s);
      for (int trial = 0; trial < 3; ++trial) {
        std::size_t split = r.below(s.size());
        CandleSeries head;
        for (std::size_t i = 0; i < split; ++i) head.push_back(s[i]);
        auto boot = make_indicator(config);
        boot->bootstrap(head);
        auto got = run(*boot, s, split);
        for (std::size_t k = 0; k < got.size(); ++k)
          for (std::size_t i = split; i < s.size(); ++i) REQUIRE(same_bits(got[k][i], expected[k][i]));
      }
    }
  }
}

TEST_CASE("save at a random bar, load into a fresh object, continue: bit-identical") {
  Rng r(6);
  CandleSeries s = test_series(60000, 12);
  for (const auto& config : kConfigs) {
    CAPTURE(name_of(config));
    auto original = make_indicator(config);
    auto expected = run(*original, s);
    std::size_t at = r.below(s.size());
    auto first = make_indicator(config);
    for (std::size_t i = 0; i < at; ++i) first->update(s[i]);
    std::string saved = first->save();
    auto restored = make_indicator(config);
    restored->load(saved);
    CHECK(restored->save() == saved);
    auto got = run(*restored, s, at);
    for (std::size_t k = 0; k < got.size(); ++k)
      for (std::size_t i = at; i < s.size(); ++i) REQUIRE(same_bits(got[k][i], expected[k][i]));
  }
}

TEST_CASE("reset returns an indicator to a fresh one") {
  CandleSeries s = test_series(30, 13, 400);
  for (const auto& config : kConfigs) {
    CAPTURE(name_of(config));
    auto used = make_indicator(config);
    run(*used, s);
    used->reset();
    CHECK(used->save() == make_indicator(config)->save());
  }
}

TEST_CASE("a saved state refuses another kind, other parameters and damaged bytes, and changes nothing") {
  CandleSeries s = test_series(30, 14, 100);
  auto sma20 = make_indicator({"sma", {{"period", 20.0}}});
  run(*sma20, s);
  std::string saved = sma20->save();
  auto sma14 = make_indicator({"sma", {{"period", 14.0}}});
  CHECK_THROWS_AS(sma14->load(saved), InputError);
  CHECK_THROWS_AS(make_indicator({"ema", {{"period", 20.0}}})->load(saved), InputError);
  auto fresh = make_indicator({"sma", {{"period", 20.0}}});
  std::string before = fresh->save();
  CHECK_THROWS_AS(fresh->load(saved.substr(0, saved.size() - 3)), InputError);
  CHECK_THROWS_AS(fresh->load(saved + "x"), InputError);
  CHECK_THROWS_AS(fresh->load(""), InputError);
  CHECK(fresh->save() == before);
}

TEST_CASE("bad parameters are clear errors naming kind, parameter and value") {
  struct Case { IndicatorConfig config; const char* needle; };
  const Case cases[] = {
      {{"sma", {}}, "sma: parameter 'period' is required"},
      {{"sma", {{"period", 0.0}}}, "sma: parameter 'period' = 0"},
      {{"sma", {{"period", 2.5}}}, "sma: parameter 'period' = 2.5: must be a whole number"},
      {{"ema", {{"period", -3.0}}}, "ema: parameter 'period' = -3"},
      {{"ema", {{"period", 3.0}, {"seed", "last"}}}, "ema: parameter 'seed' = 'last'"},
      {{"rsi", {{"perod", 14.0}}}, "rsi: unknown parameter 'perod' (known: input, period)"},
      {{"rsi", {{"period", "fourteen"}}}, "rsi: parameter 'period' = 'fourteen': must be a number"},
      {{"macd", {{"fast", 26.0}, {"slow", 12.0}}}, "macd: parameter 'fast' = 26: must be shorter than slow (12)"},
      {{"bbands", {{"k", -1.0}}}, "bbands: parameter 'k' = -1"},
      {{"quantile", {{"period", 10.0}, {"q", 1.5}}}, "quantile: parameter 'q' = 1.5"},
      {{"adx", {{"period", 1.0}}}, "adx: parameter 'period' = 1"},
      {{"cusum", {{"threshold", 0.0}}}, "cusum: parameter 'threshold' = 0"},
      {{"sma", {{"period", 5.0}, {"input", "vwap"}}}, "sma: parameter 'input': unknown input 'vwap'"},
      {{"smma", {}}, "unknown indicator kind 'smma'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.needle);
    try {
      make_indicator(c.config);
      FAIL("no error");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find(c.needle) != std::string::npos);
    }
  }
}

TEST_CASE("non-finite candle values are refused, a feature's NaN is skipped and its infinity refused") {
  for (const auto& config : kConfigs) {
    CAPTURE(name_of(config));
    if (config.kind == "calendar") continue;  // reads only the timestamp
    auto ind = make_indicator(config);
    ind->update({0, 10, 11, 9, 10, 5});
    std::string before = ind->save();
    CHECK_THROWS_AS(ind->update({1, NAN, NAN, NAN, NAN, NAN}), InputError);  // whatever it reads
    CHECK_THROWS_AS(ind->update({1, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY}), InputError);
    CHECK(ind->save() == before);
    if (ind->series_inputs() == 0) {
      double x[2] = {1, 1};
      CHECK_THROWS_AS(ind->update_values(x), InputError);
      continue;
    }
    double nan_in[2] = {NAN, NAN}, inf_in[2] = {INFINITY, INFINITY};
    ind->update_values(nan_in);
    CHECK(ind->save() == before);
    CHECK_THROWS_AS(ind->update_values(inf_in), InputError);
  }
}

TEST_CASE("an indicator checks only the candle values it reads") {
  auto sma = make_indicator({"sma", {{"period", 2.0}}});
  sma->update({0, 1, 1, 1, 1, NAN});  // volume is not read
  CHECK_THROWS_AS(sma->update({1, 1, 1, 1, NAN, 1}), InputError);
  try {
    make_indicator({"atr", {}})->update({1709251200000, 1, INFINITY, 1, 1, 1});
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == "atr: candle 2024-03-01T00:00:00Z has high = inf (indicators take finite prices and volumes; run 'onepath data check')");
  }
}

TEST_CASE("a feature's values give what the same values in a candle give") {
  CandleSeries s = test_series(30, 15, 500);
  for (const auto& config : kConfigs) {
    auto by_candle = make_indicator(config);
    if (by_candle->series_inputs() != 1 || config.params.count("input")) continue;
    CAPTURE(name_of(config));
    auto by_value = make_indicator(config);
    std::vector<double> a(by_candle->outputs().size()), b(a.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      by_candle->update(s[i]);
      by_value->update_values(&s.close[i]);
      by_candle->emit(a.data());
      by_value->emit(b.data());
      for (std::size_t k = 0; k < a.size(); ++k) REQUIRE(same_bits(a[k], b[k]));
    }
  }
}

TEST_CASE("published values: Wilder's RSI worked example") {
  // The classic series (Wilder; reproduced by StockCharts). Row 14 is 70.4641 exactly;
  // StockCharts prints 70.53 because it rounds the averages to two decimals, and its later
  // values 66.32, 66.55, 69.41, 66.36, 57.97 stay within 0.1 of the exact ones.
  const double closes[] = {44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08,
                           45.89, 46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64};
  const double published[] = {70.53, 66.32, 66.55, 69.41, 66.36, 57.97};
  Rsi rsi(14);
  for (int i = 0; i < 20; ++i) {
    rsi.update_value(closes[i]);
    if (i < 14) CHECK(std::isnan(rsi.value()));
    if (i == 14) CHECK(rsi.value() == doctest::Approx(100.0 * 3.34 / (3.34 + 1.40)).epsilon(1e-9));
    if (i >= 14) CHECK(std::fabs(rsi.value() - published[i - 14]) < 0.1);
  }
}

TEST_CASE("hand-computed values") {
  Ema ema3(3);
  std::vector<double> e;
  for (double x : {1.0, 2.0, 3.0, 4.0, 5.0}) ema3.update_value(x), e.push_back(ema3.value());
  CHECK(std::isnan(e[1]));
  CHECK(e[2] == 2.0);  // seeded with SMA(1,2,3)
  CHECK(e[3] == 3.0);  // 2 + (4-2)*0.5
  CHECK(e[4] == 4.0);

  auto atr = make_indicator({"atr", {{"period", 3.0}}});
  const Candle bars[] = {{0, 9, 10, 8, 9, 1}, {1, 9, 12, 9, 11, 1}, {2, 11, 13, 11, 12, 1}, {3, 12, 14, 10, 13, 1}, {4, 13, 13, 13, 13, 1}};
  double v = 0;
  for (int i = 0; i < 5; ++i) {
    atr->update(bars[i]);
    atr->emit(&v);
    if (i == 3) CHECK(v == 3.0);  // TR rows 1..3: 3, 2, 4
    if (i == 4) CHECK(v == doctest::Approx((3.0 * 2 + 0) / 3));  // TR row 4: max(0, |13-13|, |13-13|) = 0
  }

  auto macd = make_indicator({"macd", {}});
  auto bb = make_indicator({"bbands", {}});
  auto stoch = make_indicator({"stoch", {}});
  auto cci = make_indicator({"cci", {}});
  for (int i = 0; i < 60; ++i) {
    Candle flat{i, 100, 100, 100, 100, 5};
    macd->update(flat), bb->update(flat), stoch->update(flat), cci->update(flat);
  }
  double m[3], b[3], st[2], cc;
  macd->emit(m), bb->emit(b), stoch->emit(st), cci->emit(&cc);
  for (double x : m) CHECK(x == 0);
  for (double x : b) CHECK(x == 100);
  for (double x : st) CHECK(x == 0);
  CHECK(cc == 0);
}
