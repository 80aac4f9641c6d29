// The ta_extra plugin (plain C): SuperTrend and KAMA against plain loops of their published
// definitions, a hand-worked KAMA value, and the plugin kinds used in a Lua feature set in
// streaming and batch with the same bits, and through enricher snapshots.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "data/synth.hpp"
#include "enrich/enricher.hpp"
#include "lua/feature_file.hpp"
#include "plugin/loader.hpp"

using namespace onepath;

namespace {

const std::string kPlugins = ONEPATH_PLUGINS;

void load() { load_plugin(kPlugins + "/ta_extra.so"); }

CandleSeries candles(double price, std::uint64_t seed, std::size_t n = 3000) {
  SynthOptions o;
  o.symbols = {{"X", price, 1.3, 1}};
  o.bars = n;
  o.seed = seed;
  o.start_ms = 1709251200000;
  o.with_defects = false;
  o.scenario = Scenario::stress;
  return generate_market(o)[0];
}

// SuperTrend, TradingView's ta.supertrend, written out bar by bar.
std::vector<std::array<double, 2>> supertrend(const CandleSeries& s, int n, double m) {
  const std::size_t N = s.size();
  std::vector<std::array<double, 2>> out(N, {kNaN, kNaN});
  std::vector<double> tr(N), atr(N, kNaN);
  for (std::size_t i = 0; i < N; ++i) {
    tr[i] = s.high[i] - s.low[i];
    if (i > 0) tr[i] = std::max({tr[i], std::fabs(s.high[i] - s.close[i - 1]), std::fabs(s.low[i] - s.close[i - 1])});
  }
  double up = 0, lo = 0;
  int dir = 0;
  for (std::size_t i = static_cast<std::size_t>(n - 1); i < N; ++i) {
    if (i == static_cast<std::size_t>(n - 1)) {
      double sum = 0;
      for (int k = 0; k < n; ++k) sum += tr[static_cast<std::size_t>(k)];
      atr[i] = sum / n;
    } else {
      atr[i] = (atr[i - 1] * (n - 1) + tr[i]) / n;
    }
    const double hl2 = (s.high[i] + s.low[i]) / 2, bu = hl2 + m * atr[i], bl = hl2 - m * atr[i];
    if (dir == 0) {
      up = bu, lo = bl, dir = -1;
    } else {
      const double prev_close = s.close[i - 1];
      up = (bu < up || prev_close > up) ? bu : up;
      lo = (bl > lo || prev_close < lo) ? bl : lo;
      dir = dir < 0 ? (s.close[i] > up ? 1 : -1) : (s.close[i] < lo ? -1 : 1);
    }
    out[i] = {dir > 0 ? lo : up, static_cast<double>(dir)};
  }
  return out;
}

// KAMA, TA-Lib's definition: the efficiency ratio over the window, re-summed every bar.
std::vector<double> kama(const CandleSeries& s, int n, int fast, int slow) {
  std::vector<double> out(s.size(), kNaN);
  const double f = 2.0 / (fast + 1.0), sl = 2.0 / (slow + 1.0);
  double k = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i + 1 == static_cast<std::size_t>(n)) k = s.close[i];
    if (i < static_cast<std::size_t>(n)) continue;
    double volatility = 0;
    for (std::size_t j = i - static_cast<std::size_t>(n) + 1; j <= i; ++j) volatility += std::fabs(s.close[j] - s.close[j - 1]);
    const double change = std::fabs(s.close[i] - s.close[i - static_cast<std::size_t>(n)]);
    const double er = volatility > 0 ? change / volatility : 1.0;
    double sc = er * (f - sl) + sl;
    sc = sc * sc;
    k = k + sc * (s.close[i] - k);
    out[i] = k;
  }
  return out;
}

