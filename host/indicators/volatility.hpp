#pragma once
// Volatility: trange, atr, natr, stddev, bbands, zscore, donchian, parkinson,
// garman_klass, realized_vol.
#include <array>
#include <numbers>
#include <string>

#include "core/number_format.hpp"
#include "indicators/indicator.hpp"
#include "indicators/window.hpp"

namespace onepath {

// h - l is +0 when they are equal and fabs never gives -0: no signed zero to tell apart.
inline double true_range(const Candle& c, double prev_close) {
  return max_finite(c.high - c.low, max_finite(std::fabs(prev_close - c.high), std::fabs(prev_close - c.low)));
}

// max(h-l, |c[i-1]-h|, |c[i-1]-l|); row 0 has none.
class TrueRange {
 public:
  static constexpr std::string_view kKind = "trange";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  TrueRange() = default;
  Refusal update(const Candle& c) {
    if (!all_finite(c.high, c.low, c.close)) [[unlikely]]
      return Refusal::not_finite;
    value_ = count_++ > 0 ? true_range(c, prev_close_) : kNaN;
    prev_close_ = c.close;
    return Refusal::none;
  }
  double value() const { return value_; }
  void emit(double* out) const { out[0] = value_; }
  int warmup() const { return 1; }
  bool ready() const { return count_ > 1; }
  void reset() { *this = TrueRange(); }
  std::string params_text() const { return ""; }
  std::size_t heap_bytes() const { return 0; }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, prev_close_, value_);
  }

 private:
  std::int64_t count_ = 0;
  double prev_close_ = 0, value_ = kNaN;
};

// The state atr and natr share (twins, see Indicator::twin_key): rows seen, the last close,
// Wilder's average of TR.
struct WilderRange {
  std::int64_t count = 0;
  double prev_close = 0, atr = 0;
  template <class A>
  void fields(A& ar) {
    ar.all(count, prev_close, atr);
  }
};

// Wilder's ATR: the mean TR of rows 1..period at row `period`, then
// atr = (atr*(period-1) + tr)/period. natr = 100*atr/close (TA-Lib: 0 when close is 0).
template <bool kNormalised>
class AverageTrueRange {
 public:
  static constexpr std::string_view kKind = kNormalised ? "natr" : "atr";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit AverageTrueRange(int period = 14) : period_(check_period(kKind, "period", period)) {}

  Refusal update(const Candle& c) {
    if (!all_finite(c.high, c.low, c.close)) [[unlikely]]
      return Refusal::not_finite;
    const std::int64_t row = s_.count++;
    double prev = s_.prev_close;
    s_.prev_close = c.close;
    if (row == 0) return Refusal::none;
    double tr = true_range(c, prev);
    if (row > period_) {
      s_.atr = (s_.atr * (period_ - 1) + tr) / period_;
    } else {
      s_.atr += tr;
      if (row == period_) s_.atr /= period_;
    }
    return Refusal::none;
  }
  double value() const { return value_of(s_); }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_; }
  bool ready() const { return s_.count > period_; }
  void reset() { *this = AverageTrueRange(period_); }
  int settle_bars() const { return period_ + 1 + rows_to_forget(1.0 - 1.0 / period_); }
  std::string params_text() const { return period_text(period_); }
  std::size_t heap_bytes() const { return 0; }
  template <class A>
  void fields(A& ar) {
    ar.all(s_);
  }
  using TwinState = WilderRange;
  std::string twin_key() const { return "wilder_range " + period_text(period_); }
  const WilderRange& twin_state() const { return s_; }
  WilderRange& twin_state() { return s_; }
  void emit_with(const WilderRange& s, double* out) const { out[0] = value_of(s); }

 private:
  double value_of(const WilderRange& s) const {
    if (s.count <= period_) return kNaN;
    if constexpr (kNormalised) return s.prev_close != 0 ? (s.atr / s.prev_close) * 100.0 : 0.0;
    return s.atr;
  }
  int period_;
  WilderRange s_;
};
using Atr = AverageTrueRange<false>;
using Natr = AverageTrueRange<true>;

// Mean and population variance of the last n values, O(1) per value. Sums are kept of
// (x - shift), with the shift moved to the window's exact mean and the sums recomputed on
// every wrap, so the E[x^2]-E[x]^2 form loses almost nothing to cancellation even at large
// prices; when the window drifts far from the shift relative to its spread, it rebases
// early. A window of n equal values has variance exactly 0.
class RollingMoments {
 public:
  explicit RollingMoments(std::size_t n) : ring_(n), inv_n_(1.0 / static_cast<double>(n)) {}
  void push(double x) {
    double a = x - shift_, b = ring_.push(x) - shift_;  // b is 0 while filling: shift is 0 then
    s1_ += a - b;
    s2_ += a * a - b * b;
    run_ = x == last_ ? run_ + 1 : 1;
    last_ = x;
    // Rebase on every wrap, and early when the window sits far from the shift relative to
    // its spread (E[x^2]-E[x]^2 would then cancel more than three digits).
    if (ring_.wrapped() || (s1_ * s1_ > 0.999 * static_cast<double>(ring_.size()) * s2_ && !flat() && ring_.full())) rebase();
  }
  bool full() const { return ring_.full(); }
  bool flat() const { return run_ >= static_cast<std::int64_t>(ring_.capacity()); }
  double mean() const { return flat() ? last_ : shift_ + s1_ * inv_n_; }
  double variance() const {
    if (flat()) return 0;
    double m = s1_ * inv_n_, v = s2_ * inv_n_ - m * m;
    return v > 0 ? v : 0;
  }
  std::size_t heap_bytes() const { return ring_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(ring_, shift_, s1_, s2_, last_, run_);
  }

