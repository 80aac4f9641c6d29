#pragma once
// Candles of several symbols in time order, one timestamp at a time; at one timestamp, the
// symbols in their configured order. The backtest feeds a Session from it, and so does a
// paper session replaying files: one merge for both.
#include <utility>
#include <vector>

#include "core/candle.hpp"

namespace onepath {

struct TimeSlice {
  TimestampMs ts = 0;
  std::vector<std::pair<int, Candle>> candles;  // (symbol index, its candle at ts)
};

class MarketMerge {
 public:
  explicit MarketMerge(const std::vector<CandleSeries>& market) : market_(market), next_(market.size(), 0) {}
  // The next timestamp's candles into `out` (its buffer reused); false at the end.
  bool next(TimeSlice& out);
  // Skips every candle at or before ts (resuming after it).
  void skip_through(TimestampMs ts);
  std::size_t total() const;

 private:
  const std::vector<CandleSeries>& market_;
  std::vector<std::size_t> next_;
};

}  // namespace onepath
