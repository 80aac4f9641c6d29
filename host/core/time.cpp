#include "core/time.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "core/error.hpp"

namespace onepath {
namespace {

[[noreturn]] void bad(std::string_view text, std::string_view why) {
  throw InputError("bad timestamp '" + std::string(text) + "': " + std::string(why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at pos; false when they are not all digits.
bool read_digits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '"' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A run of digits after a decimal point, as milliseconds; digits beyond the third must be 0.
bool read_fraction_ms(std::string_view s, std::size_t& pos, std::int64_t& ms) {
  std::size_t start = pos;
  ms = 0;
  int n = 0;
  while (pos < s.size() && is_digit(s[pos])) {
    if (n < 3) {
      ms = ms * 10 + (s[pos] - '0');
    } else if (s[pos] != '0') {
      return false;
    }
    ++n;
    ++pos;
  }
  for (int i = n; i < 3; ++i) ms *= 10;
  return pos > start;
}

TimestampMs parse_epoch(std::string_view s, std::string_view original) {
  bool negative = !s.empty() && s.front() == '-';
  std::string_view digits = negative ? s.substr(1) : s;
  std::size_t dot = digits.find('.');
  std::string_view int_part = digits.substr(0, dot);
  if (int_part.empty() || int_part.size() > 19) bad(original, "not a number of a known size");
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(int_part.data(), int_part.data() + int_part.size(), n);
  if (ec != std::errc() || p != int_part.data() + int_part.size()) bad(original, "not a number");

  std::int64_t ms = 0;
  if (n < 100'000'000'000ULL) {  // seconds
    std::int64_t frac_ms = 0;
    if (dot != std::string_view::npos) {
      std::size_t pos = dot + 1;
      if (!read_fraction_ms(digits, pos, frac_ms) || pos != digits.size())
        bad(original, "epoch seconds with more than millisecond precision or a bad fraction");
    }
    ms = static_cast<std::int64_t>(n) * kMsPerSecond + frac_ms;
  } else {
    if (dot != std::string_view::npos) bad(original, "a fraction is only allowed on epoch seconds");
    std::uint64_t divisor = n < 100'000'000'000'000ULL       ? 1
                            : n < 100'000'000'000'000'000ULL ? 1'000
                                                             : 1'000'000;
    if (n % divisor != 0) bad(original, "sub-millisecond precision is not supported");
    ms = static_cast<std::int64_t>(n / divisor);
  }
  return negative ? -ms : ms;
}

}  // namespace

bool days_from_civil(int year, int month, int day, std::int64_t& days_out) {
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                     std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return false;
  days_out = sys_days{ymd}.time_since_epoch().count();
  return true;
}

TimestampMs parse_timestamp(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) bad(text, "empty");

  // An epoch number has no '-' after its first character and no ':' or 'T'.
  bool epoch = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!(is_digit(c) || c == '.' || (c == '-' && i == 0))) {
      epoch = false;
      break;
    }
  }
  if (epoch) return parse_epoch(s, text);

  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-' ||
      !read_digits(s, pos, 2, month) || pos >= s.size() || s[pos++] != '-' ||
      !read_digits(s, pos, 2, day))
    bad(text, "expected YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM] or epoch s/ms");
  std::int64_t days = 0;
  if (!days_from_civil(year, month, day, days)) bad(text, "no such date");

  std::int64_t frac_ms = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    ++pos;
    if (!read_digits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':' ||
        !read_digits(s, pos, 2, minute))
      bad(text, "expected HH:MM after the date");
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!read_digits(s, pos, 2, second)) bad(text, "expected two digits of seconds");
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        if (!read_fraction_ms(s, pos, frac_ms))
          bad(text, "bad fraction of a second (sub-millisecond digits must be 0)");
      }
    }
    if (hour > 23 || minute > 59 || second > 59) bad(text, "time of day out of range");
  }

  std::int64_t offset_min = 0;
  if (pos < s.size()) {
    char z = s[pos];
    if ((z == 'Z' || z == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if (z == '+' || z == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!read_digits(s, pos, 2, oh)) bad(text, "bad UTC offset");
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !read_digits(s, pos, 2, om)) bad(text, "bad UTC offset");
      if (oh > 23 || om > 59) bad(text, "UTC offset out of range");
      offset_min = (z == '+' ? 1 : -1) * (oh * 60 + om);
    }
    if (pos != s.size()) bad(text, "unexpected text after the time");
  }

  return days * kMsPerDay + hour * kMsPerHour + minute * kMsPerMinute + second * kMsPerSecond +
         frac_ms - offset_min * kMsPerMinute;
}

std::string format_iso(TimestampMs ms) {
  using namespace std::chrono;
  std::int64_t days = floor_div(ms, kMsPerDay);
  std::int64_t in_day = ms - days * kMsPerDay;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  int h = static_cast<int>(in_day / kMsPerHour);
  int m = static_cast<int>(in_day / kMsPerMinute % 60);
  int s = static_cast<int>(in_day / kMsPerSecond % 60);
  int frac = static_cast<int>(in_day % kMsPerSecond);
  char buf[40];
  int y = static_cast<int>(ymd.year());
  unsigned mo = static_cast<unsigned>(ymd.month()), d = static_cast<unsigned>(ymd.day());
  if (frac == 0)
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, mo, d, h, m, s);
  else
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, mo, d, h, m, s, frac);
  return buf;
}

TimestampMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace onepath
