#pragma once
// Portfolio limits on entries, answered in the shape of a risk check: approved, or the
// reasons (code, message, limit, proposed) and the quantity the limits would allow. In
// `clip` mode an entry too large is approved at the allowed quantity instead. Exits are
// never refused.
#include <string>
#include <vector>

#include "core/time.hpp"

namespace onepath {

enum class RiskMode : std::uint8_t { reject, clip };

struct RiskLimits {
  double max_position_fraction = 0.25;  // one symbol's notional / equity
  double max_gross_leverage = 1.5;      // all positions' notional / equity
  double daily_loss_fraction = 0.02;    // of the UTC day's opening equity: no new entries until the next day
  int max_open_positions = 10;          // symbols holding a position
  RiskMode mode = RiskMode::reject;
  bool flatten_on_daily_loss = false;   // also exit everything when the daily limit trips
};

struct RiskReason {
  std::string code, message;
  double limit = 0, proposed = 0;
};

struct RiskAnswer {
  bool approved = true;
  double quantity = 0;  // approved quantity (clipped in clip mode), else the allowed quantity
  std::vector<RiskReason> reasons;
};

// What the risk manager needs to know about the portfolio at the decision.
struct RiskView {
  double equity = 0, price = 0;
  double position = 0;        // the symbol's signed quantity
  double gross_notional = 0;  // sum of |quantity| * price over all symbols
  int open_positions = 0;
};

class RiskManager {
 public:
  explicit RiskManager(RiskLimits limits);
  RiskAnswer check(int direction, double quantity, const RiskView& view) const;
  // Called with the equity before each bar: a new UTC day resets the daily limit.
  void on_time(TimestampMs ts, double equity);
  // Called with the equity after each bar; true when the daily limit trips now.
  bool on_equity(double equity);
  bool halted() const { return halted_; }
  const RiskLimits& limits() const { return limits_; }

  template <class A>
  void fields(A& ar) { ar.all(day_, day_open_equity_, halted_); }

 private:
  RiskLimits limits_;
  std::int64_t day_ = -1;
  double day_open_equity_ = 0;
  bool halted_ = false;
};

}  // namespace onepath
