#include <doctest/doctest.h>

#include <cmath>
#include <tuple>

#include "core/error.hpp"
#include "exec/kernel.hpp"

using namespace onepath;

namespace {
constexpr TimestampMs kT0 = 1709251200000;
Candle bar(int i, double o, double h, double l, double c) { return {kT0 + i * 15 * kMsPerMinute, o, h, l, c, 1000}; }

ExecConfig clean() {
  ExecConfig c;
  c.costs = CostMode::clean;
  return c;
}
Intent buy(double qty) {
  Intent in;
  in.action = IntentAction::buy;
  in.size = {SizeMode::quantity, qty};
  return in;
}
Intent sell(double qty) {
  Intent in = buy(qty);
  in.action = IntentAction::sell;
  return in;
}
Intent close_all() {
  Intent in;
  in.action = IntentAction::close;
  return in;
}
// Opens a long of 1 at 100 (decided on bar 0, filled at bar 1's open) with the given levels.
Kernel long_at_100(Level sl, Level tp, ExecConfig cfg = clean(), double atr = std::nan("")) {
  Kernel k(cfg, {"X"});
  k.open_bar(0, bar(0, 99, 100, 98, 99));
  Intent in = buy(1);
  in.stop_loss = sl, in.take_profit = tp, in.atr = atr;
  k.submit(0, in, 1);
  k.open_bar(0, bar(1, 100, 100.5, 99.5, 100));
  return k;
}
}  // namespace

