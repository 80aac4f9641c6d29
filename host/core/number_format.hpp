#pragma once
// Doubles as text that reads back to the same double (shortest round-trip form).
#include <charconv>
#include <cstdio>
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

}  // namespace onepath
