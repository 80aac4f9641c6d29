#pragma once
// The simulated venue and the portfolio. Per bar of a symbol, in this order:
//   at the open   time exits that are due, then market orders decided on the previous bar
//   in the bar    resting limit / stop orders the range touches, then stop-loss and
//                 take-profit of open lots (both touched: the configured same-bar rule)
//   at the close  the strategy decides (submit); mark() records equity once per timestamp
// Deterministic arithmetic on the inputs: the same candles and intents give the same
// ledger, bit for bit, whether run in one go or stopped, saved and restored. The kernel
// keeps no history: closed trades wait in trades() until the owner takes them, and an
// equity mark is returned, so a session that never ends holds bounded memory.
#include <cstdint>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "exec/order.hpp"

namespace onepath {

enum class FillMode : std::uint8_t { next_open, close };  // close: for comparison only, labelled
enum class SameBarRule : std::uint8_t { stop_first, open_proximity };
enum class CostMode : std::uint8_t { realistic, clean };
enum class SlippageMode : std::uint8_t { bps, range_fraction };

struct ExecConfig {
  double initial_cash = 10'000;
  FillMode fill_mode = FillMode::next_open;
  SameBarRule same_bar = SameBarRule::stop_first;
  CostMode costs = CostMode::realistic;
  double taker_fee_bps = 10, maker_fee_bps = 5;
  SlippageMode slippage_mode = SlippageMode::bps;
  double slippage = 2;  // bps, or a fraction of the bar's high - low
};

enum class ExitReason : std::uint8_t { stop, take_profit, time, signal, end_of_data, risk };
// What decided an exit: nothing special, a gap through the level at the open, or the
// same-bar rule when the bar touched both the stop-loss and the take-profit.
enum class ExitRule : std::uint8_t { none, gap, stop_first, open_proximity };

// Which of a lot's brackets a bar hits, and at what price, by the rules of
// docs/execution.md (gaps at the open, then the same-bar rule). The kernel's exits and the
// trainer's triple-barrier labels both decide with it, so labels mean what trades do.
struct BracketHit {
  bool stop = false, take = false;
  double price = 0;
  ExitRule rule = ExitRule::none;
};
BracketHit bracket_hit(const Candle& bar, int direction, bool has_stop, double stop, bool has_take, double take, SameBarRule same_bar);
const char* exit_reason_name(ExitReason r);
const char* exit_rule_name(ExitRule r);

struct Trade {
  int symbol = 0, direction = 1;
  double quantity = 0;
  TimestampMs entry_ts = 0, exit_ts = 0;
  std::int64_t entry_bar = 0, exit_bar = 0;  // bar counts of the symbol
  double entry_price = 0, exit_price = 0;
  double fees = 0, slippage = 0, pnl = 0, ret = 0;
  ExitReason reason = ExitReason::signal;
  ExitRule rule = ExitRule::none;
  friend bool operator==(const Trade&, const Trade&) = default;
  // Field by field (never raw bytes: padding would make equal states differ).
  template <class A>
  void fields(A& ar) {
    ar.all(symbol, direction, quantity, entry_ts, exit_ts, entry_bar, exit_bar, entry_price, exit_price, fees, slippage, pnl, ret, reason, rule);
  }
};

struct EquityPoint {
  TimestampMs ts = 0;
  double equity = 0, cash = 0, gross_exposure = 0;
  friend bool operator==(const EquityPoint&, const EquityPoint&) = default;
};

struct Lot {
  std::int64_t id = 0;
  int direction = 1;
  double quantity = 0, entry_price = 0, entry_fee = 0, entry_slippage = 0;
  TimestampMs entry_ts = 0;
  std::int64_t entry_bar = 0, brackets_from_bar = 0, exit_bar = -1;  // exit_bar: time exit at its open
  double stop_loss = 0, take_profit = 0;
  bool has_stop = false, has_take = false;
  template <class A>
  void fields(A& ar) {
    ar.all(id, direction, quantity, entry_price, entry_fee, entry_slippage, entry_ts, entry_bar, brackets_from_bar, exit_bar, stop_loss, take_profit,
           has_stop, has_take);
  }
};

class Kernel {
 public:
  Kernel(ExecConfig config, std::vector<std::string> symbols);

  // A new bar of `symbol`: the open, then the range. Bars of one symbol must come in time order.
  void open_bar(int symbol, const Candle& c);
  // The quantity an entry intent asks for at this close (0 when it cannot be sized).
  double size(int symbol, const Intent& intent) const;
  // Places an order decided at the close of the symbol's current bar. Entries take their
  // quantity from the caller (sized, then cleared by risk). Returns the order id.
  std::int64_t submit(int symbol, const Intent& intent, double quantity);
  // Queues market exits of every open lot (at the next open) with the given reason.
  void exit_all(ExitReason reason);
  // Equity at the close of a timestamp (after every symbol's bar of that time).
  EquityPoint mark(TimestampMs ts) const;
  // Closes every lot at its symbol's last close: end of data. Pending orders are dropped.
  void finish();

  double equity() const;
  double cash() const { return cash_; }
  double gross_exposure() const;
  double position(int symbol) const;  // signed quantity
  double last_close(int symbol) const { return books_[symbol].last_close; }
  std::int64_t bar(int symbol) const { return books_[symbol].bar; }
  TimestampMs last_ts(int symbol) const { return books_[symbol].last_ts; }
  int open_positions() const;           // symbols with lots
  bool has_pending_entry(int symbol) const;
  const std::vector<Lot>& lots(int symbol) const { return books_[symbol].lots; }
  // Trades closed since the last clear_trades(), in the order they closed.
  const std::vector<Trade>& trades() const { return trades_; }
  void clear_trades() { trades_.clear(); }
  // Fills so far: a lot opened, or a lot closed in whole or in part (a reversal is two).
  std::uint64_t fills() const { return fills_; }
  const std::vector<std::string>& symbols() const { return symbols_; }
  const ExecConfig& config() const { return config_; }
  std::size_t symbol_count() const { return books_.size(); }

  template <class A>
  void fields(A& ar) {
    ar.all(cash_, next_id_, fills_, trades_);
    for (auto& b : books_) ar.all(b.lots, b.orders, b.last_close, b.last_ts, b.bar);
  }

 private:
  struct Book {
    std::vector<Lot> lots;      // open lots, oldest first (FIFO)
    std::vector<Order> orders;  // pending orders
    double last_close = 0;
    TimestampMs last_ts = 0;
    std::int64_t bar = -1;
  };
  struct Fill {
    double price;     // per unit, slippage included
    double fee_bps;   // charged on the notional
    double slippage;  // per unit, against the trader
  };

  Fill fill_price(double reference, int direction, bool maker, const Candle& bar) const;
  void open_lot(int symbol, const Order& o, Fill f, TimestampMs ts, std::int64_t brackets_from);
  void close_lots(int symbol, int direction_to_close, double quantity, double price_ref, bool maker, const Candle& bar,
                  ExitReason reason, ExitRule rule);
  void close_lot(int symbol, std::size_t index, double quantity, Fill f, TimestampMs ts, ExitReason reason, ExitRule rule);
  void fill_order(int symbol, const Order& o, double reference, bool maker, const Candle& bar, std::int64_t brackets_from);
  void check_brackets(int symbol, const Candle& c);

  ExecConfig config_;
  std::vector<std::string> symbols_;
  std::vector<Book> books_;
  double cash_;
  std::int64_t next_id_ = 1;
  std::uint64_t fills_ = 0;
  std::vector<Trade> trades_;
};

}  // namespace onepath
