// Eq. 1-5 of seed 001 and the lookahead analysis, on one case.
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <unistd.h>

#include "certify/checks.hpp"
#include "enrich/cross_symbol.hpp"
#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/time.hpp"
#include "infer/model.hpp"
#include "infer/model_feature.hpp"
#include "infer/xgboost.hpp"
#include "plugin/loader.hpp"
#include "run/decision_log.hpp"
#include "run/market_merge.hpp"
#include "run/paper.hpp"
#include "run/session.hpp"

namespace onepath {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Collector : SessionSink {
  DecisionLog log;
  RunRecord& r;
  explicit Collector(RunRecord& record) : r(record) {}
  void on_decision(const DecisionView& d) override { log.add(d); }
  void on_trade(const Trade& t) override { r.trades.push_back(t); }
  void on_mark(const EquityPoint& m) override { r.marks.push_back(m); }
  void on_final_mark(const EquityPoint& m) override { r.marks.back() = m; }
};

std::optional<Candle> candle_at(const CandleSeries& s, TimestampMs ts) {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s.ts[i] == ts) return s[i];
  return std::nullopt;
}

// A divergence at a symbol's bar, with its candle and its batch feature row.
ParityDivergence at_bar(const CertifyCase& c, const std::string& stage, int symbol, TimestampMs ts, std::string field, std::string a, std::string b,
                  std::string how) {
  ParityDivergence d;
  d.stage = stage;
  d.case_name = c.name;
  d.symbol = c.session.symbols[static_cast<std::size_t>(symbol)];
  d.ts = ts;
  d.field = std::move(field);
  d.a = std::move(a);
  d.b = std::move(b);
  d.how = std::move(how);
  const CandleSeries& s = c.market[static_cast<std::size_t>(symbol)];
  d.candle = candle_at(s, ts);
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s.ts[i] == ts && static_cast<std::size_t>(symbol) < c.batch.size())
      for (std::size_t k = 0; k < c.columns.size(); ++k) d.row.emplace_back(c.columns[k], c.batch[static_cast<std::size_t>(symbol)][k][i]);
  return d;
}

// The first field two decisions differ in ("" when none).
std::string decision_difference(const DecisionRecord& a, const DecisionRecord& b, std::string& va, std::string& vb) {
  auto text = [&](const char* name, const std::string& x, const std::string& y) {
    if (x == y) return std::string();
    va = x, vb = y;
    return std::string(name);
  };
  if (a.ts != b.ts) return text("ts", format_iso(a.ts), format_iso(b.ts));
  if (a.symbol != b.symbol) return text("symbol", std::to_string(a.symbol), std::to_string(b.symbol));
  for (auto [name, x, y] : {std::tuple{"action", &a.action, &b.action}, std::tuple{"outcome", &a.outcome, &b.outcome},
                            std::tuple{"filter", &a.filter, &b.filter}, std::tuple{"reason", &a.reason, &b.reason},
                            std::tuple{"risk", &a.risk, &b.risk}, std::tuple{"strategy_version", &a.strategy_version, &b.strategy_version}})
    if (std::string f = text(name, *x, *y); !f.empty()) return f;
  if (!same_value(a.quantity, b.quantity)) return text("quantity", value_and_bits(a.quantity), value_and_bits(b.quantity));
  if (a.features.size() != b.features.size()) return text("features", std::to_string(a.features.size()) + " values", std::to_string(b.features.size()) + " values");
  for (std::size_t k = 0; k < a.features.size(); ++k)
    if (!same_value(a.features[k], b.features[k])) return text(("feature #" + std::to_string(k + 1)).c_str(), value_and_bits(a.features[k]), value_and_bits(b.features[k]));
  return "";
}

