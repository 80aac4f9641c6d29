#include <doctest/doctest.h>

#include <cstring>
#include <set>

#include "core/rng.hpp"
#include "data/synth.hpp"
#include "exec/engine.hpp"

using namespace onepath;

namespace {

struct Planned {
  std::size_t row;
  int symbol;
  Intent intent;
};

// ~50 intents of every kind over two generated symbols.
std::vector<Planned> plan(std::size_t rows) {
  Rng r(23);
  std::vector<Planned> p;
  for (std::size_t row = 30; row < rows && p.size() < 50; row += 20 + r.below(20)) {
    Intent in;
    switch (r.below(6)) {
      case 0: in.action = IntentAction::buy, in.stop_loss = {LevelMode::percent, 0.01}, in.take_profit = {LevelMode::percent, 0.02}; break;
      case 1: in.action = IntentAction::sell, in.atr = 50 + r.below(50), in.stop_loss = {LevelMode::atr, 2}, in.take_profit = {LevelMode::atr, 3}; break;
      case 2: in.action = IntentAction::buy, in.type = OrderType::limit, in.price = 0, in.valid_bars = 3, in.exit_after_bars = 12; break;
      case 3: in.action = IntentAction::sell, in.type = OrderType::stop, in.price = 0, in.valid_bars = 2; break;
      case 4: in.action = IntentAction::close; break;
      case 5: in.action = IntentAction::buy, in.size = {SizeMode::risk_fraction, 0.01}, in.stop_loss = {LevelMode::percent, 0.015}; break;
    }
    p.push_back({row, static_cast<int>(r.below(2)), in});
  }
  return p;
}

std::vector<CandleSeries> market(std::size_t rows) {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1), preset_symbol("ETH", 0.8)};
  o.bars = rows;
  o.start_ms = 1709251200000;
  o.with_defects = false;
  o.scenario = Scenario::volatile_market;
  return generate_market(o);
}

// What the engine hands over as the ledger grows.
struct Ledger : LedgerSink {
  std::vector<Trade> trades;
  std::vector<EquityPoint> marks;
  void on_trade(const Trade& t) override { trades.push_back(t); }
  void on_mark(const EquityPoint& m) override { marks.push_back(m); }
  void on_final_mark(const EquityPoint& m) override { marks.empty() ? marks.push_back(m) : void(marks.back() = m); }
};

ExecutionEngine make_engine(Ledger* ledger = nullptr) {
  RiskLimits limits;
  limits.mode = RiskMode::clip;
  ExecutionEngine e(ExecConfig{}, limits, {"BTC", "ETH"}, ledger);
  e.filters().add(make_cooldown_filter(2, 2));
  e.filters().add(make_max_concurrent_filter(2));
  return e;
}

