#pragma once
// Checks a candle series and reports every defect. Errors make the data unusable
// (ordering, alignment, OHLC sanity, non-finite numbers, negative volume); warnings are
// quality alerts that do not stop the work (return outliers, volume drops, long wicks);
// gaps (missing candles) are counted and listed.
#include <optional>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/timeframe.hpp"

namespace onepath {

struct ValidateOptions {
  std::optional<Timeframe> timeframe;  // inferred from the data when absent
  double outlier_sigmas = 5.0;         // |log return| beyond this many trailing sigmas
  std::size_t outlier_window = 100;    // trailing returns that estimate sigma
  double volume_drop = 0.80;           // volume below (1 - this) of the trailing mean
  std::size_t volume_window = 20;
  double wick_to_body = 5.0;  // (upper + lower wick) / |close - open|
};

enum class Severity { error, warning };

struct Finding {
  Severity severity;
  std::string rule;    // e.g. "ts_disorder", "return_outlier"
  std::size_t row;     // 0-based row in the series
  std::string column;  // the column at fault, empty when the whole row is
  double value;        // the offending value (NaN when not a number)
  std::string message;
};

struct Gap {
  TimestampMs after_ts;   // the last candle before the gap
  TimestampMs before_ts;  // the first candle after it
  std::int64_t missing;   // candles missing between them
  std::size_t row;        // row of the candle after the gap
};

struct ValidationReport {
  Timeframe timeframe = Timeframe::parse("1m");
  bool timeframe_inferred = false;
  std::size_t rows = 0;
  std::vector<Finding> findings;
  std::vector<Gap> gaps;
  std::int64_t missing_candles = 0;

  std::size_t count(Severity s) const;
  bool ok() const { return count(Severity::error) == 0; }
};

// The smallest positive step between consecutive timestamps, as a supported timeframe;
// when that step is not one (a stray misaligned candle), the most common step. Throws
// InputError when there are fewer than two candles or neither step is a timeframe.
Timeframe infer_timeframe(const CandleSeries& series);

ValidationReport validate(const CandleSeries& series, const ValidateOptions& options = {});

}  // namespace onepath
