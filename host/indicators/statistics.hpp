#pragma once
// Rolling statistics: min, max, quantile, percentile_rank, correlation, beta.
#include <array>
#include <string>

#include "core/number_format.hpp"
#include "indicators/indicator.hpp"
#include "indicators/window.hpp"

namespace onepath {

// Lowest (kMax false) or highest value of the last `period` inputs. First valid row period-1.
template <bool kMax>
class RollingMinMax : public SeriesInput<RollingMinMax<kMax>> {
 public:
  static constexpr std::string_view kKind = kMax ? "max" : "min";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit RollingMinMax(int period, Source input = Source::close)
      : SeriesInput<RollingMinMax>(input), period_(check_period(kKind, "period", period)), window_(period_) {}
  double value() const { return ready() ? window_.value() : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return count_ >= period_; }
  void reset() { *this = RollingMinMax(period_, input_); }
  std::string params_text() const { return period_text(period_, input_); }
  std::size_t heap_bytes() const { return window_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, window_);
  }

 private:
  friend class SeriesInput<RollingMinMax>;   // calls push
  using SeriesInput<RollingMinMax>::input_;  // a dependent base: named once here
  void push(double x) {
    window_.push(x);
    ++count_;
  }
  int period_;
  RollingExtreme<kMax> window_;
  std::int64_t count_ = 0;
};
using RollingMin = RollingMinMax<false>;
using RollingMax = RollingMinMax<true>;

// The window kept sorted in an order-statistic tree (O(log n) per update).
// quantile: linear interpolation between order statistics at h = (n-1)q (numpy's default).
// percentile_rank: 100*(below + 0.5*equal)/n of the newest value within its window.
template <bool kRank>
class RollingOrderStatistic : public SeriesInput<RollingOrderStatistic<kRank>> {
 public:
  static constexpr std::string_view kKind = kRank ? "percentile_rank" : "quantile";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit RollingOrderStatistic(int period, double q = 0.5, Source input = Source::close)
      : SeriesInput<RollingOrderStatistic>(input), period_(check_period(kKind, "period", period)), q_(q), ring_(period_), tree_(period_) {
    if (!(q >= 0 && q <= 1)) detail::throw_bad_param(kKind, "q", q, "must be from 0 to 1");
  }
  double value() const {
    if (!ring_.full()) return kNaN;
    const double n = period_;
    if constexpr (kRank) {
      double x = ring_.newest();
      double below = static_cast<double>(tree_.count_less(x));
      double equal = static_cast<double>(tree_.count_less_equal(x)) - below;
      return 100.0 * (below + 0.5 * equal) / n;
    }
    double h = (n - 1) * q_;
    std::size_t lo = static_cast<std::size_t>(h);
    double frac = h - static_cast<double>(lo), a = tree_.kth(lo);
    return frac == 0 ? a : a + frac * (tree_.kth(lo + 1) - a);
  }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return ring_.full(); }
  void reset() { *this = RollingOrderStatistic(period_, q_, input_); }
  std::string params_text() const { return period_text(period_, input_) + (kRank ? "" : ",q=" + format_double(q_)); }
  std::size_t heap_bytes() const { return ring_.heap_bytes() + tree_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, ring_);
    if constexpr (A::is_loading) {  // the tree is derived from the window: rebuild it
      tree_.clear();
      for (std::size_t i = 0; i < ring_.size(); ++i)
        tree_.insert(ring_.at(i), count_ - static_cast<std::int64_t>(ring_.size()) + static_cast<std::int64_t>(i));
    }
  }

 private:
  friend class SeriesInput<RollingOrderStatistic>;   // calls push
  using SeriesInput<RollingOrderStatistic>::input_;  // a dependent base: named once here
  void push(double x) {
    bool full = ring_.full();
    double old = ring_.push(x);
    if (full) tree_.erase(old, count_ - period_);
    tree_.insert(x, count_++);
  }
  int period_;
  double q_;
  Ring ring_;
  OrderStatisticTree tree_;
  std::int64_t count_ = 0;
};
using Quantile = RollingOrderStatistic<false>;
using PercentileRank = RollingOrderStatistic<true>;

