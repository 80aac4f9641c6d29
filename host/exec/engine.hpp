#pragma once
// The one path from a strategy's intent to the venue: filters -> risk -> kernel, with the
// bookkeeping between them (exits reach the filters, the daily limit reaches the kernel).
// A backtest, a paper session and a live session drive this same object.
#include <string>
#include <string_view>
#include <vector>

#include "exec/filter.hpp"
#include "exec/kernel.hpp"
#include "exec/risk.hpp"

namespace onepath {

// The audit trail of one intent.
struct Decision {
  enum class Outcome : std::uint8_t { placed, filtered, rejected, nothing };  // nothing: no position to close, or sized to 0
  Outcome outcome = Outcome::nothing;
  std::string filter, reason;  // filtered: who dropped it and why
  RiskAnswer risk;             // entries: the risk manager's answer
  double quantity = 0;
  std::int64_t order_id = 0;
};
const char* outcome_name(Decision::Outcome o);

// Where the ledger goes as it grows: each closed trade once, each equity mark once. The
// engine keeps neither.
class LedgerSink {
 public:
  virtual ~LedgerSink() = default;
  virtual void on_trade(const Trade& trade) = 0;
  virtual void on_mark(const EquityPoint& mark) = 0;
  // The last timestamp marked again after the end-of-data close-out: it replaces the
  // previous mark, so the final equity includes the final exits and their fees.
  virtual void on_final_mark(const EquityPoint& mark) = 0;
};

class ExecutionEngine {
 public:
  // Without a ledger sink, trades and marks are dropped once the filters have seen them.
  ExecutionEngine(ExecConfig config, RiskLimits limits, std::vector<std::string> symbols, LedgerSink* ledger = nullptr);

  FilterChain& filters() { return filters_; }
  // A rebuilt chain (hot reload), its state already loaded.
  void replace_filters(FilterChain chain) { filters_ = std::move(chain); }
  // A new bar of a symbol: the daily limit's day, the venue's open and range.
  void on_bar(int symbol, const Candle& c);
  // An intent decided at the close of the symbol's current bar.
  Decision decide(int symbol, Intent intent);
  // Equity at the close of a timestamp, after every symbol's bar of that time.
  void mark(TimestampMs ts);
  void set_ledger(LedgerSink* ledger) { ledger_ = ledger; }
  // End of data: every position closed at its last close, then the final mark.
  void finish();

  const Kernel& kernel() const { return kernel_; }
  const RiskManager& risk() const { return risk_; }

  // Everything stateful: portfolio, orders, filters, risk day.
  std::string save() const;
  void load(std::string_view bytes);  // refuses another symbol set or a damaged blob

 private:
  // The one path of a closed trade: the filters, then the ledger sink.
  void take_trades();
  Kernel kernel_;
  RiskManager risk_;
  FilterChain filters_;
  LedgerSink* ledger_ = nullptr;
};

}  // namespace onepath
