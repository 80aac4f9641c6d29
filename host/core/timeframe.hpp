#pragma once
// Bar durations and the alignment of timestamps to bars. Every bar starts at a multiple
// of its duration since the Unix epoch, except 1w, whose bars start Monday 00:00 UTC.
#include <span>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace onepath {

class Timeframe {
 public:
  // Throws InputError listing the supported names when `name` is not one of them.
  static Timeframe parse(std::string_view name);
  // The supported timeframe with this duration; throws InputError when there is none.
  static Timeframe from_duration(std::int64_t ms);
  static std::span<const Timeframe> all();

  std::int64_t duration_ms() const { return duration_ms_; }
  std::string_view name() const { return name_; }

  // The open time of the bar that contains ts.
  TimestampMs floor(TimestampMs ts) const { return origin_ms_ + floor_div(ts - origin_ms_, duration_ms_) * duration_ms_; }
  // ts when it is a bar open time, else the next bar open time.
  TimestampMs ceil(TimestampMs ts) const { TimestampMs f = floor(ts); return f == ts ? f : f + duration_ms_; }
  bool is_aligned(TimestampMs ts) const { return floor(ts) == ts; }
  TimestampMs bar_open(TimestampMs ts) const { return floor(ts); }
  // The end of the bar that contains ts, exclusive: the next bar's open time.
  TimestampMs bar_close(TimestampMs ts) const { return floor(ts) + duration_ms_; }

  friend bool operator==(const Timeframe& a, const Timeframe& b) { return a.duration_ms_ == b.duration_ms_; }

  constexpr Timeframe(std::string_view name, std::int64_t duration_ms, std::int64_t origin_ms)
      : name_(name), duration_ms_(duration_ms), origin_ms_(origin_ms) {}

 private:
  std::string_view name_;
  std::int64_t duration_ms_;
  std::int64_t origin_ms_;
};

}  // namespace onepath
