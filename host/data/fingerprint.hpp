#pragma once
// What a run's candles are, in one hash: a journal's data_fingerprint, `runs verify`'s
// check, and a model manifest's record of the other symbols its features read.
#include <string>
#include <vector>

#include "core/candle.hpp"

namespace onepath {

// SHA-256 over every candle of every symbol: the name, then each column's bytes.
std::string market_fingerprint(const std::vector<CandleSeries>& market);

}  // namespace onepath
