#include <doctest/doctest.h>

#include <map>

#include "core/error.hpp"
#include "data/resample.hpp"
#include "data/synth.hpp"

using namespace onepath;

namespace {
constexpr TimestampMs kT0 = 1709251200000;  // 2024-03-01T00:00Z
const Timeframe k15m = Timeframe::parse("15m");
const Timeframe k1h = Timeframe::parse("1h");

Candle bar(int quarter, double o, double h, double l, double c, double v) {
  return {kT0 + quarter * 15 * kMsPerMinute, o, h, l, c, v};
}

// The plain definition: group by the hour each candle opens in; a group is complete when
// it has its last quarter or a later group exists.
CandleSeries reference(const CandleSeries& s, Timeframe base, Timeframe target, bool keep_partial) {
  std::map<TimestampMs, Candle> groups;
  std::map<TimestampMs, bool> has_last;
  for (std::size_t i = 0; i < s.size(); ++i) {
    TimestampMs k = target.floor(s.ts[i]);
    auto [it, fresh] = groups.try_emplace(k, Candle{k, s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]});
    if (!fresh) {
      it->second.high = std::max(it->second.high, s.high[i]);
      it->second.low = std::min(it->second.low, s.low[i]);
      it->second.close = s.close[i];
      it->second.volume += s.volume[i];
    }
    has_last[k] = has_last[k] || s.ts[i] + base.duration_ms() == k + target.duration_ms();
  }
  CandleSeries out;
  for (auto it = groups.begin(); it != groups.end(); ++it)
    if (std::next(it) != groups.end() || has_last[it->first] || keep_partial) out.push_back(it->second);
  return out;
}
}  // namespace

TEST_CASE("four quarters make an hour: open first, close last, high max, low min, volume sum") {
  CandleSeries s;
  s.push_back(bar(0, 10, 11, 9, 10.5, 1));
  s.push_back(bar(1, 10.5, 13, 10, 12, 2));
  s.push_back(bar(2, 12, 12.5, 8, 9, 3));
  s.push_back(bar(3, 9, 10, 8.5, 9.5, 4));
  CandleSeries h = resample(s, k15m, k1h);
  REQUIRE(h.size() == 1);
  CHECK(h[0] == Candle{kT0, 10, 13, 8, 9.5, 10});
}

TEST_CASE("a bar closes at its last base candle, or at the first candle of a later bar") {
  Resampler r(k15m, k1h);
  std::vector<Candle> done;
  auto sink = [&](const Candle& c) { done.push_back(c); };
  r.push(bar(0, 1, 1, 1, 1, 1), sink);
  r.push(bar(1, 2, 2, 2, 2, 1), sink);
  CHECK(done.empty());  // the hour's 00:30 and 00:45 are missing: not complete yet
  REQUIRE(r.partial().has_value());
  CHECK(r.partial()->close == 2);
  r.push(bar(7, 3, 3, 3, 3, 1), sink);  // 01:45, the last quarter of the next hour
  REQUIRE(done.size() == 2);            // closes 00:00 (late) and 01:00 (its last quarter) at once
  CHECK(done[0] == Candle{kT0, 1, 2, 1, 2, 2});
  CHECK(done[1] == Candle{kT0 + kMsPerHour, 3, 3, 3, 3, 1});
  CHECK_FALSE(r.partial().has_value());
}

TEST_CASE("resampling across gaps equals the plain group-by, for many timeframe pairs") {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1)};
  o.start_ms = kT0 + 7 * kMsPerMinute * 0;
  o.bars = 5000;
  o.scenario = Scenario::stress;  // two rounds of gaps of 1, 5 and 50
  for (const char* base : {"1m", "5m", "15m", "1h"}) {
    o.timeframe = Timeframe::parse(base);
    CandleSeries s = generate_market(o)[0];
    for (const auto& target : Timeframe::all()) {
      if (target.duration_ms() <= o.timeframe.duration_ms() || target.duration_ms() % o.timeframe.duration_ms()) continue;
      for (bool keep : {false, true}) {
        CAPTURE(base);
        CAPTURE(target.name());
        CAPTURE(keep);
        CandleSeries got = resample(s, o.timeframe, target, keep), want = reference(s, o.timeframe, target, keep);
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == want[i]);
      }
    }
  }
}

TEST_CASE("resampling to a shorter or non-multiple timeframe is refused") {
  CHECK_THROWS_AS(Resampler(k1h, k15m), InputError);
  CHECK_THROWS_AS(Resampler(k1h, k1h), InputError);
  CHECK_THROWS_AS(Resampler(Timeframe::parse("8h"), Timeframe::parse("12h")), InputError);
}