std::string trade_difference(const Trade& a, const Trade& b, std::string& va, std::string& vb) {
  auto num = [&](const char* name, double x, double y) {
    if (same_value(x, y)) return std::string();
    va = value_and_bits(x), vb = value_and_bits(y);
    return std::string(name);
  };
  auto whole = [&](const char* name, std::int64_t x, std::int64_t y) {
    if (x == y) return std::string();
    va = std::to_string(x), vb = std::to_string(y);
    return std::string(name);
  };
  for (auto [name, x, y] : {std::tuple{"entry_ts", a.entry_ts, b.entry_ts}, std::tuple{"exit_ts", a.exit_ts, b.exit_ts},
                            std::tuple{"entry_bar", a.entry_bar, b.entry_bar}, std::tuple{"exit_bar", a.exit_bar, b.exit_bar},
                            std::tuple{"symbol", std::int64_t{a.symbol}, std::int64_t{b.symbol}},
                            std::tuple{"direction", std::int64_t{a.direction}, std::int64_t{b.direction}},
                            std::tuple{"reason", std::int64_t(a.reason), std::int64_t(b.reason)}})
    if (std::string f = whole(name, x, y); !f.empty()) return f;
  for (auto [name, x, y] : {std::tuple{"quantity", a.quantity, b.quantity}, std::tuple{"entry_price", a.entry_price, b.entry_price},
                            std::tuple{"exit_price", a.exit_price, b.exit_price}, std::tuple{"fees", a.fees, b.fees},
                            std::tuple{"slippage", a.slippage, b.slippage}, std::tuple{"pnl", a.pnl, b.pnl}})
    if (std::string f = num(name, x, y); !f.empty()) return f;
  return "";
}

std::string mark_difference(const EquityPoint& a, const EquityPoint& b, std::string& va, std::string& vb) {
  if (a.ts != b.ts) return va = format_iso(a.ts), vb = format_iso(b.ts), "ts";
  for (auto [name, x, y] : {std::tuple{"equity", a.equity, b.equity}, std::tuple{"cash", a.cash, b.cash},
                            std::tuple{"gross_exposure", a.gross_exposure, b.gross_exposure}})
    if (!same_value(x, y)) return va = value_and_bits(x), vb = value_and_bits(y), name;
  return "";
}

// Two lists item by item: the first item that differs, or that one list has and the other
// not, as a divergence. `where` gives an item's symbol and time.
template <class T, class Difference, class Where>
bool compare_lists(const CertifyCase& c, const std::vector<T>& a, const std::vector<T>& b, const std::string& what, const std::string& stage,
                   const std::string& how, Difference difference, Where where, std::optional<ParityDivergence>& first, std::size_t& compared) {
  std::string va, vb;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i, ++compared) {
    const std::string f = difference(a[i], b[i], va, vb);
    if (f.empty()) continue;
    const auto [symbol, ts] = where(a[i]);
    first = at_bar(c, stage, symbol, ts, what + " #" + std::to_string(i + 1) + " " + f, va, vb, how);
    return false;
  }
  if (a.size() == b.size()) return true;
  const auto [symbol, ts] = where(a.size() > n ? a[n] : b[n]);
  auto count = [&](const std::vector<T>& x) { return x.size() > n ? "present (" + std::to_string(x.size()) + " in all)" : "(none)"; };
  first = at_bar(c, stage, symbol, ts, what + " #" + std::to_string(n + 1), count(a), count(b), how);
  return false;
}

// Decisions, then trades, then marks of two runs: the first difference, as a divergence.
// `decisions_stage` / `ledger_stage` name the equation each part belongs to.
bool compare_runs(const CertifyCase& c, const RunRecord& a, const RunRecord& b, const std::string& decisions_stage, const std::string& ledger_stage,
                  const std::string& how, std::optional<ParityDivergence>& first, std::size_t& compared) {
  return compare_lists(c, a.decisions, b.decisions, "decision", decisions_stage, how, decision_difference,
                       [](const DecisionRecord& d) { return std::pair{d.symbol, d.ts}; }, first, compared) &&
         compare_lists(c, a.trades, b.trades, "trade", ledger_stage, how, trade_difference,
                       [](const Trade& t) { return std::pair{t.symbol, t.exit_ts}; }, first, compared) &&
         compare_lists(c, a.marks, b.marks, "equity mark", ledger_stage, how, mark_difference,
                       [](const EquityPoint& m) { return std::pair{0, m.ts}; }, first, compared);
}

