#pragma once
// The quality rules of `onepath data check` (validate.hpp: return outliers beyond 5 trailing
// sigmas, volume drops of 80 % below the trailing mean, wicks 5 times the body), one candle
// at a time, so a paper session applies them to the stream it receives (seed 002 §1). The
// same definitions, windows and thresholds (ValidateOptions): a series streamed here raises
// the warnings `data check` lists for it.
#include <deque>
#include <vector>

#include "data/validate.hpp"

namespace onepath {

class QualityStream {
 public:
  explicit QualityStream(ValidateOptions options = {}) : o_(options) {}
  // The warnings this candle raises; Finding::row counts the candles pushed.
  std::vector<Finding> push(const Candle& c);

 private:
  ValidateOptions o_;
  std::deque<double> returns_, volumes_;
  double prev_close_ = 0;
  bool has_prev_ = false;
  std::size_t rows_ = 0;
};

}  // namespace onepath
