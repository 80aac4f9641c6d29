// One step, two drivers: the backtest and a paper session replaying the same candles give
// the same decisions, trades and equity marks, bit for bit (Eq. 5); the event gate; a
// Session saved and restored mid-run continues as if it never stopped.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/synth.hpp"
#include "enrich/enricher.hpp"
#include "run/backtest.hpp"
#include "run/market_merge.hpp"
#include "run/paper.hpp"
#include "run/session.hpp"
#include "fixtures.hpp"

using namespace onepath;
using onepath::test::market_with_gaps;
using onepath::test::TempDir;

namespace {

namespace fs = std::filesystem;
const std::string kSource = ONEPATH_SOURCE_DIR;



// A RUN.toml over the quick start's strategy and filters, tuned to trade often.
RunConfig config(const TempDir& dir, const std::string& extra = "") {
  std::string path = dir / "RUN.toml";
  std::ofstream(path) << "[data]\nsymbols = [\"BTC\", \"ETH\", \"SOL\"]\n[data.generate]\nbars = 10\n"
                      << "[strategy]\nscript = \"" << kSource << "/scripts/strategies/ema_crossover.lua\"\nscripts_root = \"" << kSource
                      << "/scripts\"\n[strategy.params]\nfast = 3\nslow = 8\n"
                      << "[[filters]]\nkind = \"cooldown\"\nbars = 2\n[[filters]]\nscript = \"" << kSource
                      << "/scripts/filters/max_entries_per_day.lua\"\nparams = { limit = 4 }\n"
                      << "[risk]\nmode = \"clip\"\nmax_position_fraction = 0.3\n"
                      << "[output]\ndb = \"" << (dir / "journal.db") << "\"\n[paper]\nport = -1\ndir = \"" << (dir / "paper") << "\"\n"
                      << extra;
  return load_run_config(path);
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_trade(const Trade& a, const Trade& b) {
  return a.symbol == b.symbol && a.direction == b.direction && same_bits(a.quantity, b.quantity) && a.entry_ts == b.entry_ts &&
         a.exit_ts == b.exit_ts && a.entry_bar == b.entry_bar && a.exit_bar == b.exit_bar && same_bits(a.entry_price, b.entry_price) &&
         same_bits(a.exit_price, b.exit_price) && same_bits(a.fees, b.fees) && same_bits(a.pnl, b.pnl) && a.reason == b.reason;
}

// What the journal holds of a run, in the backtest's terms.
struct Recorded {
  std::vector<Trade> trades;
  std::vector<EquityPoint> equity;
  std::vector<DecisionRecord> decisions;
};
Recorded recorded(const RunConfig& c, std::int64_t run) {
  auto j = Journal::open(c.journal);
  Recorded r;
  for (auto& t : j->trades(run)) {
    Trade x = t.trade;
    for (std::size_t s = 0; s < c.session.symbols.size(); ++s)
      if (c.session.symbols[s] == t.symbol) x.symbol = static_cast<int>(s);
    r.trades.push_back(x);
  }
  r.equity = j->equity(run);
  r.decisions = j->decisions(run);
  return r;
}

void check_same(const BacktestResult& b, const Recorded& p) {
  REQUIRE(b.trades.size() == p.trades.size());
  for (std::size_t i = 0; i < b.trades.size(); ++i) {
    CAPTURE(i);
    CHECK(same_trade(b.trades[i], p.trades[i]));
  }
  REQUIRE(b.equity.size() == p.equity.size());
  for (std::size_t i = 0; i < b.equity.size(); ++i) {
    CAPTURE(i);
    REQUIRE(b.equity[i].ts == p.equity[i].ts);
    REQUIRE(same_bits(b.equity[i].equity, p.equity[i].equity));
    REQUIRE(same_bits(b.equity[i].cash, p.equity[i].cash));
  }
  REQUIRE(b.decision_log.size() == p.decisions.size());
  for (std::size_t i = 0; i < p.decisions.size(); ++i) {
    CAPTURE(i);
    const DecisionRecord d = b.decision_log.record(i);
    REQUIRE(d.ts == p.decisions[i].ts);
    REQUIRE(d.action == p.decisions[i].action);
    REQUIRE(d.outcome == p.decisions[i].outcome);
    REQUIRE(same_bits(d.quantity, p.decisions[i].quantity));
    REQUIRE(d.feature_row_hash == p.decisions[i].feature_row_hash);
    REQUIRE(d.filter == p.decisions[i].filter);
  }
}

PaperOutcome replay(const RunConfig& c, std::vector<CandleSeries> market, Timeframe tf) {
  PaperOptions o;
  o.fresh = true;
  return run_paper(c, make_replay_feed(std::move(market), tf, 0), o);
}

const Timeframe k15m = Timeframe::parse("15m");

}  // namespace

TEST_CASE("Eq. 5: a paper session replaying at full speed decides, trades and marks exactly as the backtest") {
  for (std::uint64_t seed : {3u, 11u}) {
    CAPTURE(seed);
    TempDir dir("session-test");
    RunConfig c = config(dir);
    auto market = market_with_gaps(3000, seed);
    BacktestResult b = run_backtest_on(c.session, market, k15m);
    CHECK(b.trades.size() > 50);
    CHECK(b.decision_log.size() > b.trades.size());
    PaperOutcome p = replay(c, market, k15m);
    CHECK(p.complete);
    CHECK(p.candles == b.candles);
    CHECK(p.decisions == b.decisions);
    check_same(b, recorded(c, p.run_id));
    auto run = Journal::open(c.journal)->run(p.run_id);
    REQUIRE(run);
    CHECK(run->kind == "paper");
    CHECK(run->status == "complete");
    CHECK(metrics_json(c, b).find("\"sharpe\"") != std::string::npos);
  }
}

TEST_CASE("the event gate: on_bar runs only where the gate column is non-zero, features update on every candle, in both drivers") {
  TempDir dir("session-test");
  std::ofstream(dir / "gated.lua") << "local S = { params = {} }\n"
                                      "S.features = { { name = 'ema', kind = 'ema', period = 5 }, { name = 'ev', kind = 'cusum', threshold = 0.03 } }\n"
                                      "S.gate = 'ev'\n"
                                      "function S.on_bar(ctx, bar, f) ctx:close() end\n"  // a decision record per call
                                      "return S\n";
  RunConfig c = config(dir);
  c.session.strategy = dir / "gated.lua";
  c.session.filters.clear();
  c.session.params.clear();
  auto market = market_with_gaps(2000, 5);

  // Where the gate opens, and the features there, from the batch path of the enricher.
  std::vector<std::vector<std::pair<TimestampMs, std::vector<double>>>> expected(market.size());
  std::size_t events = 0;
  {
    DiscardResults null;
    Session probe(c.session, k15m, null);
    CHECK(probe.gate_column() == 1);
    LuaStrategy s(c.session.strategy, c.session.scripts_root, c.session.symbols, {}, {});
    for (std::size_t k = 0; k < market.size(); ++k) {
      Enricher e(s.features(), k15m);
      FeatureColumns cols = e.enrich_batch(market[k]);
      for (std::size_t i = 0; i < market[k].size(); ++i)
        if (cols[1][i] != 0 && !std::isnan(cols[1][i])) expected[k].push_back({market[k].ts[i], {cols[0][i], cols[1][i]}}), ++events;
    }
  }
  CHECK(events > 20);
  CHECK(events < market[0].size() / 2);  // the gate is shut on most bars

  auto check = [&](const std::vector<DecisionRecord>& decisions) {
    REQUIRE(decisions.size() == events);
    std::vector<std::size_t> at(market.size(), 0);
    for (const auto& d : decisions) {
      const auto& want = expected[static_cast<std::size_t>(d.symbol)][at[static_cast<std::size_t>(d.symbol)]++];
      REQUIRE(d.ts == want.first);
      REQUIRE(same_bits(d.features[0], want.second[0]));  // the EMA updated through the closed bars
      REQUIRE(same_bits(d.features[1], want.second[1]));
    }
  };
  SUBCASE("backtest") { check(run_backtest_on(c.session, market, k15m).decision_log.records()); }
  SUBCASE("paper") {
    PaperOutcome p = replay(c, market, k15m);
    check(Journal::open(c.journal)->decisions(p.run_id));
  }
  SUBCASE("an unknown gate column is an error naming the columns") {
    std::ofstream(dir / "bad_gate.lua") << "return { features = { { name = 'ema', kind = 'ema', period = 5 } }, gate = 'nope',"
                                           " on_bar = function() end }\n";
    c.session.strategy = dir / "bad_gate.lua";
    CHECK_THROWS_WITH_AS(run_backtest_on(c.session, market, k15m), doctest::Contains("gate 'nope' is not one of its feature columns (ema)"),
                         InputError);
  }
}

TEST_CASE("a Session saved and restored into a new one every 97 slices ends with the ledger of one never stopped") {
  TempDir dir("session-test");
  RunConfig c = config(dir);
  auto market = market_with_gaps(2500, 7);
  BacktestResult straight = run_backtest_on(c.session, market, k15m);

  struct Keep : SessionSink {
    BacktestResult& r;
    explicit Keep(BacktestResult& x) : r(x) {}
    void on_decision(const DecisionView& d) override { r.decision_log.add(d); }
    void on_trade(const Trade& t) override { r.trades.push_back(t); }
    void on_mark(const EquityPoint& m) override { r.equity.push_back(m); }
    void on_final_mark(const EquityPoint& m) override { r.equity.back() = m; }
  };
  BacktestResult restored;
  Keep keep(restored);
  auto session = std::make_unique<Session>(c.session, k15m, keep);
  session->start();
  MarketMerge merge(market);
  TimeSlice slice;
  for (std::size_t n = 1; merge.next(slice); ++n) {
    for (const auto& [s, candle] : slice.candles) session->on_candle(s, candle);
    session->close(slice.ts);
    if (n % 97 == 0) {
      std::string bytes = session->save();
      session = std::make_unique<Session>(c.session, k15m, keep);
      session->load(bytes);
    }
  }
  session->finish();
  Recorded r{restored.trades, restored.equity, restored.decision_log.records()};
  check_same(straight, r);
}

TEST_CASE("warm-up, one story: ready when every feature has a value, settled after the declared warm-up, decisions from the first values") {
  TempDir dir("session-test");
  RunConfig c = config(dir, "");
  struct Decisions final : SessionSink {
    std::vector<TimestampMs> at;
    void on_decision(const DecisionView& d) override { at.push_back(d.ts); }
    void on_trade(const Trade&) override {}
    void on_mark(const EquityPoint&) override {}
    void on_final_mark(const EquityPoint&) override {}
  } sink;
  Session s(c.session, k15m, sink);
  // ema(8) has its first value at the 8th candle; settling (1e-12 of the start forgotten) takes far longer.
  CHECK(s.first_value_bars() == 8);
  CHECK(s.warmup_bars() > 100);
  CHECK(s.warmup_feature() == "ema_slow");
  const auto m = market_with_gaps(600, 5);
  std::size_t next[3] = {0, 0, 0};
  auto feed = [&](int symbol, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k, ++next[symbol]) s.on_candle(symbol, m[static_cast<std::size_t>(symbol)][next[symbol]]);
  };
  feed(0, 7), feed(1, 7);
  CHECK_FALSE(s.warm());  // SOL has seen nothing
  feed(2, 8);
  CHECK_FALSE(s.warm());  // BTC and ETH: 7 of 8
  feed(0, 1), feed(1, 1);
  CHECK(s.warm());
  CHECK(s.seen(0) == 8);
  CHECK_FALSE(s.settled());
  while (sink.at.empty() && next[0] + 1 < s.warmup_bars()) feed(0, 1);
  CHECK_FALSE(sink.at.empty());  // the strategy decides once its features have values, before they settle
  feed(0, s.warmup_bars() - next[0]), feed(1, s.warmup_bars() - next[1]);
  CHECK_FALSE(s.settled());  // SOL: 8
  feed(2, s.warmup_bars() - next[2]);
  CHECK(s.settled());
}