 private:
  void rebase() {
    double n = static_cast<double>(ring_.size());
    shift_ = ring_.sum() / n;
    s1_ = s2_ = 0;
    for (std::size_t i = 0; i < ring_.size(); ++i) {
      double d = ring_.slots()[i] - shift_;
      s1_ += d;
      s2_ += d * d;
    }
  }
  Ring ring_;
  double inv_n_;  // derived from the window size, not state
  double shift_ = 0, s1_ = 0, s2_ = 0, last_ = kNaN;
  std::int64_t run_ = 0;
};

// Population standard deviation of the window (divide by N). First valid row period-1.
class Stddev : public SeriesInput<Stddev> {
 public:
  static constexpr std::string_view kKind = "stddev";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Stddev(int period = 20, Source input = Source::close) : SeriesInput(input), period_(check_period(kKind, "period", period)), m_(period_) {}
  double value() const {
    double v;
    emit_with(m_, &v);
    return v;
  }
  void emit(double* out) const { emit_with(m_, out); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return m_.full(); }
  void reset() { *this = Stddev(period_, input_); }
  std::string params_text() const { return period_text(period_, input_); }
  std::size_t heap_bytes() const { return m_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(m_);
  }
  using TwinState = RollingMoments;  // bbands' of the same period and input
  std::string twin_key() const { return "moments " + period_text(period_, input_); }
  const RollingMoments& twin_state() const { return m_; }
  RollingMoments& twin_state() { return m_; }
  void emit_with(const RollingMoments& m, double* out) const { out[0] = m.full() ? std::sqrt(m.variance()) : kNaN; }

 private:
  friend SeriesInput;  // calls push
  void push(double x) { m_.push(x); }
  int period_;
  RollingMoments m_;
};

// middle = SMA; upper / lower = middle +/- k * population sd of the window.
class Bbands : public SeriesInput<Bbands> {
 public:
  static constexpr std::string_view kKind = "bbands";
  static constexpr std::array<std::string_view, 3> kOutputs{"upper", "middle", "lower"};
  explicit Bbands(int period = 20, double k = 2.0, Source input = Source::close)
      : SeriesInput(input), period_(check_period(kKind, "period", period)), k_(k), m_(period_) {
    if (!(k >= 0 && k < 1e6)) detail::throw_bad_param(kKind, "k", k, "must be a number from 0 to 1000000");
  }
  void emit(double* out) const { emit_with(m_, out); }
  void emit_with(const RollingMoments& m, double* out) const {
    if (!m.full()) {
      out[0] = out[1] = out[2] = kNaN;
      return;
    }
    double mid = m.mean(), band = k_ * std::sqrt(m.variance());
    out[0] = mid + band;
    out[1] = mid;
    out[2] = mid - band;
  }
  using TwinState = RollingMoments;  // stddev's of the same period and input
  std::string twin_key() const { return "moments " + period_text(period_, input_); }
  const RollingMoments& twin_state() const { return m_; }
  RollingMoments& twin_state() { return m_; }
  int warmup() const { return period_ - 1; }
  bool ready() const { return m_.full(); }
  void reset() { *this = Bbands(period_, k_, input_); }
  std::string params_text() const {
    return "period=" + std::to_string(period_) + ",k=" + format_double(k_) + ",input=" + std::string(source_name(input_));
  }
  std::size_t heap_bytes() const { return m_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(m_);
  }

 private:
  friend SeriesInput;  // calls push
  void push(double x) { m_.push(x); }
  int period_;
  double k_;
  RollingMoments m_;
};

// (x - mean)/sd over the window, population sd; 0 when the sd is 0.
class Zscore : public SeriesInput<Zscore> {
 public:
  static constexpr std::string_view kKind = "zscore";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Zscore(int period = 20, Source input = Source::close) : SeriesInput(input), period_(check_period(kKind, "period", period)), m_(period_) {}
  double value() const {
    if (!m_.full()) return kNaN;
    double sd = std::sqrt(m_.variance());
    return sd > 0 ? (last_ - m_.mean()) / sd : 0.0;
  }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return m_.full(); }
  void reset() { *this = Zscore(period_, input_); }
  std::string params_text() const { return period_text(period_, input_); }
  std::size_t heap_bytes() const { return m_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(m_, last_);
  }

 private:
  friend SeriesInput;  // calls push
  void push(double x) {
    m_.push(x);
    last_ = x;
  }
  int period_;
  RollingMoments m_;
  double last_ = 0;
};

