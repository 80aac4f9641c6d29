// The live quality rules raise, candle by candle, the warnings `data check` lists for the
// whole series: the same rules, windows and thresholds.
#include <doctest/doctest.h>

#include <set>
#include <tuple>

#include "data/quality_stream.hpp"
#include "data/synth.hpp"

using namespace onepath;

TEST_CASE("QualityStream over a series raises exactly validate()'s return outliers, volume drops and long wicks") {
  for (Scenario sc : {Scenario::stress, Scenario::volatile_market}) {
    SynthOptions o;
    o.symbols = {preset_symbol("BTC", 1)};
    o.bars = 20000;
    o.seed = 4;
    o.scenario = sc;
    o.with_defects = true;
    const CandleSeries s = generate_market(o)[0];
    std::set<std::tuple<std::string, std::size_t>> batch, streamed;
    for (const Finding& f : validate(s).findings)
      if (f.rule == "return_outlier" || f.rule == "volume_drop" || f.rule == "wick_to_body") batch.insert({f.rule, f.row});
    QualityStream q;
    for (std::size_t i = 0; i < s.size(); ++i)
      for (const Finding& f : q.push(s[i])) streamed.insert({f.rule, f.row});
    std::size_t outliers = 0, drops = 0;
    for (const auto& [rule, row] : batch) outliers += rule == "return_outlier", drops += rule == "volume_drop";
    CHECK(outliers > 0);  // the generated market has some of each, else this proves little
    CHECK(drops > 0);
    CHECK(streamed == batch);
  }
}
