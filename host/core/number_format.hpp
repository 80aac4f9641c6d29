#pragma once
// Doubles as text that reads back to the same double (shortest round-trip form).
#include <charconv>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace onepath {

// Appends the shortest text that parses back to exactly v; NaN appends nothing (an
// empty CSV field), infinities append "inf" / "-inf".
inline void append_double(std::string& out, double v) {
  if (v != v) return;
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

inline std::string format_double(double v) {
  if (v != v) return "nan";
  std::string s;
  append_double(s, v);
  return s;
}

// Six significant digits, for numbers inside messages meant for people.
inline std::string format_short(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Both NaN, or the same bits: what "identical" means for a parity claim.
inline bool same_value(double a, double b) {
  if (a != a && b != b) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The same value, or (relative > 0: a declared tolerance) both finite and apart by at most
// `relative` times the larger magnitude.
inline bool same_within(double a, double b, double relative) {
  if (same_value(a, b)) return true;
  if (!(relative > 0) || a != a || b != b) return false;
  const double d = a > b ? a - b : b - a, m = (a < 0 ? -a : a) > (b < 0 ? -b : b) ? (a < 0 ? -a : a) : (b < 0 ? -b : b);
  return d <= relative * m;
}

// "1.25 (0x3ff4000000000000)": a value and its bit pattern, for a divergence report.
inline std::string value_and_bits(double v) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  char hex[24];
  std::snprintf(hex, sizeof hex, "0x%016" PRIx64, bits);
  return format_double(v) + " (" + hex + ")";
}

}  // namespace onepath
