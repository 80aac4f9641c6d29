#include "data/fingerprint.hpp"

#include "core/sha256.hpp"

namespace onepath {

std::string market_fingerprint(const std::vector<CandleSeries>& market) {
  Sha256 h;  // the columns' bytes as they are in memory (x86-64: little-endian IEEE)
  for (const auto& s : market) {
    h.update(s.symbol.data(), s.symbol.size() + 1);
    h.update(s.ts.data(), s.size() * sizeof(TimestampMs));
    for (const auto* col : {&s.open, &s.high, &s.low, &s.close, &s.volume}) h.update(col->data(), s.size() * sizeof(double));
  }
  return h.hex();
}

}  // namespace onepath
