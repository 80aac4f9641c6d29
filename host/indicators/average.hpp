#pragma once
// Moving averages: sma, ema, wma.
#include <array>
#include <string>

#include "indicators/indicator.hpp"
#include "indicators/window.hpp"

namespace onepath {

enum class EmaSeed : std::uint8_t { sma, first };

// Mean of the last `period` inputs. First valid row period-1.
class Sma : public SeriesInput<Sma> {
 public:
  static constexpr std::string_view kKind = "sma";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Sma(int period, Source input = Source::close) : SeriesInput(input), period_(check_period(kKind, "period", period)), sum_(period_) {}

  double value() const { return sum_.full() ? sum_.sum() / period_ : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return sum_.full(); }
  void reset() { *this = Sma(period_, input_); }
  std::string params_text() const { return period_text(period_, input_); }
  std::size_t heap_bytes() const { return sum_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(sum_);
  }  // the same bytes as before: (sum, ring)

 private:
  friend SeriesInput;  // calls push
  void push(double x) { sum_.push(x); }
  int period_;
  RollingSum sum_;
};

// k = 2/(period+1); seeded with the SMA of the first `period` inputs (first valid row
// period-1), or with the first input (seed=first, valid from row 0); then
// ema += (x - ema) * k.
class Ema : public SeriesInput<Ema> {
 public:
  static constexpr std::string_view kKind = "ema";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Ema(int period, EmaSeed seed = EmaSeed::sma, Source input = Source::close)
      : SeriesInput(input),
        period_(check_period(kKind, "period", period)),
        seed_(seed),
        seed_rows_(seed == EmaSeed::sma ? period_ : 1),
        k_(2.0 / (period_ + 1)) {}

  double value() const { return count_ >= seed_rows_ ? ema_ : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return seed_rows_ - 1; }
  int settle_bars() const { return seed_rows_ + rows_to_forget(1.0 - k_); }
  bool ready() const { return count_ >= seed_rows_; }
  void reset() { *this = Ema(period_, seed_, input_); }
  std::string params_text() const {
    return "period=" + std::to_string(period_) + ",seed=" + (seed_ == EmaSeed::sma ? "sma" : "first") + ",input=" + std::string(source_name(input_));
  }
  std::size_t heap_bytes() const { return 0; }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, sum_, ema_);
  }

 private:
  friend SeriesInput;  // calls push
  void push(double x) {
    if (count_ >= seed_rows_) {
      ema_ += (x - ema_) * k_;
    } else {
      sum_ += x;
      if (count_ + 1 == seed_rows_) ema_ = sum_ / seed_rows_;
      ++count_;
    }
  }
  int period_;
  EmaSeed seed_;
  int seed_rows_;
  double k_;
  int count_ = 0;
  double sum_ = 0, ema_ = 0;
};

// Linearly weighted: weights 1..period, the newest heaviest; divided by period(period+1)/2.
class Wma : public SeriesInput<Wma> {
 public:
  static constexpr std::string_view kKind = "wma";
  static constexpr std::array<std::string_view, 1> kOutputs{"value"};
  explicit Wma(int period, Source input = Source::close)
      : SeriesInput(input),
        period_(check_period(kKind, "period", period)),
        divisor_(static_cast<double>(period_) * (period_ + 1) / 2),
        ring_(period_) {}

  double value() const { return ring_.full() ? weighted_ / divisor_ : kNaN; }
  void emit(double* out) const { out[0] = value(); }
  int warmup() const { return period_ - 1; }
  bool ready() const { return ring_.full(); }
  void reset() { *this = Wma(period_, input_); }
  std::string params_text() const { return period_text(period_, input_); }
  std::size_t heap_bytes() const { return ring_.heap_bytes(); }
  template <class A>
  void fields(A& ar) {
    ar.all(sum_, weighted_, ring_);
  }

 private:
  friend SeriesInput;  // calls push
  void push(double x) {
    if (ring_.full()) {
      weighted_ += period_ * x - sum_;  // every weight drops by one; the oldest leaves at 0
      sum_ += x - ring_.push(x);
    } else {
      ring_.push(x);
      weighted_ += static_cast<double>(ring_.size()) * x;
      sum_ += x;
    }
    if (ring_.wrapped()) resum();
  }
  void resum() {
    sum_ = 0, weighted_ = 0;
    for (std::size_t i = 0; i < ring_.size(); ++i) sum_ += ring_.at(i), weighted_ += static_cast<double>(i + 1) * ring_.at(i);
  }
  int period_;
  double divisor_;
  Ring ring_;
  double sum_ = 0, weighted_ = 0;
};

}  // namespace onepath
