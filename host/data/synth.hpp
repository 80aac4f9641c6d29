#pragma once
// A deterministic synthetic crypto market: the same options and seed give the same
// candles, byte for byte. Volatility regimes, trends, jumps, a flash crash, gaps of 1, 5
// and 50 candles and zero-volume candles, for several symbols that follow a leader with a
// chosen correlation. Everything is UTC, so ranges across daylight-saving changes are
// just more bars.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/timeframe.hpp"

namespace onepath {

enum class Scenario { quiet, volatile_market, stress };
Scenario parse_scenario(std::string_view name);  // quiet | volatile | stress; else InputError
std::string_view scenario_name(Scenario s);

struct SynthSymbol {
  std::string name;
  double start_price = 100;
  double vol_multiplier = 1.0;  // relative to the scenario's base volatility
  double correlation = 0.8;     // of its shocks with the leader's (the first symbol: 1)
};

// Known names get realistic presets (BTC 60000, ETH 3000, SOL 150, ...); others start at 100.
SynthSymbol preset_symbol(const std::string& name, double correlation);

struct SynthOptions {
  std::vector<SynthSymbol> symbols;  // the first is the leader
  Timeframe timeframe = Timeframe::parse("15m");
  TimestampMs start_ms = 0;
  std::size_t bars = 10'000;  // bars in the range, before gaps remove some
  std::uint64_t seed = 1;
  Scenario scenario = Scenario::volatile_market;
  bool with_defects = true;  // gaps and zero-volume candles
};

std::vector<CandleSeries> generate_market(const SynthOptions& options);

}  // namespace onepath
