#include <doctest/doctest.h>

#include <cmath>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "data/synth.hpp"
#include "data/validate.hpp"

using namespace onepath;

namespace {
constexpr TimestampMs kT0 = 1709251200000;  // 2024-03-01, aligned to every timeframe below 1w
constexpr TimestampMs kM15 = 15 * kMsPerMinute;

CandleSeries clean(std::size_t n) {
  CandleSeries s;
  for (std::size_t i = 0; i < n; ++i) {
    double p = 100 + 0.1 * static_cast<double>(i % 7);
    s.push_back({kT0 + static_cast<TimestampMs>(i) * kM15, p, p + 0.25, p - 0.15, p + 0.1, 1000});
  }
  return s;
}

std::size_t count_rule(const ValidationReport& r, const std::string& rule) {
  std::size_t n = 0;
  for (const auto& f : r.findings) n += f.rule == rule;
  return n;
}

const Finding* first(const ValidationReport& r, const std::string& rule) {
  for (const auto& f : r.findings)
    if (f.rule == rule) return &f;
  return nullptr;
}
}  // namespace

TEST_CASE("clean data: no findings, timeframe inferred") {
  ValidationReport r = validate(clean(200));
  CHECK(r.ok());
  CHECK(r.findings.empty());
  CHECK(r.gaps.empty());
  CHECK(r.timeframe.name() == "15m");
  CHECK(r.timeframe_inferred);
}

