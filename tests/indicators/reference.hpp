#pragma once
// The plainest loops written from each indicator's definition (docs/indicators.md):
// every window recomputed from scratch, in long double where it helps. Slow on purpose.
#include <vector>

#include "core/candle.hpp"
#include "indicators/registry.hpp"

namespace onepath::reference {

// outputs[k][row], in the order of the kind's outputs; NaN before the first valid row.
std::vector<std::vector<double>> compute(const IndicatorConfig& config, const CandleSeries& s);

}  // namespace onepath::reference
