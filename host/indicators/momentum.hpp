#pragma once
// Momentum: rsi, macd, stoch, willr, cci, returns, log_returns.
#include <array>
#include <string>

#include "indicators/indicator.hpp"
#include "indicators/window.hpp"

namespace onepath {

// Wilder's RSI. First averages at row `period` are plain means of the gains and losses of
// rows 1..period; then avg = (avg*(period-1) + g)/period. RSI = 100*g/(g+l), 0 when both are 0.
class Rsi : public SeriesInput<Rsi> {
 public:
  static constexpr std::string_view kKind = "rsi";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Rsi(int period = 14, Source input = Source::close) : SeriesInput(input), period_(check_period(kKind, "period", period)) {}

  double value() const {
    if (count_ <= period_) return kNaN;
    double total = gain_ + loss_;
    return total != 0 ? 100.0 * (gain_ / total) : 0.0;
  }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_; }
  bool ready() const { return count_ > period_; }
  void reset() { *this = Rsi(period_, input_); }
  int settle_bars() const { return period_ + 1 + rows_to_forget(1.0 - 1.0 / period_); }
  std::string params_text() const { return period_text(period_, input_); }
  std::size_t heap_bytes() const { return 0; }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, prev_, gain_, loss_);
  }

 private:
  friend SeriesInput;  // calls push
  void push(double x) {
    if (count_ == 0) {
      prev_ = x;
      count_ = 1;
      return;
    }
    double d = x - prev_;
    prev_ = x;
    double g = d > 0 ? d : 0.0, l = d < 0 ? -d : 0.0;
    if (count_ > period_) {
      gain_ = (gain_ * (period_ - 1) + g) / period_;
      loss_ = (loss_ * (period_ - 1) + l) / period_;
      return;
    }
    gain_ += g;
    loss_ += l;
    if (count_ == period_) gain_ /= period_, loss_ /= period_;
    ++count_;
  }
  int period_;
  int count_ = 0;
  double prev_ = 0, gain_ = 0, loss_ = 0;
};

// TA-Lib's MACD: the slow EMA seeded with the SMA of rows 0..slow-1, the fast EMA seeded
// late with the SMA of the `fast` inputs ending at row slow-1; line = fast - slow;
// signal = EMA of the line seeded with the SMA of its first `signal` values;
// hist = line - signal. All three valid from row slow+signal-2.
class Macd : public SeriesInput<Macd> {
 public:
  static constexpr std::string_view kKind = "macd";
  static constexpr std::array<std::string_view, 3> kOutputs{"line", "signal", "hist"};
  explicit Macd(int fast = 12, int slow = 26, int signal = 9, Source input = Source::close)
      : SeriesInput(input),
        fast_(check_period(kKind, "fast", fast)),
        slow_(check_period(kKind, "slow", slow, 2)),
        signal_(check_period(kKind, "signal", signal)),
        kf_(2.0 / (fast_ + 1)),
        ks_(2.0 / (slow_ + 1)),
        ksig_(2.0 / (signal_ + 1)) {
    if (fast_ >= slow_) detail::throw_bad_param(kKind, "fast", fast_, "must be shorter than slow (" + std::to_string(slow_) + ")");
  }

  void emit(double* out) const {
    if (!ready()) {
      out[0] = out[1] = out[2] = kNaN;
      return;
    }
    out[0] = line_;
    out[1] = signal_ema_;
    out[2] = line_ - signal_ema_;
  }
  int warmup() const { return slow_ + signal_ - 2; }
  int settle_bars() const { return slow_ + signal_ + rows_to_forget(1.0 - ks_) + rows_to_forget(1.0 - ksig_); }
  bool ready() const { return count_ > warmup(); }
  void reset() { *this = Macd(fast_, slow_, signal_, input_); }
  std::string params_text() const {
    return "fast=" + std::to_string(fast_) + ",slow=" + std::to_string(slow_) + ",signal=" + std::to_string(signal_) +
           ",input=" + std::string(source_name(input_));
  }
  std::size_t heap_bytes() const { return 0; }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, fast_ema_, slow_ema_, line_, signal_ema_);
  }

 private:
  friend SeriesInput;  // calls push
  void push(double x) {
    const std::int64_t row = count_++;
    if (row >= slow_) {
      fast_ema_ += (x - fast_ema_) * kf_;
      slow_ema_ += (x - slow_ema_) * ks_;
    } else {  // seeding: the running sums live in the EMA slots until row slow-1
      slow_ema_ += x;
      if (row >= slow_ - fast_) fast_ema_ += x;
      if (row < slow_ - 1) return;
      slow_ema_ /= slow_;
      fast_ema_ /= fast_;
    }
    line_ = fast_ema_ - slow_ema_;
    const std::int64_t j = row - (slow_ - 1);  // row of the line series
    if (j >= signal_) {
      signal_ema_ += (line_ - signal_ema_) * ksig_;
    } else {
      signal_ema_ += line_;
      if (j == signal_ - 1) signal_ema_ /= signal_;
    }
  }
  int fast_, slow_, signal_;
  double kf_, ks_, ksig_;
  std::int64_t count_ = 0;
  double fast_ema_ = 0, slow_ema_ = 0, line_ = 0, signal_ema_ = 0;
};