TEST_CASE("each error rule fires on its defect and names the row and column") {
  struct Case {
    const char* rule;
    void (*damage)(CandleSeries&);
    const char* column;
  };
  const Case cases[] = {
      {"ts_duplicate", [](CandleSeries& s) { s.ts[50] = s.ts[49]; }, "ts"},
      {"ts_disorder", [](CandleSeries& s) { std::swap(s.ts[50], s.ts[51]); }, "ts"},
      {"ts_misaligned", [](CandleSeries& s) { s.ts[50] += 60'000; }, "ts"},
      {"not_finite", [](CandleSeries& s) { s.close[50] = NAN; }, "close"},
      {"not_finite", [](CandleSeries& s) { s.volume[50] = INFINITY; }, "volume"},
      {"ohlc_inconsistent", [](CandleSeries& s) { s.low[50] = s.open[50] + 0.01; }, "low"},
      {"ohlc_inconsistent", [](CandleSeries& s) { s.high[50] = s.close[50] - 0.01; }, "high"},
      {"ohlc_inconsistent", [](CandleSeries& s) { s.low[50] = s.high[50] + 1; }, "low"},
      {"volume_negative", [](CandleSeries& s) { s.volume[50] = -1; }, "volume"},
      // what the enricher and the kernel refuse, data check refuses first
      {"price_not_positive", [](CandleSeries& s) { s.low[50] = 0; }, "low"},
      {"price_not_positive", [](CandleSeries& s) { s.open[50] = -5, s.low[50] = -6; }, "open"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.rule);
    CandleSeries s = clean(200);
    c.damage(s);
    ValidationReport r = validate(s, {.timeframe = Timeframe::parse("15m")});
    CHECK_FALSE(r.ok());
    const Finding* f = first(r, c.rule);
    REQUIRE(f != nullptr);
    CHECK(f->severity == Severity::error);
    CHECK(f->row >= 50);
    CHECK(f->row <= 51);
    CHECK(f->column == c.column);
    CHECK_FALSE(f->message.empty());
  }
}

TEST_CASE("gaps of 1, 5 and 50 candles are counted and listed, and are not errors") {
  CandleSeries s = clean(200), g;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != 10 && !(i >= 40 && i < 45) && !(i >= 60 && i < 110)) g.push_back(s[i]);
  ValidationReport r = validate(g);
  CHECK(r.ok());
  REQUIRE(r.gaps.size() == 3);
  CHECK(r.gaps[0].missing == 1);
  CHECK(r.gaps[0].after_ts == s.ts[9]);
  CHECK(r.gaps[0].before_ts == s.ts[11]);
  CHECK(r.gaps[1].missing == 5);
  CHECK(r.gaps[2].missing == 50);
  CHECK(r.gaps[2].row == 60 - 1 - 5);  // the row after the gap, in the gapped series
  CHECK(r.missing_candles == 56);
}

TEST_CASE("quality warnings: return outlier, volume drop, long wicks, and the data stays usable") {
  CandleSeries s = clean(200);
  s.close[150] = s.open[150] * 1.5;  // a +40% log move after quiet bars
  s.high[150] = s.close[150];
  s.volume[120] = 100;  // 90 % below the trailing mean
  s.high[80] = s.open[80] + 5;  // wicks of 5.5 against a body of 0.1
  ValidationReport r = validate(s);
  CHECK(r.ok());
  CHECK(count_rule(r, "return_outlier") >= 1);
  CHECK(first(r, "return_outlier")->row == 150);
  CHECK(first(r, "return_outlier")->severity == Severity::warning);
  CHECK(count_rule(r, "volume_drop") == 1);
  CHECK(first(r, "volume_drop")->row == 120);
  CHECK(count_rule(r, "wick_to_body") == 1);
  CHECK(first(r, "wick_to_body")->row == 80);
}

TEST_CASE("timeframe inference: the smallest step, or a clear error") {
  CandleSeries s = clean(10);
  CHECK(infer_timeframe(s).name() == "15m");
  CandleSeries one;
  one.push_back(s[0]);
  CHECK_THROWS_AS(infer_timeframe(one), InputError);
  CandleSeries odd;
  odd.push_back({0, 1, 1, 1, 1, 1});
  odd.push_back({7 * kMsPerMinute, 1, 1, 1, 1, 1});
  CHECK_THROWS_AS(infer_timeframe(odd), InputError);
}

TEST_CASE("generated markets pass validation with gaps and warnings but no errors") {
  for (Scenario sc : {Scenario::quiet, Scenario::volatile_market, Scenario::stress}) {
    SynthOptions o;
    o.symbols = {preset_symbol("BTC", 1), preset_symbol("SOL", 0.8), preset_symbol("PEPE", 0.5)};
    o.scenario = sc;
    o.start_ms = kT0;
    o.bars = 6000;
    for (const auto& s : generate_market(o)) {
      CAPTURE(s.symbol);
      ValidationReport r = validate(s);
      CHECK(r.ok());
      CHECK(r.timeframe.name() == "15m");
      CHECK(r.gaps.size() >= 3);
    }
  }
}

TEST_CASE("return outliers: the running-sum screen finds exactly what the two-pass statistics find, to the message") {
  for (Scenario scenario : {Scenario::quiet, Scenario::volatile_market, Scenario::stress}) {
    SynthOptions g;
    g.symbols = {preset_symbol("BTC", 1.0)};
    g.bars = 60'000;
    g.scenario = scenario;
    g.seed = 5;
    const CandleSeries s = generate_market(g)[0];
    ValidateOptions o;
    o.timeframe = Timeframe::parse("15m");
    std::vector<std::pair<std::size_t, std::string>> found, expected;
    for (const auto& f : validate(s, o).findings)
      if (f.rule == "return_outlier") found.emplace_back(f.row, f.message);
    // the definition, plainly: mean and sample deviation of the trailing returns, every bar
    std::vector<double> returns;
    for (std::size_t i = 1; i < s.size(); ++i) {
      if (!(s.close[i - 1] > 0 && s.close[i] > 0)) continue;
      const double r = std::log(s.close[i] / s.close[i - 1]);
      const std::size_t n = std::min(returns.size(), o.outlier_window);
      if (n >= 20) {
        double mean = 0, ss = 0;
        for (std::size_t k = returns.size() - n; k < returns.size(); ++k) mean += returns[k];
        mean /= static_cast<double>(n);
        for (std::size_t k = returns.size() - n; k < returns.size(); ++k) ss += (returns[k] - mean) * (returns[k] - mean);
        const double sd = std::sqrt(ss / static_cast<double>(n - 1));
        if (sd > 0 && std::fabs(r - mean) > o.outlier_sigmas * sd)
          expected.emplace_back(i, "log return " + format_short(r) + " is " + format_short(std::fabs(r - mean) / sd) + " sigmas from the trailing mean");
      }
      returns.push_back(r);
    }
    CHECK(found.size() > 10);
    CHECK(found == expected);
  }
}
