#pragma once
// One OHLCV bar, and many of them stored column by column.
#include <cstddef>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace onepath {

struct Candle {
  TimestampMs ts = 0;  // the bar's open time, UTC ms
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
  friend bool operator==(const Candle&, const Candle&) = default;
};

// Columnar: each field is one contiguous vector, so an indicator pass over `close`
// touches only closes.
struct CandleSeries {
  std::string symbol;
  std::vector<TimestampMs> ts;
  std::vector<double> open, high, low, close, volume;

  std::size_t size() const { return ts.size(); }
  bool empty() const { return ts.empty(); }
  void clear() { ts.clear(), open.clear(), high.clear(), low.clear(), close.clear(), volume.clear(); }
  void reserve(std::size_t n) {
    ts.reserve(n), open.reserve(n), high.reserve(n), low.reserve(n), close.reserve(n), volume.reserve(n);
  }
  void push_back(const Candle& c) {
    ts.push_back(c.ts), open.push_back(c.open), high.push_back(c.high), low.push_back(c.low),
        close.push_back(c.close), volume.push_back(c.volume);
  }
  Candle operator[](std::size_t i) const { return {ts[i], open[i], high[i], low[i], close[i], volume[i]}; }
};

}  // namespace onepath