// fastK = 100*(close - LL)/(HH - LL) over k_period rows (0 when HH = LL); k = SMA(k_smooth)
// of fastK; d = SMA(d_period) of k. Both valid from row k_period+k_smooth+d_period-3.
class Stoch {
 public:
  static constexpr std::string_view kKind = "stoch";
  static constexpr std::array<std::string_view, 2> kOutputs{"k", "d"};
  explicit Stoch(int k_period = 14, int k_smooth = 3, int d_period = 3)
      : kp_(check_period(kKind, "k_period", k_period)),
        ks_(check_period(kKind, "k_smooth", k_smooth)),
        dp_(check_period(kKind, "d_period", d_period)),
        w_(kp_),
        k_sum_(ks_),
        d_sum_(dp_) {}

  Refusal update(const Candle& c) {
    if (!all_finite(c.high, c.low, c.close)) [[unlikely]]
      return Refusal::not_finite;
    w_.push(c.high, c.low);
    update_with(w_, c);
    return Refusal::none;
  }
  // Everything but the window: from its own or from a twin's (Indicator::twin_key).
  void update_with(const HighLowWindow& w, const Candle& c) {
    if (++count_ < kp_) return;
    double range = w.hh.value() - w.ll.value();
    double fast_k = range != 0 ? 100.0 * (c.close - w.ll.value()) / range : 0.0;
    k_sum_.push(fast_k);
    if (!k_sum_.full()) return;
    k_ = k_sum_.sum() / ks_;
    d_sum_.push(k_);
    if (d_sum_.full()) d_ = d_sum_.sum() / dp_;
  }
  void emit(double* out) const {
    out[0] = ready() ? k_ : kNaN;
    out[1] = ready() ? d_ : kNaN;
  }
  int warmup() const { return kp_ + ks_ + dp_ - 3; }
  bool ready() const { return d_sum_.full(); }
  void reset() { *this = Stoch(kp_, ks_, dp_); }
  std::string params_text() const {
    return "k_period=" + std::to_string(kp_) + ",k_smooth=" + std::to_string(ks_) + ",d_period=" + std::to_string(dp_);
  }
  std::size_t heap_bytes() const { return w_.heap_bytes() + k_sum_.heap_bytes() + d_sum_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, w_, k_sum_, d_sum_, k_, d_);
  }
  using TwinState = HighLowWindow;  // willr's and donchian's of the same period
  std::string twin_key() const { return "high_low " + period_text(kp_); }
  const HighLowWindow& twin_state() const { return w_; }
  HighLowWindow& twin_state() { return w_; }
  void emit_with(const HighLowWindow&, double* out) const { emit(out); }

 private:
  int kp_, ks_, dp_;
  HighLowWindow w_;
  RollingSum k_sum_, d_sum_;
  std::int64_t count_ = 0;
  double k_ = 0, d_ = 0;
};

// Williams %R = -100*(HH - close)/(HH - LL) over `period` rows; 0 when HH = LL.
class Willr {
 public:
  static constexpr std::string_view kKind = "willr";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Willr(int period = 14) : period_(check_period(kKind, "period", period)), w_(period_) {}

  Refusal update(const Candle& c) {
    if (!all_finite(c.high, c.low, c.close)) [[unlikely]]
      return Refusal::not_finite;
    w_.push(c.high, c.low);
    update_with(w_, c);
    return Refusal::none;
  }
  // Everything but the window: from its own or from a twin's (Indicator::twin_key).
  void update_with(const HighLowWindow& w, const Candle& c) {
    if (++count_ < period_) return;
    double range = w.hh.value() - w.ll.value();
    value_ = range != 0 ? -100.0 * (w.hh.value() - c.close) / range : 0.0;
  }
  double value() const { return ready() ? value_ : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return count_ >= period_; }
  void reset() { *this = Willr(period_); }
  std::string params_text() const { return period_text(period_); }
  std::size_t heap_bytes() const { return w_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, w_, value_);
  }
  using TwinState = HighLowWindow;  // stoch's and donchian's of the same period
  std::string twin_key() const { return "high_low " + period_text(period_); }
  const HighLowWindow& twin_state() const { return w_; }
  HighLowWindow& twin_state() { return w_; }
  void emit_with(const HighLowWindow&, double* out) const { emit(out); }

 private:
  int period_;
  HighLowWindow w_;
  std::int64_t count_ = 0;
  double value_ = 0;
};

