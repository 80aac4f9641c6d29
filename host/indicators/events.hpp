#pragma once
// Events and time: cusum, calendar.
#include <array>
#include <numbers>
#include <string>

#include "core/number_format.hpp"
#include "indicators/indicator.hpp"

namespace onepath {

// Symmetric CUSUM filter on log returns r (Lopez de Prado): s+ = max(0, s+ + r),
// s- = min(0, s- + r); when s+ > threshold the event is +1 and s+ restarts at 0; when
// s- < -threshold the event is -1 and s- restarts; otherwise 0. Row 0 has no return.
class Cusum : public SeriesInput<Cusum> {
 public:
  static constexpr std::string_view kKind = "cusum";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Cusum(double threshold, Source input = Source::close) : SeriesInput(input), threshold_(threshold) {
    if (!(threshold > 0 && threshold < 1e6)) detail::throw_bad_param(kKind, "threshold", threshold, "must be a positive log-return size");
  }
  double value() const { return count_ > 1 ? event_ : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return 1; }
  bool ready() const { return count_ > 1; }
  void reset() { *this = Cusum(threshold_, input_); }
  int settle_bars() const { return 0; }  // its sums depend on where it starts
  std::string params_text() const { return "threshold=" + format_double(threshold_) + ",input=" + std::string(source_name(input_)); }
  std::size_t heap_bytes() const { return 0; }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, prev_, up_, down_, event_);
  }

 private:
  friend SeriesInput;  // calls push
  void push(double x) {
    if (count_++ == 0) {
      prev_ = x;
      return;
    }
    double r = (x > 0 && prev_ > 0) ? std::log(x / prev_) : 0.0;
    prev_ = x;
    up_ = std::fmax(0.0, up_ + r);
    down_ = std::fmin(0.0, down_ + r);
    event_ = 0;
    if (up_ > threshold_) {
      up_ = 0;
      event_ = 1;
    } else if (down_ < -threshold_) {
      down_ = 0;
      event_ = -1;
    }
  }
  double threshold_;
  std::int64_t count_ = 0;
  double prev_ = 0, up_ = 0, down_ = 0, event_ = 0;
};

// UTC calendar cycles of the bar's open time: time of day as an angle 2*pi*(ms into the
// day)/(24 h) and weekday as 2*pi*d/7 with Monday = 0. Valid from row 0.
class Calendar {
 public:
  static constexpr std::string_view kKind = "calendar";
  static constexpr std::array<std::string_view, 4> kOutputs{"hour_sin", "hour_cos", "dow_sin", "dow_cos"};
  Calendar() = default;
  Refusal update(const Candle& c) {
    std::int64_t day = floor_div(c.ts, kMsPerDay);
    double day_angle = 2.0 * std::numbers::pi * static_cast<double>(c.ts - day * kMsPerDay) / static_cast<double>(kMsPerDay);
    double week_angle = 2.0 * std::numbers::pi * static_cast<double>((day + 3) - floor_div(day + 3, 7) * 7) / 7.0;
    out_ = {std::sin(day_angle), std::cos(day_angle), std::sin(week_angle), std::cos(week_angle)};
    seen_ = true;
    return Refusal::none;
  }
  void emit(double* out) const {
    for (int i = 0; i < 4; ++i) out[i] = seen_ ? out_[i] : kNaN;
  }
  int warmup() const { return 0; }
  bool ready() const { return seen_; }
  void reset() { *this = Calendar(); }
  std::string params_text() const { return ""; }
  std::size_t heap_bytes() const { return 0; }
  template <class A>
  void fields(A& ar) {
    ar.all(seen_, out_);
  }

 private:
  bool seen_ = false;
  std::array<double, 4> out_{};
};

}  // namespace onepath
