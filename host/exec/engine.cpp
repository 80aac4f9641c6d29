#include "exec/engine.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/state_archive.hpp"

namespace onepath {

constexpr std::uint32_t kEngineStateFormat = 4;  // 2: no ledger history; 3: the fill count; 4: lots, orders, trades field by field

const char* outcome_name(Decision::Outcome o) {
  static const char* names[] = {"placed", "filtered", "rejected", "nothing"};
  return names[static_cast<int>(o)];
}

ExecutionEngine::ExecutionEngine(ExecConfig config, RiskLimits limits, std::vector<std::string> symbols, LedgerSink* ledger)
    : kernel_(config, std::move(symbols)), risk_(limits), ledger_(ledger) {}

void ExecutionEngine::take_trades() {
  for (const Trade& t : kernel_.trades()) {
    filters_.on_exit(t.symbol, t.exit_bar);
    if (ledger_) ledger_->on_trade(t);
  }
  kernel_.clear_trades();
}

void ExecutionEngine::on_bar(int symbol, const Candle& c) {
  risk_.on_time(c.ts, kernel_.equity());
  kernel_.open_bar(symbol, c);
  take_trades();
  filters_.on_bar(symbol, c);
  if (risk_.on_equity(kernel_.equity()) && risk_.limits().flatten_on_daily_loss) kernel_.exit_all(ExitReason::risk);
}

Decision ExecutionEngine::decide(int symbol, Intent intent) {
  Decision d;
  FilterContext ctx;
  ctx.symbol = symbol;
  ctx.bar = kernel_.bar(symbol);
  ctx.ts = kernel_.last_ts(symbol);
  ctx.has_position = kernel_.position(symbol) != 0 || kernel_.has_pending_entry(symbol);
  ctx.close = kernel_.last_close(symbol);
  for (std::size_t s = 0; s < kernel_.symbol_count(); ++s)
    ctx.open_positions += kernel_.position(static_cast<int>(s)) != 0 || kernel_.has_pending_entry(static_cast<int>(s));

  ChainVerdict v = filters_.apply(intent, ctx);
  if (!v.passed) {
    d.outcome = Decision::Outcome::filtered;
    d.filter = std::move(v.filter);
    d.reason = std::move(v.reason);
    return d;
  }
  if (intent.action == IntentAction::close) {
    d.order_id = kernel_.submit(symbol, intent, 0);
    d.outcome = d.order_id ? Decision::Outcome::placed : Decision::Outcome::nothing;
    take_trades();
    return d;
  }
  double q = kernel_.size(symbol, intent);
  if (!(q > 0)) {
    d.reason = "sized to 0";
    return d;
  }
  RiskView view;
  view.equity = kernel_.equity();
  view.price = kernel_.last_close(symbol);
  view.position = kernel_.position(symbol);
  view.gross_notional = kernel_.gross_exposure();
  view.open_positions = kernel_.open_positions();
  d.risk = risk_.check(intent.action == IntentAction::buy ? 1 : -1, q, view);
  if (!d.risk.approved) {
    d.outcome = Decision::Outcome::rejected;
    return d;
  }
  d.quantity = d.risk.quantity;
  d.order_id = kernel_.submit(symbol, intent, d.quantity);
  d.outcome = d.order_id ? Decision::Outcome::placed : Decision::Outcome::nothing;
  if (d.order_id) filters_.on_entry(symbol, ctx.bar);
  take_trades();
  return d;
}

void ExecutionEngine::mark(TimestampMs ts) {
  if (ledger_) ledger_->on_mark(kernel_.mark(ts));
}

void ExecutionEngine::finish() {
  kernel_.finish();
  take_trades();
  TimestampMs last = 0;
  for (std::size_t s = 0; s < kernel_.symbol_count(); ++s) last = std::max(last, kernel_.last_ts(static_cast<int>(s)));
  if (ledger_ && last > 0) ledger_->on_final_mark(kernel_.mark(last));
}

std::string ExecutionEngine::save() const {
  StateWriter w;
  w.all(kEngineStateFormat, kernel_.symbols(), kernel_, risk_, filters_.save());
  return w.bytes();
}

void ExecutionEngine::load(std::string_view bytes) {
  StateReader r(bytes);
  std::uint32_t format = 0;
  std::vector<std::string> symbols;
  r.all(format, symbols);
  if (format != kEngineStateFormat) throw InputError("execution state has format " + std::to_string(format));
  if (symbols != kernel_.symbols()) throw InputError("execution state belongs to another set of symbols");
  Kernel kernel = kernel_;
  RiskManager risk = risk_;
  std::string filter_state;
  r.all(kernel, risk, filter_state);
  if (!r.at_end()) throw InputError("execution state has trailing bytes");
  filters_.load(filter_state);
  kernel_ = std::move(kernel);
  risk_ = std::move(risk);
}

}  // namespace onepath
