#pragma once
// Trend strength: adx with its directional indicators.
#include <array>
#include <string>

#include "indicators/indicator.hpp"
#include "indicators/volatility.hpp"

namespace onepath {

// TA-Lib's ADX / PLUS_DI / MINUS_DI. +DM = up if up > dn and up > 0, -DM likewise (ties
// give 0 to both); sums of +DM, -DM and TR seeded over rows 1..period-1, then
// S = S - S/period + v. DI = 100*DM/TR (0 when TR is 0). DX = 100*|+DI - -DI|/(+DI + -DI);
// the first ADX (row 2*period-1) is the mean DX of rows period..2*period-1, then
// adx = (adx*(period-1) + dx)/period. A DX with a zero denominator is skipped.
class Adx {
 public:
  static constexpr std::string_view kKind = "adx";
  static constexpr std::array<std::string_view, 3> kOutputs{"adx", "plus_di", "minus_di"};
  explicit Adx(int period = 14) : period_(check_period(kKind, "period", period, 2)) {}

  Refusal update(const Candle& c) {
    if (!all_finite(c.high, c.low, c.close)) [[unlikely]]
      return Refusal::not_finite;
    const std::int64_t row = count_++;
    if (row == 0) {
      prev_ = c;
      return Refusal::none;
    }
    double up = c.high - prev_.high, dn = prev_.low - c.low;
    double plus_dm = choose((up > dn) & (up > 0), up, 0.0);
    double minus_dm = choose((dn > up) & (dn > 0), dn, 0.0);
    double tr = true_range(c, prev_.close);
    prev_ = c;
    if (row < period_) {
      plus_ += plus_dm, minus_ += minus_dm, tr_ += tr;
      return Refusal::none;
    }
    plus_ = plus_ - plus_ / period_ + plus_dm;
    minus_ = minus_ - minus_ / period_ + minus_dm;
    tr_ = tr_ - tr_ / period_ + tr;
    plus_di_ = tr_ != 0 ? 100.0 * (plus_ / tr_) : 0.0;
    minus_di_ = tr_ != 0 ? 100.0 * (minus_ / tr_) : 0.0;
    double di_sum = plus_di_ + minus_di_;
    bool has_dx = di_sum != 0;
    double dx = has_dx ? 100.0 * (std::fabs(minus_di_ - plus_di_) / di_sum) : 0.0;
    if (row < 2 * period_ - 1) {
      adx_ += dx;
    } else if (row == 2 * period_ - 1) {
      adx_ = (adx_ + dx) / period_;
    } else if (has_dx) {
      adx_ = (adx_ * (period_ - 1) + dx) / period_;
    }
    return Refusal::none;
  }
  void emit(double* out) const {
    out[0] = count_ >= 2 * period_ ? adx_ : kNaN;
    out[1] = count_ > period_ ? plus_di_ : kNaN;
    out[2] = count_ > period_ ? minus_di_ : kNaN;
  }
  int warmup() const { return period_; }  // the first row with any output (the DIs)
  int settle_bars() const { return 2 * period_ + 2 * rows_to_forget(1.0 - 1.0 / period_); }
  bool ready() const { return count_ > period_; }
  void reset() { *this = Adx(period_); }
  std::string params_text() const { return period_text(period_); }
  std::size_t heap_bytes() const { return 0; }
  template <class A>
  void fields(A& ar) {
    ar.all(count_, prev_, plus_, minus_, tr_, plus_di_, minus_di_, adx_);
  }

 private:
  int period_;
  std::int64_t count_ = 0;
  Candle prev_;
  double plus_ = 0, minus_ = 0, tr_ = 0, plus_di_ = 0, minus_di_ = 0, adx_ = 0;
};

}  // namespace onepath
