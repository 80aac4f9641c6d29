#pragma once
// Volume: obv, mfi, volume_ratio.
#include <array>
#include <string>

#include "indicators/indicator.hpp"
#include "indicators/window.hpp"

namespace onepath {

// On-balance volume: volume[0] at row 0, then +volume when the input rose, -volume when
// it fell, unchanged when equal.
class Obv {
 public:
  static constexpr std::string_view kKind = "obv";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Obv(Source input = Source::close) : input_(input) {}
  Refusal update(const Candle& c) {
    double x = select(c, input_);
    if (!all_finite(x, c.volume)) [[unlikely]]
      return Refusal::not_finite;
    if (count_++ == 0) {
      obv_ = c.volume;
    } else if (x > prev_) {
      obv_ += c.volume;
    } else if (x < prev_) {
      obv_ -= c.volume;
    }
    prev_ = x;
    return Refusal::none;
  }
  double value() const { return count_ > 0 ? obv_ : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return 0; }
  bool ready() const { return count_ > 0; }
  void reset() { *this = Obv(input_); }
  int settle_bars() const { return 0; }  // a running total: depends on where it starts
  std::string params_text() const { return "input=" + std::string(source_name(input_)); }
  std::size_t heap_bytes() const { return 0; }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, prev_, obv_);
  }

 private:
  Source input_;
  std::int64_t count_ = 0;
  double prev_ = 0, obv_ = 0;
};

// Money flow index: TP = (h+l+c)/3, flow = TP*volume, positive when TP rose, negative when
// it fell; MFI = 100*pos/(pos+neg) over the last `period` flows (rows 1..period for the
// first value, row `period`); 0 when pos+neg is exactly 0.
class Mfi {
 public:
  static constexpr std::string_view kKind = "mfi";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Mfi(int period = 14) : period_(check_period(kKind, "period", period)), pos_(period_), neg_(period_), sign_(period_) {}
  Refusal update(const Candle& c) {
    if (!all_finite(c.high, c.low, c.close, c.volume)) [[unlikely]]
      return Refusal::not_finite;
    double tp = (c.high + c.low + c.close) / 3;
    if (count_++ == 0) {
      prev_tp_ = tp;
      return Refusal::none;
    }
    double flow = tp * c.volume;
    const bool up = tp > prev_tp_ && flow != 0, down = tp < prev_tp_ && flow != 0;
    prev_tp_ = tp;
    // Multiplied, not chosen: the direction of a random walk is a coin toss, and a branch on
    // it is mispredicted half the time. flow * 1 is flow; flow * 0 is 0 (flow >= 0).
    pos_.push(flow * static_cast<double>(up));
    neg_.push(flow * static_cast<double>(down));
    // Counts of non-zero flows in the window make an empty side exactly 0, whatever
    // rounding the running sums carry.
    const double leaving = sign_.push(static_cast<double>(up) - static_cast<double>(down));
    ups_ += up - (leaving > 0);
    downs_ += down - (leaving < 0);
    return Refusal::none;
  }
  double value() const {
    if (!pos_.full()) return kNaN;
    double pos = ups_ > 0 ? pos_.sum() : 0.0, neg = downs_ > 0 ? neg_.sum() : 0.0;
    double total = pos + neg;
    return total != 0 ? 100.0 * (pos / total) : 0.0;
  }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_; }
  bool ready() const { return pos_.full(); }
  void reset() { *this = Mfi(period_); }
  std::string params_text() const { return period_text(period_); }
  std::size_t heap_bytes() const { return pos_.heap_bytes() + neg_.heap_bytes() + sign_.capacity() * sizeof(double); }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, prev_tp_, pos_, neg_, sign_, ups_, downs_);
  }

 private:
  int period_;
  std::int64_t count_ = 0;
  double prev_tp_ = 0;
  RollingSum pos_, neg_;
  Ring sign_;
  std::int64_t ups_ = 0, downs_ = 0;
};

// volume / SMA(volume, period), the current bar included; NaN when the window traded nothing.
class VolumeRatio {
 public:
  static constexpr std::string_view kKind = "volume_ratio";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit VolumeRatio(int period = 20) : period_(check_period(kKind, "period", period)), sum_(period_), traded_(period_) {}
  Refusal update(const Candle& c) {
    if (!all_finite(c.volume)) [[unlikely]]
      return Refusal::not_finite;
    sum_.push(c.volume);
    nonzero_ += (c.volume != 0) - (traded_.push(c.volume != 0 ? 1.0 : 0.0) != 0);
    volume_ = c.volume;
    return Refusal::none;
  }
  double value() const {
    if (!sum_.full() || nonzero_ == 0) return kNaN;
    return volume_ / (sum_.sum() / period_);
  }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return sum_.full(); }
  void reset() { *this = VolumeRatio(period_); }
  std::string params_text() const { return period_text(period_); }
  std::size_t heap_bytes() const { return sum_.heap_bytes() + traded_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(sum_, traded_, nonzero_, volume_);
  }

 private:
  int period_;
  RollingSum sum_;
  Ring traded_;
  std::int64_t nonzero_ = 0;
  double volume_ = 0;
};

}  // namespace onepath
