#include "exec/risk.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/number_format.hpp"

namespace onepath {

RiskManager::RiskManager(RiskLimits limits) : limits_(limits) {
  auto positive = [](double x) { return std::isfinite(x) && x > 0; };
  if (!positive(limits.max_position_fraction)) throw InputError("risk: max_position_fraction must be positive");
  if (!positive(limits.max_gross_leverage)) throw InputError("risk: max_gross_leverage must be positive");
  if (!positive(limits.daily_loss_fraction) || limits.daily_loss_fraction >= 1) throw InputError("risk: daily_loss_fraction must be in (0, 1)");
  if (limits.max_open_positions < 1) throw InputError("risk: max_open_positions must be at least 1");
}

RiskAnswer RiskManager::check(int direction, double quantity, const RiskView& v) const {
  RiskAnswer a;
  a.quantity = quantity;
  auto refuse = [&](std::string code, std::string message, double limit, double proposed) {
    a.reasons.push_back({std::move(code), std::move(message), limit, proposed});
  };
  if (halted_) {
    refuse("DAILY_LOSS_LIMIT", "daily loss limit reached: no new entries until the next UTC day",
           limits_.daily_loss_fraction, 1.0 - v.equity / day_open_equity_);
    a.approved = false, a.quantity = 0;
    return a;
  }
  if (!(v.equity > 0) || !(v.price > 0)) {
    refuse("NO_EQUITY", "equity or price is not positive", 0, v.equity);
    a.approved = false, a.quantity = 0;
    return a;
  }
  double allowed = quantity;
  const double along = direction * v.position;  // > 0: adding to the position, < 0: reversing it
  if (v.position == 0 && v.open_positions >= limits_.max_open_positions) {
    refuse("MAX_OPEN_POSITIONS", std::to_string(v.open_positions) + " positions open (limit " +
                                      std::to_string(limits_.max_open_positions) + ")",
           limits_.max_open_positions, v.open_positions + 1);
    allowed = 0;
  }
  // One symbol: |position + direction*q| * price <= fraction * equity.
  double after = std::fabs(v.position + direction * quantity) * v.price / v.equity;
  if (after > limits_.max_position_fraction) {
    refuse("CONCENTRATION_LIMIT", "position would be " + format_short(100 * after) + "% of equity (limit " +
                                      format_short(100 * limits_.max_position_fraction) + "%)",
           limits_.max_position_fraction, after);
    allowed = std::min(allowed, limits_.max_position_fraction * v.equity / v.price - along);
  }
  // All symbols: gross notional after the trade <= leverage * equity.
  double others = v.gross_notional - std::fabs(v.position) * v.price;
  double gross_after = (others + std::fabs(v.position + direction * quantity) * v.price) / v.equity;
  if (gross_after > limits_.max_gross_leverage) {
    refuse("LEVERAGE_LIMIT", "gross leverage would be " + format_short(gross_after) + "x (limit " +
                                 format_short(limits_.max_gross_leverage) + "x)",
           limits_.max_gross_leverage, gross_after);
    allowed = std::min(allowed, (limits_.max_gross_leverage * v.equity - others) / v.price - along);
  }
  allowed = std::max(0.0, allowed);
  if (a.reasons.empty()) return a;
  a.approved = limits_.mode == RiskMode::clip && allowed > 0;
  a.quantity = allowed;
  return a;
}

void RiskManager::on_time(TimestampMs ts, double equity) {
  std::int64_t day = floor_div(ts, kMsPerDay);
  if (day == day_) return;
  day_ = day;
  day_open_equity_ = equity;
  halted_ = false;
}

bool RiskManager::on_equity(double equity) {
  if (halted_ || !(day_open_equity_ > 0)) return false;
  halted_ = equity < day_open_equity_ * (1.0 - limits_.daily_loss_fraction);
  return halted_;
}

}  // namespace onepath