// upper = highest high, lower = lowest low of the last `period` rows (this one included),
// middle = (upper + lower)/2.
class Donchian {
 public:
  static constexpr std::string_view kKind = "donchian";
  static constexpr std::array<std::string_view, 3> kOutputs{"upper", "lower", "middle"};
  explicit Donchian(int period = 20) : period_(check_period(kKind, "period", period)), w_(period_) {}
  Refusal update(const Candle& c) {
    if (!all_finite(c.high, c.low)) [[unlikely]]
      return Refusal::not_finite;
    w_.push(c.high, c.low);
    update_with(w_, c);
    return Refusal::none;
  }
  void update_with(const HighLowWindow&, const Candle&) { ++count_; }  // all but the window
  void emit(double* out) const { emit_with(w_, out); }
  void emit_with(const HighLowWindow& w, double* out) const {
    if (!ready()) {
      out[0] = out[1] = out[2] = kNaN;
      return;
    }
    out[0] = w.hh.value();
    out[1] = w.ll.value();
    out[2] = (w.hh.value() + w.ll.value()) / 2;
  }
  int warmup() const { return period_ - 1; }
  bool ready() const { return count_ >= period_; }
  void reset() { *this = Donchian(period_); }
  std::string params_text() const { return period_text(period_); }
  std::size_t heap_bytes() const { return w_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, w_);
  }
  using TwinState = HighLowWindow;  // stoch's and willr's of the same period
  std::string twin_key() const { return "high_low " + period_text(period_); }
  const HighLowWindow& twin_state() const { return w_; }
  HighLowWindow& twin_state() { return w_; }

 private:
  int period_;
  HighLowWindow w_;
  std::int64_t count_ = 0;
};

// Range-based volatility per bar (not annualised) over `period` rows:
//   parkinson    = sqrt( sum ln(h/l)^2 / (4 n ln 2) )
//   garman_klass = sqrt( max(0, mean of 0.5 ln(h/l)^2 - (2 ln 2 - 1) ln(c/o)^2) )
template <bool kGarmanKlass>
class RangeVolatility {
 public:
  static constexpr std::string_view kKind = kGarmanKlass ? "garman_klass" : "parkinson";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit RangeVolatility(int period = 20) : period_(check_period(kKind, "period", period)), sum_(period_) {}
  Refusal update(const Candle& c) {
    if (!all_finite(c.open, c.high, c.low, c.close)) [[unlikely]]
      return Refusal::not_finite;
    if (!(c.open > 0 && c.high > 0 && c.low > 0 && c.close > 0)) [[unlikely]]
      return Refusal::not_positive;
    double hl = std::log(c.high / c.low);
    if constexpr (kGarmanKlass) {
      double co = std::log(c.close / c.open);
      sum_.push(0.5 * hl * hl - (2.0 * std::numbers::ln2 - 1.0) * co * co);
    } else {
      sum_.push(hl * hl);
    }
    return Refusal::none;
  }
  double value() const {
    if (!sum_.full()) return kNaN;
    if constexpr (kGarmanKlass) {
      double v = sum_.sum() / period_;
      return v > 0 ? std::sqrt(v) : 0.0;
    }
    double v = sum_.sum() / (4.0 * period_ * std::numbers::ln2);
    return v > 0 ? std::sqrt(v) : 0.0;
  }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return sum_.full(); }
  void reset() { *this = RangeVolatility(period_); }
  std::string params_text() const { return period_text(period_); }
  std::size_t heap_bytes() const { return sum_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(sum_);
  }

 private:
  int period_;
  RollingSum sum_;
};
using Parkinson = RangeVolatility<false>;
using GarmanKlass = RangeVolatility<true>;

// Realised volatility per bar: sqrt of the sum of squared log returns of the last `period`
// returns (no mean removed, not annualised). First valid row period.
class RealizedVol {
 public:
  static constexpr std::string_view kKind = "realized_vol";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit RealizedVol(int period = 20, Source input = Source::close)
      : period_(check_period(kKind, "period", period)), input_(input), sum_(period_) {}
  Refusal update(const Candle& c) { return update_input(select(c, input_)); }
  Refusal update_input(double x) {
    if (!std::isfinite(x)) [[unlikely]]
      return Refusal::not_finite;
    if (!(x > 0)) [[unlikely]]
      return Refusal::not_positive;
    push(x);
    return Refusal::none;
  }
  Refusal update_value(double x) { return x != x ? Refusal::none : update_input(x); }
  Source input() const { return input_; }
  double value() const { return sum_.full() ? std::sqrt(sum_.sum() > 0 ? sum_.sum() : 0.0) : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_; }
  bool ready() const { return sum_.full(); }
  void reset() { *this = RealizedVol(period_, input_); }
  std::string params_text() const { return period_text(period_, input_); }
  std::size_t heap_bytes() const { return sum_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, prev_, sum_);
  }

 private:
  void push(double x) {
    if (count_++ > 0) {
      double r = std::log(x / prev_);
      sum_.push(r * r);
    }
    prev_ = x;
  }
  int period_;
  Source input_;
  RollingSum sum_;
  std::int64_t count_ = 0;
  double prev_ = 0;
};

}  // namespace onepath