// CCI = (TP - mean(TP))/(0.015 * meanAbsDev(TP)) over `period` rows, TP = (h+l+c)/3;
// 0 when TP equals the mean or the deviation is 0 (a window of equal TPs).
class Cci {
 public:
  static constexpr std::string_view kKind = "cci";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Cci(int period = 20) : period_(check_period(kKind, "period", period)), ring_(period_) {}

  Refusal update(const Candle& c) {
    if (!all_finite(c.high, c.low, c.close)) [[unlikely]]
      return Refusal::not_finite;
    double tp = (c.high + c.low + c.close) / 3;
    run_ = tp == last_ ? run_ + 1 : 1;
    last_ = tp;
    ring_.push(tp);
    if (!ring_.full()) return Refusal::none;
    if (run_ >= period_) {
      value_ = 0;
      return Refusal::none;
    }
    // Offsets from the newest TP: for nearby values the subtraction is exact, so a quiet
    // window at a high price keeps its digits. Four partial sums give the CPU four chains,
    // held as two pairs of lanes: each lane adds what a scalar chain would, in its order
    // (IEEE arithmetic is exact per lane), so the bits are those of four scalar sums.
    const std::size_t n = ring_.size();
    const double* w = ring_.slots();  // slot order: sums do not care
    const Pair at = {tp, tp};
    Pair s01 = {0, 0}, s23 = {0, 0};
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      s01 += pair(w + i) - at;
      s23 += pair(w + i + 2) - at;
    }
    double tail = s01[0];
    for (; i < n; ++i) tail += w[i] - tp;
    double mean_offset = ((tail + s01[1]) + (s23[0] + s23[1])) / period_;  // mean - tp
    const Pair mo = {mean_offset, mean_offset};
    Pair d01 = {0, 0}, d23 = {0, 0};
    for (i = 0; i + 4 <= n; i += 4) {
      d01 += magnitude((pair(w + i) - at) - mo);
      d23 += magnitude((pair(w + i + 2) - at) - mo);
    }
    double dev0 = d01[0];
    for (; i < n; ++i) dev0 += std::fabs((w[i] - tp) - mean_offset);
    double mad = ((dev0 + d01[1]) + (d23[0] + d23[1])) / period_;
    value_ = (mean_offset != 0 && mad != 0) ? -mean_offset / (0.015 * mad) : 0.0;
    return Refusal::none;
  }
  double value() const { return ready() ? value_ : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return ring_.full(); }
  void reset() { *this = Cci(period_); }
  std::string params_text() const { return period_text(period_); }
  std::size_t heap_bytes() const { return ring_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(ring_, last_, run_, value_);
  }

 private:
  using Pair = double __attribute__((vector_size(16)));
  using PairBits = std::int64_t __attribute__((vector_size(16)));
  // Two slots read one by one: the newest was just stored, and a 16-byte load over an
  // 8-byte store in flight waits for it to reach the cache instead of being forwarded.
  static Pair pair(const double* p) {
    Pair v = {p[0], 0.0};
    asm("" : "+x"(v));  // keeps GCC from merging the two loads into one
    v[1] = p[1];
    return v;
  }
  static Pair magnitude(Pair x) {  // fabs per lane: the sign bit cleared
    const PairBits sign = {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::min()};
    return reinterpret_cast<Pair>(reinterpret_cast<PairBits>(x) & ~sign);
  }
  int period_;
  Ring ring_;
  double last_ = kNaN;
  std::int64_t run_ = 0;
  double value_ = 0;
};

// Simple (x[i]/x[i-n] - 1) or log (ln(x[i]/x[i-n])) returns over n rows; first valid row
// n. NaN when x[i-n] is 0 (simple) or either price is not positive (log).
template <bool kLog>
class ReturnsOver : public SeriesInput<ReturnsOver<kLog>> {
 public:
  static constexpr std::string_view kKind = kLog ? "log_returns" : "returns";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit ReturnsOver(int period = 1, Source input = Source::close)
      : SeriesInput<ReturnsOver>(input), period_(check_period(kKind, "period", period)), ring_(period_) {}

  double value() const { return ready() ? value_ : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_; }
  bool ready() const { return count_ > period_; }
  void reset() { *this = ReturnsOver(period_, input_); }
  std::string params_text() const { return period_text(period_, input_); }
  std::size_t heap_bytes() const { return ring_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, ring_, value_);
  }

 private:
  friend class SeriesInput<ReturnsOver>;   // calls push
  using SeriesInput<ReturnsOver>::input_;  // a dependent base: named once here
  void push(double x) {
    bool full = ring_.full();
    double old = ring_.push(x);
    ++count_;
    if (!full) return;
    if constexpr (kLog)
      value_ = (old > 0 && x > 0) ? std::log(x / old) : kNaN;
    else
      value_ = old != 0 ? x / old - 1.0 : kNaN;
  }
  int period_;
  Ring ring_;
  std::int64_t count_ = 0;
  double value_ = kNaN;
};
using Returns = ReturnsOver<false>;
using LogReturns = ReturnsOver<true>;

}  // namespace onepath