// Distinct random points in [lo, hi), sorted; fewer when the range is small.
std::vector<std::size_t> random_points(Rng& rng, std::size_t lo, std::size_t hi, int count) {
  std::vector<std::size_t> out;
  if (hi <= lo) return out;
  for (int tries = 0; static_cast<int>(out.size()) < count && tries < count * 20; ++tries) {
    const std::size_t p = lo + static_cast<std::size_t>(rng.below(hi - lo));
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

RunRecord run_case(const CertifyCase& c, std::optional<std::size_t> restore_after, const std::vector<CandleSeries>* market) {
  RunRecord r;
  Collector sink(r);
  auto session = std::make_unique<Session>(c.session, c.tf, sink);
  session->start();
  MarketMerge merge(market ? *market : c.market);
  TimeSlice slice;
  std::size_t slices = 0;
  while (merge.next(slice)) {
    session->open(slice);
    for (const auto& [symbol, candle] : slice.candles) session->on_candle(symbol, candle);
    session->close(slice.ts);
    run_plugin_work();
    if (restore_after && ++slices == *restore_after) {
      const std::string state = session->save();
      session.reset();  // one session at a time: plugins' services start and stop with it
      session = std::make_unique<Session>(c.session, c.tf, sink);
      session->load(state);
    }
  }
  r.state = session->save();
  session->finish();
  r.decisions = sink.log.records();
  return r;
}

// Eq. 1: every column, batch against streaming at every bar; and at random split points, a
// bootstrap on the history before it, saved, restored into a new enricher and streamed on.
StageResult check_features(const CertifyCase& c, Rng& rng, int splits, std::optional<ParityDivergence>& first) {
  const auto t0 = Clock::now();
  const Enricher probe(c.features, c.tf);
  const std::vector<double>& tolerance = probe.tolerances();
  std::string ladder = "exact (no kind declares a tolerance)";
  if (const auto declared = probe.declared_tolerances(); !declared.empty()) {
    ladder = "exact, except";
    for (const auto& t : declared) ladder += " " + t.column + " within " + format_short(t.relative) + " relative (" + t.kind + ");";
    ladder.pop_back();
  }
  StageResult r{"Eq. 1 features", "identical", 0, "batch vs streaming at every bar of every column; bootstrap, snapshot and restore at " +
                                                     std::to_string(splits) + " random bars per symbol; " + ladder};
  const std::size_t n_cols = c.columns.size();
  bool within = false;  // a value differed within its declared tolerance
  std::vector<double> row(n_cols);
  // Features of other symbols: each bar's joined values as a stream gives them (the batch
  // joined them by time), per symbol, one column per external.
  std::vector<FeatureColumns> externals(c.market.size(), FeatureColumns(probe.external_count()));
  if (probe.external_count() > 0) {
    std::vector<std::string> symbols;
    for (const auto& m : c.market) symbols.push_back(m.symbol);
    CrossSymbolJoin join(c.features, c.tf, symbols);
    MarketMerge merge(c.market);
    TimeSlice slice;
    std::vector<double> values(probe.external_count());
    while (merge.next(slice)) {
      for (const auto& [symbol, candle] : slice.candles) join.update(symbol, candle);
      for (const auto& [symbol, candle] : slice.candles) {
        join.externals(candle.ts, values.data());
        for (std::size_t k = 0; k < values.size(); ++k) externals[static_cast<std::size_t>(symbol)][k].push_back(values[k]);
      }
    }
  }
  for (std::size_t s = 0; s < c.market.size() && !first; ++s) {
    const CandleSeries& series = c.market[s];
    const FeatureColumns& batch = c.batch[s];
    std::vector<double> given(probe.external_count());
    auto compare_rows = [&](Enricher& e, std::size_t from, const std::string& how) {
      for (std::size_t i = from; i < series.size(); ++i) {
        for (std::size_t k = 0; k < given.size(); ++k) given[k] = externals[s][k][i];
        e.set_externals(given.data());
        e.update(series[i]);
        e.emit(row.data());
        for (std::size_t k = 0; k < n_cols; ++k, ++r.compared)
          if (!same_value(batch[k][i], row[k]) && (within = true, !same_within(batch[k][i], row[k], tolerance[k]))) {
            first = at_bar(c, r.stage, static_cast<int>(s), series.ts[i], "column " + c.columns[k], "batch " + value_and_bits(batch[k][i]),
                           "stream " + value_and_bits(row[k]), how);
            return false;
          }
      }
      return true;
    };
    Enricher stream(c.features, c.tf);
    if (!compare_rows(stream, 0, "batch vs stream from the first candle")) break;
    for (std::size_t k : random_points(rng, 1, series.size(), splits)) {
      Enricher before(c.features, c.tf);
      CandleSeries head;
      head.symbol = series.symbol;
      for (std::size_t i = 0; i < k; ++i) head.push_back(series[i]);
      FeatureColumns head_externals(given.size()), head_cols;
      for (std::size_t x = 0; x < given.size(); ++x) head_externals[x].assign(externals[s][x].begin(), externals[s][x].begin() + static_cast<std::ptrdiff_t>(k));
      before.enrich_batch(head, head_cols, 1, &head_externals);  // a bootstrap on all of it, however short (no warm-up warning)
      Enricher after(c.features, c.tf);
      after.load_snapshot(before.save_snapshot(series.symbol), series.symbol);
      if (!compare_rows(after, k, "bootstrapped on the " + std::to_string(k) + " candles before " + format_iso(series.ts[k]) +
                                      ", snapshotted, restored, streamed on"))
        break;
    }
  }
  if (within) r.verdict = "identical within the declared tolerances";
  if (first) r.verdict = "diverged";
  r.seconds = since(t0);
  return r;
}

void compare_scores(const CertifyCase& c, const std::string& model, const ModelScores& m, StageResult& r, std::optional<ParityDivergence>& first) {
  const std::size_t n = m.where.size();
  for (std::size_t i = 0; i < n && !first; ++i)
    for (std::size_t o = 0; o < m.outputs && !first; ++o, ++r.compared) {
      const std::size_t at = i * m.outputs + o;
      const auto [s, bar] = m.where[i];
      const TimestampMs ts = c.market[static_cast<std::size_t>(s)].ts[bar];
      const std::string field = model + " output " + std::to_string(o), how = "row " + std::to_string(i + 1) + " of " + std::to_string(n);
      if (!same_value(m.batch[at], m.rows[at]))
        first = at_bar(c, r.stage, s, ts, field, "native batch " + value_and_bits(m.batch[at]), "native row " + value_and_bits(m.rows[at]), how);
      else if (at >= m.xgb.size() || !same_value(m.batch[at], m.xgb[at]))
        first = at_bar(c, r.stage, s, ts, field, "native " + value_and_bits(m.batch[at]),
                       "libxgboost " + (at < m.xgb.size() ? value_and_bits(m.xgb[at]) : std::string("(no value)")), how);
    }
}

// Eq. 2: each model of the set, on the rows its inputs have in the batch columns: native
// batch vs native one row at a time vs libxgboost.
StageResult check_models(const CertifyCase& c, std::optional<ParityDivergence>& first) {
  const auto t0 = Clock::now();
  StageResult r{"Eq. 2 models", "identical", 0, ""};
  std::size_t models = 0;
  for (const FeatureSpec& f : c.features.features) {
    if (f.indicator.kind != "model" || first) continue;
    ++models;
    const ModelRef ref = resolve_model(f);
    const TreeModel& m = *ref.loaded.model;
    const int nf = m.features(), outs = m.outputs();
    std::vector<std::size_t> input_columns;
    for (const auto& name : f.inputs)
      input_columns.push_back(static_cast<std::size_t>(std::find(c.columns.begin(), c.columns.end(), name) - c.columns.begin()));
    std::vector<float> x;
    std::vector<std::pair<int, std::size_t>> where;  // (symbol, bar) of each row
    for (std::size_t s = 0; s < c.batch.size(); ++s)
      for (std::size_t i = 0; i < c.market[s].size(); ++i) {
        for (std::size_t col : input_columns) x.push_back(col < c.columns.size() ? static_cast<float>(c.batch[s][col][i]) : NAN);
        where.emplace_back(static_cast<int>(s), i);
      }
    const std::size_t n = where.size(), width = static_cast<std::size_t>(outs);
    ModelScores scores{std::move(where), width, std::vector<float>(n * width), std::vector<float>(n * width), {}};
    m.predict_batch(x.data(), n, scores.batch.data());
    for (std::size_t i = 0; i < n; ++i) m.predict(x.data() + i * static_cast<std::size_t>(nf), scores.rows.data() + i * width);
    XgbBooster reference = XgbBooster::from_json(ref.model_json);
    reference.set_param("nthread", "1");
    scores.xgb = reference.predict(x.data(), n, nf);
    compare_scores(c, "model " + f.name + " (" + ref.label + ")", scores, r, first);
  }
  if (models == 0) r.verdict = "skipped (the feature set has no model)";
  else r.note = std::to_string(models) + " model(s): native batch vs native one row at a time vs libxgboost " + xgboost_version() + ", every row of every symbol";
  if (first) r.verdict = "diverged";
  r.seconds = since(t0);
  return r;
}

std::vector<StageResult> check_restore(const CertifyCase& c, const RunRecord& straight, Rng& rng, int splits, std::optional<ParityDivergence>& first) {
  const auto t0 = Clock::now();
  StageResult decisions{"Eq. 3 decisions and filters", "identical", 0, ""};
  StageResult ledger{"Eq. 4 execution", "identical", 0, ""};
  MarketMerge merge(c.market);
  std::size_t slices = 0;
  for (TimeSlice s; merge.next(s);) ++slices;
  auto points = random_points(rng, 1, slices, splits);
  for (std::size_t k : c.restore_at)
    if (k < slices && std::find(points.begin(), points.end(), k) == points.end()) points.push_back(k);
  std::sort(points.begin(), points.end());
  for (std::size_t k : points) {
    const RunRecord restored = run_case(c, k);
    std::size_t compared = 0;
    const std::string how = "an uninterrupted run vs one saved and restored after time slice " + std::to_string(k);
    const bool same = compare_runs(c, straight, restored, decisions.stage, ledger.stage, how, first, compared);
    decisions.compared += std::min(compared, straight.decisions.size());
    ledger.compared += compared - std::min(compared, straight.decisions.size());
    if (!same) break;
    if (straight.state != restored.state) {
      first = ParityDivergence{ledger.stage, c.name, "", "the saved state at the end: " + Session::state_difference(straight.state, restored.state), 0,
                         "uninterrupted: " + std::to_string(straight.state.size()) + " bytes", "restored: " + std::to_string(restored.state.size()) + " bytes, other bytes",
                         how, std::nullopt, {}};
      break;
    }
  }
  decisions.note = "the strategy's and the filter chain's decisions, uninterrupted vs saved and restored at " + std::to_string(points.size()) + " slices" +
                   (c.restore_at.empty() ? " (random)" : " (random, inside each burst, in the drought and as it ends)");
  if (c.probe) decisions.note += "; a probe strategy: 20 bars of buys per symbol, 500 of nothing, 20 more, through the config's filters, risk and execution";
  ledger.note = "trades, equity marks, and the state before the close-out (orders, lots, filters, risk) under the same restores";
  if (first) (first->stage == decisions.stage ? decisions : ledger).verdict = "diverged";
  if (first && first->stage == decisions.stage) ledger.verdict = "not reached";
  decisions.seconds = ledger.seconds = since(t0) / 2;
  return {decisions, ledger};
}

// Eq. 5: a paper session replaying the case's market at full speed, journaled to a
// throwaway SQLite file, against the backtest: every decision, trade and mark.
StageResult check_paper(const CertifyCase& c, const RunRecord& straight, std::optional<ParityDivergence>& first) {
  const auto t0 = Clock::now();
  StageResult r{"Eq. 5 end to end", "identical", 0, "a paper session replaying the data at full speed (feed, event loop, journal) vs the backtest"};
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("onepath-certify-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  RunConfig rc;
  rc.path = (dir / "certify.toml").string();
  rc.session = c.session;
  rc.journal = (dir / "journal.db").string();
  rc.registry = c.registry;
  rc.equity_every = 1;
  rc.paper.port = -1;
  rc.paper.reload = false;
  rc.paper.dir = (dir / "paper").string();
  rc.paper.snapshot_every = std::numeric_limits<std::size_t>::max();
  PaperOptions o;
  o.fresh = true;
  const PaperOutcome p = run_paper(rc, make_replay_feed(c.market, c.tf, 0), o);
  auto journal = Journal::open(rc.journal);
  RunRecord paper;
  paper.decisions = journal->decisions(p.run_id);
  for (const auto& t : journal->trades(p.run_id)) {  // the journal names the symbol
    paper.trades.push_back(t.trade);
    const auto& symbols = c.session.symbols;
    paper.trades.back().symbol = static_cast<int>(std::find(symbols.begin(), symbols.end(), t.symbol) - symbols.begin());
  }
  paper.marks = journal->equity(p.run_id);
  paper.state = straight.state;
  compare_runs(c, straight, paper, r.stage, r.stage, "the backtest vs a paper replay at full speed", first, r.compared);
  if (first) r.verdict = "diverged";
  r.seconds = since(t0);
  return r;
}

// Lookahead: at random cut points T, the data after T removed, then replaced by another
// continuation: every feature value and decision at or before T must stay as the full run had them.
StageResult check_lookahead(const CertifyCase& c, const RunRecord& straight, Rng& rng, int cuts, std::optional<ParityDivergence>& first) {
  const auto t0 = Clock::now();
  StageResult r{"lookahead", "identical", 0, ""};
  const CandleSeries& lead = c.market[0];
  const auto points = random_points(rng, lead.size() / 4, lead.size() > 1 ? lead.size() - 1 : 0, cuts);
  for (std::size_t n = 0; n < points.size(); ++n) {
    const TimestampMs cut = lead.ts[points[n]];
    for (int variant = 0; variant < 2 && !first; ++variant) {
      std::vector<CandleSeries> market;
      for (const CandleSeries& s : c.market) {
        CandleSeries m;
        m.symbol = s.symbol;
        double drift = 1;
        for (std::size_t i = 0; i < s.size(); ++i) {
          Candle x = s[i];
          if (x.ts > cut) {
            if (variant == 0) break;
            drift *= std::exp(0.02 * rng.normal());  // another future: the same times, other prices
            x.open *= drift, x.high *= drift, x.low *= drift, x.close *= drift;
          }
          m.push_back(x);
        }
        market.push_back(std::move(m));
      }
      const std::string how = std::string(variant == 0 ? "the data after " : "another continuation after ") + format_iso(cut) +
                              " (cut " + std::to_string(n + 1) + " of " + std::to_string(points.size()) + ")";
      const std::vector<FeatureColumns> enriched = enrich_market(c.features, c.tf, market);
      for (std::size_t s = 0; s < market.size() && !first; ++s) {
        const FeatureColumns& cols = enriched[s];
        for (std::size_t i = 0; i < market[s].size() && market[s].ts[i] <= cut && !first; ++i)
          for (std::size_t k = 0; k < cols.size(); ++k, ++r.compared)
            if (!same_value(c.batch[s][k][i], cols[k][i])) {
              first = at_bar(c, r.stage, static_cast<int>(s), market[s].ts[i], "column " + c.columns[k] + " reads the future",
                             "full data " + value_and_bits(c.batch[s][k][i]), (variant == 0 ? "cut data " : "other future ") + value_and_bits(cols[k][i]), how);
              break;
            }
      }
      if (first) break;
      RunRecord cut_run = run_case(c, std::nullopt, &market);
      RunRecord full_before, cut_before;
      for (const auto& d : straight.decisions)
        if (d.ts <= cut) full_before.decisions.push_back(d);
      for (const auto& d : cut_run.decisions)
        if (d.ts <= cut) cut_before.decisions.push_back(d);
      std::size_t compared = 0;
      if (!compare_runs(c, full_before, cut_before, r.stage, r.stage, how, first, compared)) first->field += " (a decision reads the future)";
      r.compared += compared;
    }
    if (first) break;
  }
  r.note = "features and decisions at or before " + std::to_string(points.size()) + " random cuts: the data after each removed, then replaced by a random continuation";
  if (first) r.verdict = "diverged";
  r.seconds = since(t0);
  return r;
}

}  // namespace onepath
