#include <sys/mman.h>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "data/candle_io.hpp"

namespace onepath {
namespace {

enum Field { kTs, kOpen, kHigh, kLow, kClose, kVolume, kFieldCount };
constexpr const char* kFieldNames[kFieldCount] = {"ts", "open", "high", "low", "close", "volume"};
constexpr std::size_t kMaxColumns = 64;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// A fresh 4 KiB page costs 14-27 us to fault in on this kind of VM: the columns of a
// million candles (56 MB) took a quarter of `data check`. 2 MB pages for the whole-page
// interior of a column's reservation cut that twentyfold. The hint is for these buffers
// only (a hint on the heap at large made later allocations compact, halving the kernel's
// speed), and a kernel that ignores it changes nothing.
template <class T>
void prefer_huge_pages(std::vector<T>& v) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(v.data()), end = begin + v.capacity() * sizeof(T);
  const std::uintptr_t from = (begin + kHuge - 1) & ~(kHuge - 1), to = end & ~(kHuge - 1);
  if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);
}

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits a line at commas outside double quotes; returns the number of fields.
std::size_t split(std::string_view line, std::array<std::string_view, kMaxColumns>& out) {
  {  // the usual line: commas only, fields trimmed when they need it; a quote sends it to the full split
    std::size_t n = 0;
    const char* p = line.data();
    const char* const end = p + line.size();
    bool quoted = false;
    for (;;) {
      const char* q = p;
      while (q != end && *q != ',') quoted |= *q++ == '"';
      if (quoted) break;
      std::string_view field(p, static_cast<std::size_t>(q - p));
      if (n < kMaxColumns) out[n++] = !field.empty() && (blank(field.front()) || blank(field.back())) ? trim(field) : field;
      if (q == end) return n;
      p = q + 1;
    }
  }
  std::size_t n = 0, start = 0;
  bool in_quotes = false;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || (line[i] == ',' && !in_quotes)) {
      if (n < kMaxColumns) out[n++] = trim(line.substr(start, i - start));
      start = i + 1;
    } else if (line[i] == '"') {
      in_quotes = !in_quotes;
    }
  }
  return n;
}

int field_of_header(std::string_view raw) {
  std::string h;
  for (char c : raw) h += (c == ' ' || c == '-') ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* n : {"ts", "timestamp", "time", "date", "datetime", "open_time", "opentime"})
    if (h == n) return kTs;
  if (h == "open" || h == "o") return kOpen;
  if (h == "high" || h == "h") return kHigh;
  if (h == "low" || h == "l") return kLow;
  if (h == "close" || h == "c") return kClose;
  if (h == "volume" || h == "vol" || h == "v") return kVolume;
  return -1;
}

[[noreturn]] void fail(const std::string& path, std::int64_t line, std::string_view column, std::string_view value, std::string_view why) {
  throw InputError(path + ":" + std::to_string(line) + ": column '" + std::string(column) + "': value '" + std::string(value) +
                   "': " + std::string(why));
}

// Clinger's fast path: a plain decimal of at most 15 digits is the exact integer of its
// digits divided by an exact power of ten (at most 10^15), and one IEEE division rounds that
// correctly, so it gives the bits from_chars gives. Anything else is from_chars' to read.
bool plain_decimal(std::string_view s, double& out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  std::uint64_t digits = 0;
  int count = 0, after_point = -1;
  const bool negative = s.front() == '-';
  for (std::size_t i = negative; i < s.size(); ++i) {
    const char ch = s[i];
    if (ch >= '0' && ch <= '9') {
      digits = digits * 10 + static_cast<std::uint64_t>(ch - '0');
      if (++count > 15) return false;
      after_point += after_point >= 0;
    } else if (ch == '.' && after_point < 0) {
      after_point = 0;
    } else {
      return false;
    }
  }
  if (count == 0) return false;
  double v = static_cast<double>(digits);
  if (after_point > 0) v /= kPow10[after_point];
  out = negative ? -v : v;
  return true;
}

double parse_number(std::string_view s, const std::string& path, std::int64_t line, std::string_view column) {
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (double v; plain_decimal(s, v)) [[likely]]
    return v;
  // One sign at most: from_chars takes a '-' itself, so a '+' is dropped only before a digit or '.'.
  std::string_view body = (s.front() == '+' && s.size() > 1 && s[1] != '-' && s[1] != '+') ? s.substr(1) : s;
  double v = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec == std::errc::result_out_of_range) fail(path, line, column, s, "number out of range");
  if (ec != std::errc() || p != body.data() + body.size()) fail(path, line, column, s, "not a number");
  return v;
}

