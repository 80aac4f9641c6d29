#pragma once
// Resampling to a higher timeframe with the aligned-close policy: a higher bar is made of
// the base candles whose open time falls inside it, and it is complete when its last base
// candle arrives, or, when that candle is missing, when a candle of a later bar arrives.
// The batch function drives the streaming Resampler, so both give the same bars.
#include <optional>

#include "core/candle.hpp"
#include "core/timeframe.hpp"

namespace onepath {

class Resampler {
 public:
  // Throws InputError unless target is longer than base and a whole multiple of it.
  Resampler(Timeframe base, Timeframe target);

  // Feeds one base candle (timestamps strictly increasing). Calls on_bar(const Candle&)
  // for each higher bar this candle completes: none, one, or two (when a candle both
  // closes an earlier bar by arriving late and is itself the last of its own bar).
  template <class OnBar>
  void push(const Candle& c, OnBar&& on_bar) {
    TimestampMs open = target_.floor(c.ts);
    if (has_bar_ && open != bar_.ts) {
      has_bar_ = false;
      on_bar(bar_);
    }
    if (!has_bar_) {
      bar_ = c;
      bar_.ts = open;
      has_bar_ = true;
    } else {
      bar_.high = bar_.high < c.high ? c.high : bar_.high;
      bar_.low = bar_.low > c.low ? c.low : bar_.low;
      bar_.close = c.close;
      bar_.volume += c.volume;
    }
    if (c.ts + base_.duration_ms() == open + target_.duration_ms()) {
      has_bar_ = false;
      on_bar(bar_);
    }
  }

  // The bar being built, not complete yet.
  std::optional<Candle> partial() const { return has_bar_ ? std::optional<Candle>(bar_) : std::nullopt; }
  const Timeframe& target() const { return target_; }
  template <class A>
  void fields(A& ar) {
    ar.all(bar_, has_bar_);
  }

 private:
  Timeframe base_, target_;
  Candle bar_;
  bool has_bar_ = false;
};

// Every complete higher bar of the series; the last, incomplete one too if keep_partial.
CandleSeries resample(const CandleSeries& series, Timeframe base, Timeframe target, bool keep_partial = false);

}  // namespace onepath