// Drives the engine over the market; with `restore`, every bar is played by a new engine
// restored from the previous one's saved state.
void run(const std::vector<CandleSeries>& m, const std::vector<Planned>& p, bool restore,
         std::vector<Decision::Outcome>* outcomes, Ledger* ledger) {
  ExecutionEngine e = make_engine(ledger);
  std::size_t next = 0;
  for (std::size_t row = 0; row < m[0].size(); ++row) {
    if (restore) {
      std::string bytes = e.save();
      e = make_engine(ledger);
      e.load(bytes);
    }
    for (int s = 0; s < 2; ++s) e.on_bar(s, m[s][row]);
    for (; next < p.size() && p[next].row == row; ++next) {
      Intent in = p[next].intent;
      double close = m[p[next].symbol].close[row];
      if (in.type == OrderType::limit) in.price = close * 0.995;
      if (in.type == OrderType::stop) in.price = close * 0.995;
      outcomes->push_back(e.decide(p[next].symbol, in).outcome);
    }
    e.mark(m[0].ts[row]);
  }
  e.finish();
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("Eq. 4: ~50 intents give a bit-identical ledger uninterrupted and restored at every bar") {
  auto m = market(1500);
  auto p = plan(1500);
  CHECK(p.size() >= 40);
  std::vector<Decision::Outcome> a_out, b_out;
  Ledger a, b;
  run(m, p, false, &a_out, &a);
  run(m, p, true, &b_out, &b);
  CHECK(a_out == b_out);
  const auto &ta = a.trades, &tb = b.trades;
  REQUIRE(ta.size() == tb.size());
  CHECK(ta.size() >= 20);
  for (std::size_t i = 0; i < ta.size(); ++i) {
    CAPTURE(i);
    CHECK(ta[i] == tb[i]);
    CHECK(same_bits(ta[i].pnl, tb[i].pnl));
  }
  REQUIRE(a.marks.size() == b.marks.size());
  for (std::size_t i = 0; i < a.marks.size(); ++i) REQUIRE(same_bits(a.marks[i].equity, b.marks[i].equity));
  // Every exit reason the plan can produce shows up.
  std::set<ExitReason> reasons;
  for (const auto& t : ta) reasons.insert(t.reason);
  CHECK(reasons.count(ExitReason::stop));
  CHECK(reasons.count(ExitReason::take_profit));
  CHECK(reasons.count(ExitReason::signal));
}

TEST_CASE("the engine reports who dropped an intent: a filter, or risk with its reasons") {
  ExecutionEngine e = make_engine();
  e.on_bar(0, {0, 100, 101, 99, 100, 1});
  e.on_bar(1, {0, 50, 51, 49, 50, 1});
  Intent big;
  big.size = {SizeMode::equity_fraction, 0.4};
  Decision d = e.decide(0, big);
  CHECK(d.outcome == Decision::Outcome::placed);  // clip mode: 40 % clipped to 25 %
  CHECK(d.quantity == doctest::Approx(25));
  REQUIRE_FALSE(d.risk.reasons.empty());
  CHECK(d.risk.reasons[0].code == "CONCENTRATION_LIMIT");

  ExecutionEngine r(ExecConfig{}, RiskLimits{}, {"X"});
  r.on_bar(0, {0, 100, 101, 99, 100, 1});
  Decision rejected = r.decide(0, big);
  CHECK(rejected.outcome == Decision::Outcome::rejected);
  CHECK(rejected.risk.quantity == doctest::Approx(25));

  Intent close;
  close.action = IntentAction::close;
  CHECK(r.decide(0, close).outcome == Decision::Outcome::nothing);
}

TEST_CASE("the daily loss limit can flatten every position, exits reasoned 'risk'") {
  RiskLimits l;
  l.flatten_on_daily_loss = true;
  ExecConfig cfg;
  cfg.costs = CostMode::clean;
  Ledger ledger;
  ExecutionEngine e(cfg, l, {"X"}, &ledger);
  const TimestampMs t0 = 1709251200000;
  e.on_bar(0, {t0, 100, 100, 100, 100, 1});
  Intent in;
  in.size = {SizeMode::equity_fraction, 0.25};
  e.decide(0, in);
  e.on_bar(0, {t0 + kMsPerHour, 100, 100, 100, 100, 1});
  e.on_bar(0, {t0 + 2 * kMsPerHour, 90, 90, 88, 88, 1});  // -12 % on 25 %: -3 % of equity
  CHECK(e.risk().halted());
  CHECK(e.decide(0, in).outcome == Decision::Outcome::rejected);
  e.on_bar(0, {t0 + 3 * kMsPerHour, 89, 90, 88, 89, 1});
  REQUIRE(ledger.trades.size() == 1);
  CHECK(ledger.trades[0].reason == ExitReason::risk);
  CHECK(e.kernel().trades().empty());  // handed over, not kept
}

TEST_CASE("engine state refuses another symbol set and damaged bytes") {
  ExecutionEngine a = make_engine();
  a.on_bar(0, {0, 100, 101, 99, 100, 1});
  std::string bytes = a.save();
  ExecutionEngine other(ExecConfig{}, RiskLimits{}, {"SOL"});
  CHECK_THROWS(other.load(bytes));
  ExecutionEngine b = make_engine();
  CHECK_THROWS(b.load(bytes.substr(0, bytes.size() - 5)));
  CHECK_THROWS(b.load(bytes + "x"));
}
