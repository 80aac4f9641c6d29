#include "core/timeframe.hpp"

#include <array>

#include "core/error.hpp"

namespace onepath {
namespace {

constexpr TimestampMs kFirstMonday = 4 * kMsPerDay;  // 1970-01-05, the epoch was a Thursday

constexpr std::array<Timeframe, 13> kTimeframes{{
    {"1m", 1 * kMsPerMinute, 0},   {"3m", 3 * kMsPerMinute, 0},   {"5m", 5 * kMsPerMinute, 0},
    {"15m", 15 * kMsPerMinute, 0}, {"30m", 30 * kMsPerMinute, 0}, {"1h", 1 * kMsPerHour, 0},
    {"2h", 2 * kMsPerHour, 0},     {"4h", 4 * kMsPerHour, 0},     {"6h", 6 * kMsPerHour, 0},
    {"8h", 8 * kMsPerHour, 0},     {"12h", 12 * kMsPerHour, 0},   {"1d", kMsPerDay, 0},
    {"1w", 7 * kMsPerDay, kFirstMonday},
}};

std::string supported_names() {
  std::string out;
  for (const auto& tf : kTimeframes) {
    if (!out.empty()) out += ' ';
    out += tf.name();
  }
  return out;
}

}  // namespace

std::span<const Timeframe> Timeframe::all() { return kTimeframes; }

Timeframe Timeframe::parse(std::string_view name) {
  for (const auto& tf : kTimeframes)
    if (tf.name() == name) return tf;
  throw InputError("unknown timeframe '" + std::string(name) + "' (supported: " + supported_names() + ")");
}

Timeframe Timeframe::from_duration(std::int64_t ms) {
  for (const auto& tf : kTimeframes)
    if (tf.duration_ms() == ms) return tf;
  throw InputError("no supported timeframe lasts " + std::to_string(ms) + " ms (supported: " +
                   supported_names() + ")");
}

}  // namespace onepath
