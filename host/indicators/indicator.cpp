#include "indicators/indicator.hpp"

#include "core/number_format.hpp"
#include "indicators/volatility.hpp"

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
  throw InputError(std::string(kind) + ": parameter '" + std::string(param) + "' = " + format_double(value) + ": " +
                   std::string(why));
}

void throw_non_finite(std::string_view kind, const Candle& c) {
  std::string what;
  const char* names[] = {"open", "high", "low", "close", "volume"};
  const double v[] = {c.open, c.high, c.low, c.close, c.volume};
  for (int i = 0; i < 5; ++i)
    if (!std::isfinite(v[i])) what += (what.empty() ? "" : ", ") + std::string(names[i]) + " = " + format_double(v[i]);
  throw InputError(std::string(kind) + ": candle " + format_iso(c.ts) + " has " + what +
                   " (indicators take finite prices and volumes; run 'onepath data check')");
}

void throw_infinite_value(std::string_view kind, double x) {
  throw InputError(std::string(kind) + ": input value " + format_double(x) + " is infinite");
}

void throw_not_positive(std::string_view kind, const Candle& c) {
  throw InputError(std::string(kind) + ": candle " + format_iso(c.ts) + " has a price at or below 0 (open " +
                   format_double(c.open) + ", high " + format_double(c.high) + ", low " + format_double(c.low) +
                   ", close " + format_double(c.close) + "); this estimator takes logarithms of prices");
}

void throw_not_positive_value(std::string_view kind, double x) {
  throw InputError(std::string(kind) + ": input value " + format_double(x) + " is not positive; log returns need positive values");
}

}  // namespace detail

std::string Bbands::params_text() const {
  return "period=" + std::to_string(period_) + ",k=" + format_double(k_) + ",input=" + std::string(source_name(input_));
}

}  // namespace onepath
