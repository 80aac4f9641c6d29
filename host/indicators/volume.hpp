#pragma once
// Volume: obv, mfi, volume_ratio.
#include <algorithm>
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
    } else {  // obv + v, obv - v (the same bits as obv + -v) or obv, chosen without a branch
      const bool up = x > prev_, down = x < prev_;
      obv_ = choose(up | down, obv_ + choose(up, c.volume, -c.volume), obv_);
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
//
// The two sides are RollingSums in lock step: one slot pair per flow, one write position.
// Whether a leaving flow was an up or a down one is read off its slots, and how full the
// window is off the row count, so the hot loop carries little; the saved form (two
// RollingSums and a Ring of signs) is rebuilt from them.
class Mfi {
 public:
  static constexpr std::string_view kKind = "mfi";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Mfi(int period = 14) : period_(check_period(kKind, "period", period)), slots_(2 * static_cast<std::size_t>(period_), 0.0) {}
  Refusal update(const Candle& c) {
    if (!all_finite(c.high, c.low, c.close, c.volume)) [[unlikely]]
      return Refusal::not_finite;
    double tp = (c.high + c.low + c.close) / 3;
    if (count_++ == 0) {
      prev_tp_ = tp;
      return Refusal::none;
    }
    double flow = tp * c.volume;
    const bool up = (tp > prev_tp_) & (flow != 0), down = (tp < prev_tp_) & (flow != 0);
    prev_tp_ = tp;
    // Multiplied, not chosen: the direction of a random walk is a coin toss, and a branch on
    // it is mispredicted half the time. flow * 1 is flow; flow * 0 is 0.
    const double p = flow * static_cast<double>(up), q = flow * static_cast<double>(down);
    double* slot = slots_.data() + 2 * head_;
    const double old_p = slot[0], old_q = slot[1];
    slot[0] = p, slot[1] = q;
    pos_sum_ += p - old_p, neg_sum_ += q - old_q;
    pos_block_ += p, neg_block_ += q;
    // Counts of non-zero flows in the window make an empty side exactly 0, whatever
    // rounding the running sums carry.
    ups_ += up - counted(old_p);
    downs_ += down - counted(old_q);
    if (++head_ == static_cast<std::size_t>(period_)) [[unlikely]] {  // the window's exact sums, as RollingSum keeps them
      head_ = 0;
      pos_sum_ = pos_block_, neg_sum_ = neg_block_;
      pos_block_ = neg_block_ = 0;
    }
    return Refusal::none;
  }
  double value() const {
    if (!ready()) return kNaN;
    double pos = ups_ > 0 ? pos_sum_ : 0.0, neg = downs_ > 0 ? neg_sum_ : 0.0;
    double total = pos + neg;
    return total != 0 ? 100.0 * (pos / total) : 0.0;
  }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_; }
  bool ready() const { return count_ > period_; }
  void reset() { *this = Mfi(period_); }
  std::string params_text() const { return period_text(period_); }
  std::size_t heap_bytes() const { return slots_.capacity() * sizeof(double); }
  // The saved form: count, previous TP, (sum, slots, head, size) for each side, (slots,
  // head, size) of the signs, the two counts.
  template <class A>
  void fields(A& ar) {
    const std::size_t n = static_cast<std::size_t>(period_);
    std::vector<double> side[3];  // up flows, down flows, signs
    for (auto& v : side) v.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      side[0][i] = slots_[2 * i], side[1][i] = slots_[2 * i + 1], side[2][i] = counted(side[0][i]) - counted(side[1][i]);
    std::size_t head[3] = {head_, head_, head_}, size[3] = {filled(), filled(), filled()};
    ar.all(count_, prev_tp_, pos_sum_, side[0], head[0], size[0], neg_sum_, side[1], head[1], size[1], side[2], head[2], size[2], ups_, downs_);
    if constexpr (A::is_loading) {
      bool whole = count_ >= 0 && head[0] < n;
      for (int k = 0; k < 3; ++k) whole = whole && side[k].size() == n && head[k] == head[0] && size[k] == filled();
      if (!whole) throw InputError("state is corrupt: window size");
      pos_block_ = neg_block_ = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (side[2][i] != counted(side[0][i]) - counted(side[1][i])) throw InputError("state is corrupt: mfi flow signs");
        slots_[2 * i] = side[0][i], slots_[2 * i + 1] = side[1][i];
        if (i < head[0]) pos_block_ += side[0][i], neg_block_ += side[1][i];
      }
      head_ = head[0];
    }
  }

 private:
  // Whether a slot holds a flow of its side: such a flow is never 0 (0 flows are no side's),
  // and an overflowed flow times 0 is NaN, which is none.
  static int counted(double slot) { return std::fabs(slot) > 0; }
  // Flows in the window: one per row after the first, up to the period.
  std::size_t filled() const { return static_cast<std::size_t>(std::clamp<std::int64_t>(count_ - 1, 0, period_)); }
  int period_;
  std::int64_t count_ = 0;
  double prev_tp_ = 0;
  std::vector<double> slots_;  // (up flow, down flow) per slot
  std::size_t head_ = 0;
  double pos_sum_ = 0, neg_sum_ = 0, pos_block_ = 0, neg_block_ = 0;
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
