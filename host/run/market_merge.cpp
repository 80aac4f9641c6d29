#include "run/market_merge.hpp"

#include <limits>

namespace onepath {

bool MarketMerge::next(TimeSlice& out) {
  TimestampMs ts = std::numeric_limits<TimestampMs>::max();
  for (std::size_t s = 0; s < market_.size(); ++s)
    if (next_[s] < market_[s].size()) ts = std::min(ts, market_[s].ts[next_[s]]);
  if (ts == std::numeric_limits<TimestampMs>::max()) return false;
  out.ts = ts;
  out.candles.clear();
  for (std::size_t s = 0; s < market_.size(); ++s)
    if (next_[s] < market_[s].size() && market_[s].ts[next_[s]] == ts) out.candles.emplace_back(static_cast<int>(s), market_[s][next_[s]++]);
  return true;
}

void MarketMerge::skip_through(TimestampMs ts) {
  for (std::size_t s = 0; s < market_.size(); ++s)
    while (next_[s] < market_[s].size() && market_[s].ts[next_[s]] <= ts) ++next_[s];
}

std::size_t MarketMerge::total() const {
  std::size_t n = 0;
  for (const auto& m : market_) n += m.size();
  return n;
}

}  // namespace onepath
