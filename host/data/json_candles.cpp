// The exchange-export form: [[ts_ms, open, high, low, close, volume, ...], ...]. Numbers
// may be quoted strings (as Binance sends prices); elements past the sixth are ignored.
#include <charconv>
#include <limits>

#include "core/error.hpp"
#include "data/candle_io.hpp"

namespace onepath {
namespace {

class Parser {
 public:
  Parser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  CandleFile parse() {
    CandleFile file;
    file.path = path_;
    skip_ws();
    expect('[');
    skip_ws();
    if (peek() == ']') {
      ++pos_;
    } else {
      for (;;) {
        skip_ws();
        std::int64_t row_line = line_;
        file.series.push_back(parse_row());
        file.lines.push_back(row_line);
        skip_ws();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        break;
      }
    }
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the closing ']'");
    return file;
  }

 private:
  static constexpr const char* kNames[6] = {"ts", "open", "high", "low", "close", "volume"};

  Candle parse_row() {
    expect('[');
    double v[6];
    std::int64_t ts = 0;
    int n = 0;
    for (;;) {
      skip_ws();
      std::string_view tok = token();
      if (n == 0) {
        try {
          ts = parse_timestamp(tok);
        } catch (const InputError& e) {
          fail_value("ts", tok, e.what());
        }
      } else if (n < 6) {
        v[n] = number(tok, kNames[n]);
      }
      ++n;
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      break;
    }
    if (n < 6) fail("a candle needs 6 elements [ts, open, high, low, close, volume], found " + std::to_string(n));
    return {ts, v[1], v[2], v[3], v[4], v[5]};
  }

  // A number, a quoted string or null, as text (null reads as an empty field).
  std::string_view token() {
    if (peek() == '"') {
      std::size_t end = s_.find('"', pos_ + 1);
      if (end == std::string_view::npos) fail("unterminated string");
      std::string_view t = s_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
      return t;
    }
    std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != ']' && !is_ws(s_[pos_])) ++pos_;
    std::string_view t = s_.substr(start, pos_ - start);
    if (t.empty()) fail("expected a value");
    return t == "null" ? std::string_view{} : t;
  }

  double number(std::string_view t, const char* column) {
    if (t.empty()) return std::numeric_limits<double>::quiet_NaN();
    double v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size()) fail_value(column, t, "not a number");
    return v;
  }

  static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  void skip_ws() {
    while (pos_ < s_.size() && is_ws(s_[pos_])) {
      if (s_[pos_] == '\n') ++line_;
      ++pos_;
    }
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  [[noreturn]] void fail(const std::string& why) { throw InputError(path_ + ":" + std::to_string(line_) + ": " + why); }
  [[noreturn]] void fail_value(const char* column, std::string_view value, const std::string& why) {
    fail(std::string("column '") + column + "': value '" + std::string(value) + "': " + why);
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t pos_ = 0;
  std::int64_t line_ = 1;
};

}  // namespace

CandleFile parse_json(std::string_view text, std::string path) { return Parser(text, path).parse(); }

}  // namespace onepath