bool close_to(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("supertrend and kama (a plugin in plain C) equal plain loops of their definitions at three price scales") {
  load();
  for (double price : {0.002, 30.0, 60000.0}) {
    CAPTURE(price);
    CandleSeries s = candles(price, 17);
    for (auto [n, m] : {std::pair{10, 3.0}, std::pair{7, 1.5}, std::pair{1, 2.0}}) {
      CAPTURE(n);
      auto ind = make_indicator({"supertrend", {{"period", double(n)}, {"multiplier", m}}});
      auto want = supertrend(s, n, m);
      CHECK(ind->warmup() == n - 1);
      std::size_t turns = 0;
      for (std::size_t i = 0; i < s.size(); ++i) {
        ind->update(s[i]);
        double row[2];
        ind->emit(row);
        REQUIRE(close_to(row[0], want[i][0]));
        REQUIRE(close_to(row[1], want[i][1]));
        turns += i > 0 && row[1] != want[i - 1][1] && !std::isnan(want[i - 1][1]);
      }
      CHECK(turns > 5);  // the trend did turn, both ways
    }
    for (auto [n, fast, slow] : {std::tuple{10, 2, 30}, std::tuple{3, 2, 10}, std::tuple{30, 5, 60}}) {
      CAPTURE(n);
      auto ind = make_indicator({"kama", {{"period", double(n)}, {"fast", double(fast)}, {"slow", double(slow)}}});
      auto want = kama(s, n, fast, slow);
      for (std::size_t i = 0; i < s.size(); ++i) {
        ind->update(s[i]);
        double v;
        ind->emit(&v);
        REQUIRE(close_to(v, want[i]));
      }
    }
  }
}

TEST_CASE("kama: a hand-worked value, TA-Lib's seed and first row") {
  load();
  auto ind = make_indicator({"kama", {{"period", 2.0}}});
  CandleSeries s;
  for (double c : {10.0, 11.0, 13.0}) s.push_back({static_cast<TimestampMs>(s.size()) * 60000, c, c, c, c, 1});
  double v = 0;
  ind->update(s[0]);
  ind->update(s[1]);
  ind->emit(&v);
  CHECK(std::isnan(v));  // the seed (11) is not a value yet
  ind->update(s[2]);
  ind->emit(&v);
  // ER = |13 - 10| / (1 + 2) = 1, sc = (2/3)^2, KAMA = 11 + 4/9 * 2
  CHECK(v == doctest::Approx(11.0 + 8.0 / 9.0).epsilon(1e-14));
}

TEST_CASE("plugin kinds in a Lua feature set: streaming equals batch bit for bit, snapshots continue the same, bad params are named") {
  load();
  FeatureSet set = parse_feature_source(
      "return { { name = 'st', kind = 'supertrend', period = 12, multiplier = 2.5 },"
      "         { name = 'k', kind = 'kama', period = 8 },"
      "         { name = 'st4h', kind = 'supertrend', period = 5, timeframe = '4h' },"
      "         { name = 'e', kind = 'ema', period = 10 } }",
      "plugin_features.lua");
  const Timeframe tf = Timeframe::parse("15m");
  CandleSeries s = candles(3000, 5, 4000);
  Enricher batch(set, tf);
  FeatureColumns cols = batch.enrich_batch(s);
  REQUIRE(batch.columns() == std::vector<std::string>{"st_value", "st_direction", "k", "st4h_value", "st4h_direction", "e"});
  Enricher stream(set, tf);
  std::vector<double> row(cols.size());
  std::string snapshot;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 2000) {  // a snapshot mid-way, restored into a new enricher
      snapshot = stream.save_snapshot("X");
      Enricher restored(set, tf);
      restored.load_snapshot(snapshot, "X");
      for (std::size_t j = i; j < s.size(); ++j) {
        restored.update(s[j]);
        restored.emit(row.data());
        for (std::size_t k = 0; k < cols.size(); ++k) REQUIRE(same_bits(row[k], cols[k][j]));
      }
    }
    stream.update(s[i]);
    stream.emit(row.data());
    for (std::size_t k = 0; k < cols.size(); ++k) REQUIRE(same_bits(row[k], cols[k][i]));
  }
  CHECK_THROWS_WITH_AS(make_indicator({"kama", {{"periodd", 8.0}}}), doctest::Contains("ta_extra.so): unknown parameter 'periodd'"), InputError);
  CHECK_THROWS_WITH_AS(make_indicator({"supertrend", {{"period", 2.5}}}), doctest::Contains("supertrend (plugin "), InputError);
}
