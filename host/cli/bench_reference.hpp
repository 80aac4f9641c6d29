#pragma once
// The yardstick of the indicator and enrichment benchmarks: the plain C loop of a kind's
// TA-Lib definition (plain_loops.h), run with an indicator configuration's parameters.
#include <optional>
#include <vector>

#include "core/candle.hpp"
#include "indicators/registry.hpp"

namespace onepath::cli {

class PlainLoops {
 public:
  explicit PlainLoops(std::size_t rows) : out_(4, std::vector<double>(rows, 0.0)) {}  // touched now, not while timed
  // Seconds for one pass of the kind's plain loop over `s`, or nothing when there is no
  // plain loop for the kind (or for its input: a candle field other than close).
  std::optional<double> seconds(const IndicatorConfig& config, const CandleSeries& s);
  const std::vector<double>& output(std::size_t k) const { return out_[k]; }

 private:
  std::vector<std::vector<double>> out_;
};

}  // namespace onepath::cli
