#pragma once
// What a strategy can ask for, and the orders the kernel keeps.
#include <cstdint>
#include <limits>

#include "core/time.hpp"

namespace onepath {

enum class OrderType : std::uint8_t { market, limit, stop };
enum class IntentAction : std::uint8_t { buy, sell, close };  // buy / sell enter long / short; close exits

// How much to enter. quantity: `value` units; equity_fraction: value*equity of notional;
// risk_fraction: risk value*equity if the stop-loss is hit (needs a stop-loss).
// max_fraction (optional) caps the notional at that share of equity.
enum class SizeMode : std::uint8_t { quantity, equity_fraction, risk_fraction };
struct Sizing {
  SizeMode mode = SizeMode::equity_fraction;
  double value = 0.1;
  double max_fraction = std::numeric_limits<double>::quiet_NaN();
};

// A stop-loss or take-profit level, fixed when the entry fills: an absolute price, a
// fraction of the entry price, or a multiple of the ATR given with the intent.
enum class LevelMode : std::uint8_t { none, price, percent, atr };
struct Level {
  LevelMode mode = LevelMode::none;
  double value = 0;
  template <class A>
  void fields(A& ar) { ar.all(mode, value); }
};

struct Intent {
  IntentAction action = IntentAction::buy;
  OrderType type = OrderType::market;
  double price = std::numeric_limits<double>::quiet_NaN();  // limit or stop price
  Sizing size;
  Level stop_loss, take_profit;
  double atr = std::numeric_limits<double>::quiet_NaN();  // at the decision, for atr levels
  int exit_after_bars = 0;                                // 0: no time exit
  int valid_bars = 1;                                     // how long a limit / stop order rests
  double close_quantity = std::numeric_limits<double>::quiet_NaN();  // close: NaN closes all
};

// Throws InputError naming the option ("order option 'price': ...") when an intent cannot be placed.
void validate_intent(const Intent& intent);

struct Order {
  std::int64_t id = 0;
  int symbol = 0;
  OrderType type = OrderType::market;
  int direction = 1;     // +1 buys, -1 sells
  bool is_exit = false;  // closes lots rather than opening one
  double quantity = 0;   // exits: NaN closes all
  double price = 0;      // limit / stop
  std::int64_t decided_bar = 0, expires_bar = 0;
  Level stop_loss, take_profit;
  double atr = 0;
  int exit_after_bars = 0;
  std::uint8_t exit_reason = 0;  // ExitReason for exits
  // Field by field (never raw bytes: padding would make equal states differ).
  template <class A>
  void fields(A& ar) {
    ar.all(id, symbol, type, direction, is_exit, quantity, price, decided_bar, expires_bar, stop_loss, take_profit, atr, exit_after_bars, exit_reason);
  }
};

}  // namespace onepath
