#pragma once
// What the run room's tests share: a temporary folder and a generated market with gaps.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/synth.hpp"

namespace onepath::test {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix) {
    static int n = 0;
    path = std::filesystem::temp_directory_path() / ("onepath-" + prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// BTC, ETH and SOL with gaps (1, 5 and 50 candles) and zero-volume candles.
inline std::vector<CandleSeries> market_with_gaps(std::size_t bars, std::uint64_t seed) {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1), preset_symbol("ETH", 0.8), preset_symbol("SOL", 0.7)};
  o.bars = bars;
  o.seed = seed;
  o.start_ms = 1709251200000;
  o.scenario = Scenario::stress;
  o.with_defects = true;
  return generate_market(o);
}

}  // namespace onepath::test
