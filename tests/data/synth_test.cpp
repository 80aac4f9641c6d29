#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "data/candle_io.hpp"
#include "data/synth.hpp"
#include "data/validate.hpp"

using namespace onepath;

namespace {
SynthOptions market(std::uint64_t seed, Scenario sc = Scenario::volatile_market) {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1), preset_symbol("ETH", 0.85), preset_symbol("SOL", 0.7)};
  o.seed = seed;
  o.scenario = sc;
  o.start_ms = 1709251200000;  // 2024-03-01: 10000 15m bars cross US and EU DST changes
  o.bars = 10'000;
  return o;
}

std::string bytes_of(const std::vector<CandleSeries>& m) {
  std::string all;
  for (const auto& s : m) all += to_csv(s);
  return all;
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= static_cast<double>(a.size()), mb /= static_cast<double>(b.size());
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
  return sab / std::sqrt(saa * sbb);
}
}  // namespace

TEST_CASE("same seed, same bytes, another seed, other bytes") {
  for (Scenario sc : {Scenario::quiet, Scenario::volatile_market, Scenario::stress}) {
    std::string a = bytes_of(generate_market(market(42, sc)));
    CHECK(a == bytes_of(generate_market(market(42, sc))));
    CHECK(a != bytes_of(generate_market(market(43, sc))));
  }
}

TEST_CASE("the market has gaps of 1, 5 and 50 candles and zero-volume candles") {
  auto m = generate_market(market(7));
  for (const auto& s : m) {
    CAPTURE(s.symbol);
    ValidationReport r = validate(s);
    CHECK(r.ok());
    std::vector<std::int64_t> sizes;
    for (const auto& g : r.gaps) sizes.push_back(g.missing);
    std::sort(sizes.begin(), sizes.end());
    CHECK(sizes == std::vector<std::int64_t>{1, 5, 50});
    CHECK(std::count(s.volume.begin(), s.volume.end(), 0.0) >= 1);
  }
  CHECK(validate(generate_market([] { auto o = market(7); o.with_defects = false; return o; }())[0]).gaps.empty());
}

TEST_CASE("followers are correlated with the leader as asked") {
  auto o = market(3, Scenario::quiet);
  o.with_defects = false;
  o.symbols = {preset_symbol("BTC", 1), preset_symbol("ALT", 0.9), preset_symbol("IND", 0.0)};
  auto m = generate_market(o);
  auto returns = [](const CandleSeries& s) {
    std::vector<double> r;
    for (std::size_t i = 1; i < s.size(); ++i) r.push_back(std::log(s.close[i] / s.close[i - 1]));
    return r;
  };
  double high = correlation(returns(m[0]), returns(m[1]));
  double none = correlation(returns(m[0]), returns(m[2]));
  CHECK(high > 0.75);
  CHECK(std::fabs(none) < 0.35);  // shared regimes and jumps add a little
}

TEST_CASE("timestamps cross daylight-saving dates as plain UTC steps") {
  auto o = market(5);
  o.with_defects = false;
  auto s = generate_market(o)[0];
  for (std::size_t i = 1; i < s.size(); ++i) REQUIRE(s.ts[i] - s.ts[i - 1] == 15 * kMsPerMinute);
  CHECK(s.ts.front() < parse_timestamp("2024-03-10T07:00:00Z"));  // US spring forward inside
  CHECK(s.ts.back() > parse_timestamp("2024-03-31T01:00:00Z"));   // EU spring forward inside
}

TEST_CASE("the stress scenario has a flash crash of the leader") {
  auto o = market(11, Scenario::stress);
  o.with_defects = false;
  auto s = generate_market(o)[0];
  std::size_t at = o.bars * 3 / 5;
  double drop = s.close[at + 2] / s.open[at];
  CHECK(drop < 0.75);
}

TEST_CASE("what the generator writes, the reader reads: no bar past 9999-12-31 (ISO years have four digits)") {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1)};
  o.timeframe = Timeframe::parse("1w");
  o.start_ms = parse_timestamp("9999-06-01");
  o.bars = 100;
  CHECK_THROWS_WITH_AS(generate_market(o), doctest::Contains("past 9999-12-31"), InputError);
  o.bars = 20;
  const CandleSeries s = generate_market(o)[0];
  CHECK(parse_csv(to_csv(s), "y.csv").series.size() == s.size());
}