// Co-moments of two series over the last n pairs, by the same shifted sums as
// RollingMoments (rebased on every wrap, and early when either series would cancel); a
// series of n equal values has variance exactly 0.
class RollingCoMoments {
 public:
  explicit RollingCoMoments(std::size_t n) : rx_(n), ry_(n) {}
  void push(double x, double y) {
    double a = x - kx_, b = y - ky_, ox = rx_.push(x) - kx_, oy = ry_.push(y) - ky_;
    sx_ += a - ox;
    sy_ += b - oy;
    sxx_ += a * a - ox * ox;
    syy_ += b * b - oy * oy;
    sxy_ += a * b - ox * oy;
    run_x_ = x == last_x_ ? run_x_ + 1 : 1;
    run_y_ = y == last_y_ ? run_y_ + 1 : 1;
    last_x_ = x, last_y_ = y;
    bool cancels = (sx_ * sx_ > 0.999 * n() * sxx_ && !flat(run_x_)) || (sy_ * sy_ > 0.999 * n() * syy_ && !flat(run_y_));
    if (rx_.wrapped() || (cancels && rx_.full())) rebase();
  }
  bool full() const { return rx_.full(); }
  double var_x() const { return flat(run_x_) ? 0.0 : positive(sxx_ / n() - (sx_ / n()) * (sx_ / n())); }
  double var_y() const { return flat(run_y_) ? 0.0 : positive(syy_ / n() - (sy_ / n()) * (sy_ / n())); }
  double cov() const { return flat(run_x_) || flat(run_y_) ? 0.0 : sxy_ / n() - (sx_ / n()) * (sy_ / n()); }
  std::size_t heap_bytes() const { return rx_.heap_bytes() + ry_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(rx_, ry_, kx_, ky_, sx_, sy_, sxx_, syy_, sxy_, last_x_, last_y_, run_x_, run_y_);
  }

 private:
  double n() const { return static_cast<double>(rx_.capacity()); }
  bool flat(std::int64_t run) const { return run >= static_cast<std::int64_t>(rx_.capacity()); }
  static double positive(double v) { return v > 0 ? v : 0.0; }
  void rebase() {
    kx_ = rx_.sum() / n();
    ky_ = ry_.sum() / n();
    sx_ = sy_ = sxx_ = syy_ = sxy_ = 0;
    for (std::size_t i = 0; i < rx_.size(); ++i) {  // both rings share the slot order
      double a = rx_.slots()[i] - kx_, b = ry_.slots()[i] - ky_;
      sx_ += a, sy_ += b, sxx_ += a * a, syy_ += b * b, sxy_ += a * b;
    }
  }
  Ring rx_, ry_;
  double kx_ = 0, ky_ = 0, sx_ = 0, sy_ = 0, sxx_ = 0, syy_ = 0, sxy_ = 0;
  double last_x_ = kNaN, last_y_ = kNaN;
  std::int64_t run_x_ = 0, run_y_ = 0;
};

// Over the last `period` pairs of (input, input2):
//   correlation = cov / (sd_x sd_y), NaN when either series is constant in the window;
//   beta        = cov / var(input2), input2 being the market; NaN when it is constant.
template <bool kBeta>
class PairStatistic {
 public:
  static constexpr std::string_view kKind = kBeta ? "beta" : "correlation";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit PairStatistic(int period = 20, Source input = Source::close, Source input2 = Source::volume)
      : period_(check_period(kKind, "period", period, 2)), input_(input), input2_(input2), m_(period_) {}
  Refusal update(const Candle& c) {
    double x = select(c, input_), y = select(c, input2_);
    if (!all_finite(x, y)) [[unlikely]]
      return Refusal::not_finite;
    m_.push(x, y);
    return Refusal::none;
  }
  Refusal update_values(double x, double y) {
    if (x != x || y != y) return Refusal::none;
    if (!all_finite(x, y)) [[unlikely]]
      return Refusal::not_finite;
    m_.push(x, y);
    return Refusal::none;
  }
  double value() const {
    if (!m_.full()) return kNaN;
    double vx = m_.var_x(), vy = m_.var_y();
    if constexpr (kBeta) return vy > 0 ? m_.cov() / vy : kNaN;
    if (!(vx > 0 && vy > 0)) return kNaN;
    double r = m_.cov() / std::sqrt(vx * vy);
    return r > 1 ? 1.0 : r < -1 ? -1.0 : r;
  }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return m_.full(); }
  void reset() { *this = PairStatistic(period_, input_, input2_); }
  std::string params_text() const { return period_text(period_, input_) + ",input2=" + std::string(source_name(input2_)); }
  std::size_t heap_bytes() const { return m_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(m_);
  }

 private:
  int period_;
  Source input_, input2_;
  RollingCoMoments m_;
};
using Correlation = PairStatistic<false>;
using Beta = PairStatistic<true>;

}  // namespace onepath