TEST_CASE("a market order decided on bar T fills at bar T+1's open") {
  Kernel k(clean(), {"X"});
  k.open_bar(0, bar(0, 99, 101, 98, 100));
  k.submit(0, buy(2), 2);
  CHECK(k.position(0) == 0);  // nothing at the decision's close
  k.open_bar(0, bar(1, 102, 103, 101, 102.5));
  REQUIRE(k.lots(0).size() == 1);
  CHECK(k.lots(0)[0].entry_price == 102);
  CHECK(k.lots(0)[0].entry_bar == 1);
  CHECK(k.position(0) == 2);
  CHECK(k.cash() == 10'000 - 204);
  CHECK(k.equity() == 10'000 - 204 + 2 * 102.5);
}

TEST_CASE("the close fill mode fills at the decision's close, for comparison") {
  ExecConfig cfg = clean();
  cfg.fill_mode = FillMode::close;
  Kernel k(cfg, {"X"});
  k.open_bar(0, bar(0, 99, 101, 98, 100));
  k.submit(0, buy(1), 1);
  REQUIRE(k.lots(0).size() == 1);
  CHECK(k.lots(0)[0].entry_price == 100);
}

TEST_CASE("limit orders fill when the range touches them, at the limit or at a better open") {
  struct Case { double open, high, low; bool fills; double price; };
  const Case cases[] = {{100, 101, 99, false, 0}, {99.5, 100, 97, true, 98}, {96, 97, 95, true, 96}};
  for (const auto& c : cases) {
    Kernel k(clean(), {"X"});
    k.open_bar(0, bar(0, 100, 101, 99, 100));
    Intent in = buy(1);
    in.type = OrderType::limit, in.price = 98;
    k.submit(0, in, 1);
    k.open_bar(0, bar(1, c.open, c.high, c.low, c.open));
    CHECK(k.lots(0).size() == (c.fills ? 1u : 0u));
    if (c.fills) CHECK(k.lots(0)[0].entry_price == c.price);
  }
}

TEST_CASE("a limit order rests for valid_bars bars, then expires") {
  Kernel k(clean(), {"X"});
  k.open_bar(0, bar(0, 100, 101, 99, 100));
  Intent in = buy(1);
  in.type = OrderType::limit, in.price = 98, in.valid_bars = 2;
  k.submit(0, in, 1);
  k.open_bar(0, bar(1, 100, 101, 99, 100));  // not touched, still resting
  k.open_bar(0, bar(2, 100, 101, 97, 100));  // touched on its last bar
  CHECK(k.lots(0).size() == 1);
  in.valid_bars = 1;
  k.submit(0, close_all(), 0);
  k.submit(0, in, 1);
  k.open_bar(0, bar(3, 100, 101, 99, 100));  // not touched: expires
  k.open_bar(0, bar(4, 100, 101, 90, 100));  // would have filled
  CHECK(k.lots(0).empty());
}

TEST_CASE("stop orders fill when the range reaches them, at the stop or at a worse open") {
  for (auto [open, high, price] : {std::tuple{101.0, 104.0, 103.0}, std::tuple{105.0, 106.0, 105.0}}) {
    Kernel k(clean(), {"X"});
    k.open_bar(0, bar(0, 100, 101, 99, 100));
    Intent in = buy(1);
    in.type = OrderType::stop, in.price = 103;
    k.submit(0, in, 1);
    k.open_bar(0, bar(1, open, high, open - 1, open));
    REQUIRE(k.lots(0).size() == 1);
    CHECK(k.lots(0)[0].entry_price == price);
  }
  Kernel k(clean(), {"X"});  // a sell stop enters short below the market
  k.open_bar(0, bar(0, 100, 101, 99, 100));
  Intent in = sell(1);
  in.type = OrderType::stop, in.price = 97;
  k.submit(0, in, 1);
  k.open_bar(0, bar(1, 99, 99.5, 96, 96.5));
  REQUIRE(k.lots(0).size() == 1);
  CHECK(k.lots(0)[0].entry_price == 97);
  CHECK(k.position(0) == -1);
}

TEST_CASE("stop-loss and take-profit as percentages, prices and ATR multiples, fixed at entry") {
  Kernel a = long_at_100({LevelMode::percent, 0.05}, {LevelMode::percent, 0.10});
  CHECK(a.lots(0)[0].stop_loss == doctest::Approx(95));
  CHECK(a.lots(0)[0].take_profit == doctest::Approx(110));
  Kernel b = long_at_100({LevelMode::price, 96}, {LevelMode::price, 120});
  CHECK(b.lots(0)[0].stop_loss == 96);
  Kernel c = long_at_100({LevelMode::atr, 1.5}, {LevelMode::atr, 3}, clean(), 2.0);
  CHECK(c.lots(0)[0].stop_loss == 97);
  CHECK(c.lots(0)[0].take_profit == 106);
}

TEST_CASE("bracket exits: stop, target, gaps through either, and the same-bar rules") {
  struct Case {
    const char* name;
    SameBarRule rule;
    Candle b;
    ExitReason reason;
    ExitRule decided_by;
    double price;
  };
  const Case cases[] = {
      {"stop touched", SameBarRule::stop_first, bar(2, 100, 101, 94, 96), ExitReason::stop, ExitRule::none, 95},
      {"target touched", SameBarRule::stop_first, bar(2, 100, 111, 99, 105), ExitReason::take_profit, ExitRule::none, 110},
      {"gap below the stop", SameBarRule::stop_first, bar(2, 93, 96, 92, 95), ExitReason::stop, ExitRule::gap, 93},
      {"gap above the target", SameBarRule::stop_first, bar(2, 112, 113, 111, 112), ExitReason::take_profit, ExitRule::gap, 112},
      {"both, stop first", SameBarRule::stop_first, bar(2, 108, 111, 94, 100), ExitReason::stop, ExitRule::stop_first, 95},
      {"both, open nearer the target", SameBarRule::open_proximity, bar(2, 108, 111, 94, 100), ExitReason::take_profit,
       ExitRule::open_proximity, 110},
      {"both, open nearer the stop", SameBarRule::open_proximity, bar(2, 97, 111, 94, 100), ExitReason::stop,
       ExitRule::open_proximity, 95},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    ExecConfig cfg = clean();
    cfg.same_bar = c.rule;
    Kernel k = long_at_100({LevelMode::percent, 0.05}, {LevelMode::percent, 0.10}, cfg);
    k.open_bar(0, c.b);
    REQUIRE(k.trades().size() == 1);
    const Trade& t = k.trades()[0];
    CHECK(t.reason == c.reason);
    CHECK(t.rule == c.decided_by);
    CHECK(t.exit_price == doctest::Approx(c.price));
    CHECK(t.exit_bar == 2);
    CHECK(k.lots(0).empty());
  }
}

TEST_CASE("a market entry's brackets already watch its fill bar, a short's stop sits above") {
  Kernel k(clean(), {"X"});
  k.open_bar(0, bar(0, 100, 101, 99, 100));
  Intent in = sell(1);
  in.stop_loss = {LevelMode::percent, 0.02};
  k.submit(0, in, 1);
  k.open_bar(0, bar(1, 100, 103, 99, 102));  // filled at 100, stop 102 touched in the same bar
  REQUIRE(k.trades().size() == 1);
  CHECK(k.trades()[0].exit_price == doctest::Approx(102));
  CHECK(k.trades()[0].pnl == doctest::Approx(-2));
  CHECK(k.trades()[0].direction == -1);
}

TEST_CASE("time exits at the open H bars after entry, signal exits at the next open, end of data at the last close") {
  Kernel k(clean(), {"X"});
  k.open_bar(0, bar(0, 100, 101, 99, 100));
  Intent in = buy(1);
  in.exit_after_bars = 3;
  k.submit(0, in, 1);
  for (int i = 1; i <= 4; ++i) k.open_bar(0, bar(i, 100 + i, 101 + i, 99 + i, 100 + i));
  REQUIRE(k.trades().size() == 1);
  CHECK(k.trades()[0].reason == ExitReason::time);
  CHECK(k.trades()[0].entry_bar == 1);
  CHECK(k.trades()[0].exit_bar == 4);
  CHECK(k.trades()[0].exit_price == 104);

  k.submit(0, buy(1), 1);
  k.open_bar(0, bar(5, 105, 106, 104, 105));
  k.submit(0, close_all(), 0);
  k.open_bar(0, bar(6, 107, 108, 106, 107));
  REQUIRE(k.trades().size() == 2);
  CHECK(k.trades()[1].reason == ExitReason::signal);
  CHECK(k.trades()[1].exit_price == 107);

  k.submit(0, sell(2), 2);
  k.open_bar(0, bar(7, 106, 107, 104, 105));
  k.finish();
  REQUIRE(k.trades().size() == 3);
  CHECK(k.trades()[2].reason == ExitReason::end_of_data);
  CHECK(k.trades()[2].exit_price == 105);
  CHECK(k.trades()[2].pnl == doctest::Approx(2));
  CHECK(k.equity() == doctest::Approx(10'000 + 3 + 2 + 2));
}

TEST_CASE("an entry against an open position reverses it, partial closes take the oldest lots first") {
  Kernel k(clean(), {"X"});
  k.open_bar(0, bar(0, 100, 101, 99, 100));
  k.submit(0, buy(1), 1);
  k.open_bar(0, bar(1, 100, 101, 99, 100));
  k.submit(0, buy(2), 2);
  k.open_bar(0, bar(2, 101, 102, 100, 101));
  Intent part = close_all();
  part.close_quantity = 2;
  k.submit(0, part, 0);
  k.open_bar(0, bar(3, 103, 104, 102, 103));
  REQUIRE(k.trades().size() == 2);  // the whole first lot, then half of the second
  CHECK(k.trades()[0].entry_price == 100);
  CHECK(k.trades()[0].quantity == 1);
  CHECK(k.trades()[1].entry_price == 101);
  CHECK(k.trades()[1].quantity == 1);
  CHECK(k.position(0) == 1);
  k.submit(0, sell(3), 3);
  k.open_bar(0, bar(4, 102, 103, 101, 102));
  CHECK(k.trades().size() == 3);
  CHECK(k.trades()[2].reason == ExitReason::signal);
  CHECK(k.position(0) == -3);
  CHECK(k.fills() == 6);  // two lots opened, the first closed, half the second, its rest, the short opened
}

TEST_CASE("costs: taker fee and slippage on market and stop fills, maker fee on limits, none in clean mode") {
  ExecConfig cfg;  // realistic: taker 10 bps, maker 5 bps, slippage 2 bps
  Kernel k = long_at_100({LevelMode::none, 0}, {LevelMode::price, 110}, cfg);
  const Lot& lot = k.lots(0)[0];
  CHECK(lot.entry_price == doctest::Approx(100.02));
  CHECK(lot.entry_fee == doctest::Approx(100.02 * 0.001));
  k.open_bar(0, bar(2, 105, 111, 104, 108));  // target: a limit, maker fee, no slippage
  const Trade& t = k.trades().at(0);
  CHECK(t.exit_price == 110);
  CHECK(t.fees == doctest::Approx(100.02 * 0.001 + 110 * 0.0005));
  CHECK(t.slippage == doctest::Approx(0.02));
  CHECK(t.pnl == doctest::Approx(110 - 100.02 - t.fees));
  CHECK(k.cash() == doctest::Approx(10'000 + t.pnl));

  cfg.slippage_mode = SlippageMode::range_fraction;
  cfg.slippage = 0.1;
  Kernel r(cfg, {"X"});
  r.open_bar(0, bar(0, 100, 101, 99, 100));
  r.submit(0, buy(1), 1);
  r.open_bar(0, bar(1, 100, 104, 98, 100));
  CHECK(r.lots(0)[0].entry_price == doctest::Approx(100.6));  // 0.1 of a 6-point range

  Kernel c = long_at_100({LevelMode::none, 0}, {LevelMode::price, 110}, clean());
  c.open_bar(0, bar(2, 105, 111, 104, 108));
  CHECK(c.trades().at(0).fees == 0);
  CHECK(c.trades().at(0).pnl == 10);
}

TEST_CASE("sizing by quantity, fraction of equity and risk per trade, with a cap") {
  Kernel k(clean(), {"X"});
  k.open_bar(0, bar(0, 100, 101, 99, 100));
  Intent in = buy(3);
  CHECK(k.size(0, in) == 3);
  in.size = {SizeMode::equity_fraction, 0.5};
  CHECK(k.size(0, in) == doctest::Approx(50));
  in.size = {SizeMode::risk_fraction, 0.01};
  in.stop_loss = {LevelMode::percent, 0.02};  // a 2-point stop: risking 100 buys 50
  CHECK(k.size(0, in) == doctest::Approx(50));
  in.size.max_fraction = 0.2;
  CHECK(k.size(0, in) == doctest::Approx(20));
}

TEST_CASE("a wrong order option is an error naming the option") {
  Kernel k(clean(), {"X"});
  k.open_bar(0, bar(0, 100, 101, 99, 100));
  auto message = [&](Intent in) {
    try {
      k.submit(0, in, 1);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Intent limit = buy(1);
  limit.type = OrderType::limit;
  CHECK(message(limit).find("'price'") != std::string::npos);
  CHECK(message(buy(0)).find("'size'") != std::string::npos);
  Intent atr = buy(1);
  atr.stop_loss = {LevelMode::atr, 2};
  CHECK(message(atr).find("'atr'") != std::string::npos);
  Intent risk = buy(1);
  risk.size = {SizeMode::risk_fraction, 0.01};
  CHECK(message(risk).find("'size': sizing by risk needs a stop_loss") != std::string::npos);
  Intent stop = buy(1);
  stop.stop_loss = {LevelMode::percent, 1.5};
  CHECK(message(stop).find("'stop_loss'") != std::string::npos);
}