bool looks_numeric(std::string_view s) {
  return !s.empty() && (std::isdigit(static_cast<unsigned char>(s.front())) || s.front() == '-' || s.front() == '+');
}

}  // namespace

CandleFile parse_csv(std::string_view text, std::string path) {
  CandleFile file;
  file.path = std::move(path);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark

  std::array<int, kFieldCount> column{};  // field -> column index
  std::array<std::string_view, kMaxColumns> parts;
  bool have_header = false, first = true;
  std::size_t needed = 0;
  std::int64_t line_no = 0;
  file.series.reserve(text.size() / 48);
  file.lines.reserve(text.size() / 48);
  for (auto* column : {&file.series.open, &file.series.high, &file.series.low, &file.series.close, &file.series.volume}) prefer_huge_pages(*column);
  prefer_huge_pages(file.series.ts), prefer_huge_pages(file.lines);

  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty() || line.front() == '#') continue;

    std::size_t n = split(line, parts);
    if (first) {
      first = false;
      // Only commas separate columns; a file of another separator is said to be one.
      if (n == 1)
        for (char sep : {';', '\t', '|'})
          if (line.find(sep) != std::string_view::npos)
            throw InputError(file.path + ":" + std::to_string(line_no) + ": the columns are separated by " +
                             (sep == '\t' ? std::string("tabs") : "'" + std::string(1, sep) + "'") + "; only commas are read (e.g. tr '" +
                             (sep == '\t' ? std::string("\\t") : std::string(1, sep)) + "' ',' < file > file.csv)");
      if (!looks_numeric(parts[0])) {
        column.fill(-1);
        for (std::size_t i = 0; i < n; ++i) {
          int f = field_of_header(parts[i]);
          if (f < 0) continue;
          if (column[f] >= 0)
            throw InputError(file.path + ":" + std::to_string(line_no) + ": two columns mean '" + kFieldNames[f] + "': '" +
                             std::string(parts[column[f]]) + "' and '" + std::string(parts[i]) + "'");
          column[f] = static_cast<int>(i);
        }
        for (int f = 0; f < kFieldCount; ++f)
          if (column[f] < 0)
            throw InputError(file.path + ":" + std::to_string(line_no) + ": no column for '" + kFieldNames[f] +
                             "' in the header (expected names like ts, open, high, low, close, volume)");
        have_header = true;
      } else {
        for (int f = 0; f < kFieldCount; ++f) column[f] = f;  // headerless: the exchange order
      }
      for (int f = 0; f < kFieldCount; ++f) needed = std::max<std::size_t>(needed, column[f] + 1);
      if (have_header) continue;
    }
    if (n < needed)
      throw InputError(file.path + ":" + std::to_string(line_no) + ": expected at least " + std::to_string(needed) + " fields, found " +
                       std::to_string(n));

    Candle c;
    std::string_view ts_text = parts[column[kTs]];
    try {
      c.ts = parse_timestamp(ts_text);
    } catch (const InputError& e) {
      fail(file.path, line_no, "ts", ts_text, e.what());
    }
    c.open = parse_number(parts[column[kOpen]], file.path, line_no, "open");
    c.high = parse_number(parts[column[kHigh]], file.path, line_no, "high");
    c.low = parse_number(parts[column[kLow]], file.path, line_no, "low");
    c.close = parse_number(parts[column[kClose]], file.path, line_no, "close");
    c.volume = parse_number(parts[column[kVolume]], file.path, line_no, "volume");
    file.series.push_back(c);
    file.lines.push_back(line_no);
  }
  return file;
}

std::string to_csv(const CandleSeries& s, TsFormat ts_format) {
  std::string out;
  out.reserve(64 + s.size() * 72);
  out += "ts,open,high,low,close,volume\n";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (ts_format == TsFormat::iso)
      out += format_iso(s.ts[i]);
    else
      out += std::to_string(s.ts[i]);
    for (double v : {s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]}) {
      out += ',';
      append_double(out, v);
    }
    out += '\n';
  }
  return out;
}

}  // namespace onepath
