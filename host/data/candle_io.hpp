#pragma once
// Reading and writing candle files. Readers keep the file line of every row so that a
// later check can name it.
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"

namespace onepath {

struct CandleFile {
  std::string path;
  CandleSeries series;
  std::vector<std::int64_t> lines;  // the 1-based file line where row i starts
};

// By extension: .json is the exchange form [[ts, o, h, l, c, v, ...], ...], anything else
// CSV. The series' symbol is the file name without folder and extension.
// Throws InputError naming file, line, column and value on anything unreadable.
CandleFile read_candles(const std::string& path);

// CSV with a header naming ts/timestamp/time/date/datetime/open_time and
// open/high/low/close/volume in any order and case (extra columns ignored), or no header
// at all, in which case the columns are ts, open, high, low, close, volume[, ...].
// Timestamps take every form parse_timestamp accepts. An empty number field reads as NaN.
CandleFile parse_csv(std::string_view text, std::string path_for_errors);
CandleFile parse_json(std::string_view text, std::string path_for_errors);

enum class TsFormat { iso, epoch_ms };
// Header ts,open,high,low,close,volume; numbers in shortest round-trip form, NaN empty.
std::string to_csv(const CandleSeries& series, TsFormat ts_format = TsFormat::iso);

std::string read_file(const std::string& path);  // throws InputError when unreadable
std::string symbol_from_path(std::string_view path);

}  // namespace onepath
