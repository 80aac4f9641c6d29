#pragma once
// A run as one HTML page a person can look at (see README.md).
#include <cstddef>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "exec/kernel.hpp"
#include "run/backtest.hpp"
#include "store/journal.hpp"

namespace onepath {

struct ReportInput {
  std::string title;  // "backtest run 3"
  RunInfo run;        // config text, files, metrics JSON, when and what
  std::vector<std::string> symbols;
  std::vector<TradeRecord> trades;
  std::vector<EquityPoint> equity;
  std::vector<CandleSeries> prices;  // empty when the data could not be read again
  std::string prices_note;           // then: why
};

struct ChartLibrary {
  std::string js, css;
};
// dygraphs from Debian's libjs-dygraphs (or the folder $ONEPATH_DYGRAPHS): InputError
// naming the package when it is not installed.
ChartLibrary read_chart_library();

// The page, with the library inlined.
std::string render_report(const ReportInput& input, const ChartLibrary& library);

// A journaled run; its prices are read again from the data its config names (when they
// are still there and unchanged: the data fingerprint must match).
ReportInput report_from_journal(Journal& journal, std::int64_t run_id);
// A run just made, from its own result (no journal needed).
ReportInput report_from_result(const RunConfig& config, const BacktestResult& result);

// Indices of the points to draw of n: each of about max_points / 4 buckets keeps its first,
// lowest, highest and last point (in order, each once), so peaks and troughs survive.
// All of them when n <= max_points.
std::vector<std::size_t> decimate(const double* values, std::size_t n, std::size_t max_points);

}  // namespace onepath
