#include "indicators/indicator.hpp"

#include "core/number_format.hpp"

namespace onepath {
namespace {
constexpr std::string_view kSourceNames[] = {"open", "high", "low", "close", "volume", "hl2", "hlc3", "ohlc4"};
}

Source parse_source(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kSourceNames); ++i)
    if (kSourceNames[i] == name) return static_cast<Source>(i);
  throw InputError("unknown input '" + std::string(name) + "' (open, high, low, close, volume, hl2, hlc3, ohlc4)");
}

std::string_view source_name(Source s) { return kSourceNames[static_cast<int>(s)]; }

namespace detail {

void throw_bad_param(std::string_view kind, std::string_view param, double value, std::string_view why) {
  throw InputError(std::string(kind) + ": parameter '" + std::string(param) + "' = " + format_double(value) + ": " + std::string(why));
}

void throw_refused_candle(std::string_view kind, Refusal why, const Candle& c) {
  if (why == Refusal::not_positive)
    throw InputError(std::string(kind) + ": candle " + format_iso(c.ts) + " has a price at or below 0 (open " + format_double(c.open) + ", high " +
                     format_double(c.high) + ", low " + format_double(c.low) + ", close " + format_double(c.close) +
                     "); this kind takes logarithms of prices");
  std::string what;
  const char* names[] = {"open", "high", "low", "close", "volume"};
  const double v[] = {c.open, c.high, c.low, c.close, c.volume};
  for (int i = 0; i < 5; ++i)
    if (!std::isfinite(v[i])) what += (what.empty() ? "" : ", ") + std::string(names[i]) + " = " + format_double(v[i]);
  throw InputError(std::string(kind) + ": candle " + format_iso(c.ts) + " has " + what +
                   " (indicators take finite prices and volumes; run 'onepath data check')");
}

void throw_refused_value(std::string_view kind, Refusal why, double x) {
  throw InputError(std::string(kind) + ": input value " + format_double(x) +
                   (why == Refusal::not_positive ? " is not positive; this kind takes logarithms" : " is infinite"));
}

}  // namespace detail

}  // namespace onepath
