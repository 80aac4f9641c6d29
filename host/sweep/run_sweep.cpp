#include "sweep/run_sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/sha256.hpp"
#include "core/state_archive.hpp"
#include "run/backtest.hpp"
#include "infer/train.hpp"
#include "run/run_config.hpp"
#include "sweep/cell_processes.hpp"

namespace onepath {
namespace {

using Clock = std::chrono::steady_clock;

// The market is read once: a cell may not change what is read.
void refuse_data_keys(const SweepConfig& c) {
  auto check = [&](const std::string& set, const std::string& where) {
    if (set.starts_with("data.") || set.starts_with("data="))
      throw InputError(c.path + ": " + where + " sets '" + set.substr(0, set.find('=')) +
                       "': a sweep reads the data once, so cells cannot change [data] (symbols and folds choose the candles)");
  };
  for (const auto& a : c.space) check(a.key + "=", "sweep.space");
  for (const auto& v : c.variants)
    for (const auto& s : v.sets) check(s, "variant '" + v.name + "'");
}

// The candles of `symbols` in [start, end).
std::vector<CandleSeries> window(const std::vector<CandleSeries>& market, const std::vector<std::string>& symbols, TimestampMs start,
                                 TimestampMs end) {
  std::vector<CandleSeries> out;
  for (const auto& name : symbols)
    for (const auto& s : market) {
      if (s.symbol != name) continue;
      CandleSeries w;
      w.symbol = s.symbol;
      const auto from = std::lower_bound(s.ts.begin(), s.ts.end(), start) - s.ts.begin();
      const auto to = std::lower_bound(s.ts.begin(), s.ts.end(), end) - s.ts.begin();
      w.reserve(static_cast<std::size_t>(to - from));
      for (auto i = from; i < to; ++i) w.push_back(s[static_cast<std::size_t>(i)]);
      out.push_back(std::move(w));
    }
  return out;
}

bool trains(const RunConfig& c) { return !c.train.out.empty() || !c.train.features.empty(); }

std::string ledger_sha256(const BacktestResult& r) {
  StateWriter w;
  w(r.trades);
  w(r.equity);
  return sha256_hex(w.bytes());
}

BacktestResult backtest_on(const RunConfig& rc, const SweepCell& cell, const std::vector<CandleSeries>& market, Timeframe tf, FeatureShare* share) {
  SessionConfig session = rc.session;
  session.symbols = cell.symbols;
  return run_backtest_on(session, window(market, cell.symbols, cell.test_start, cell.test_end), tf, {}, share);
}

CellResult run_on(const RunConfig& rc, const SweepCell& cell, const std::vector<CandleSeries>& market, Timeframe tf, const std::string& objective,
                  FeatureShare* share) {
  const auto t0 = Clock::now();
  const BacktestResult b = backtest_on(rc, cell, market, tf, share);
  CellResult r;
  r.cell = cell.index;
  r.metrics = b.metrics;
  r.candles = b.candles;
  r.decisions = b.decisions;
  r.objective = objective_of(b.metrics, objective);
  r.ledger_sha256 = ledger_sha256(b);
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

// Successive halving, rung by rung: the choices alive run on the first n folds (every
// group); the best 1/eta of them (constraints first, then the objective) go on to eta x n
// folds, until every fold. A rung waits for all its cells, so which choices go on depends on
// results only, never on the workers; a resumed sweep takes the same path.
template <class RunBatch>
void run_halving(const SweepConfig& c, SweepOutcome& out, RunBatch&& run_batch) {
  std::size_t most_folds = 0;
  for (const auto& f : out.plan.folds) most_folds = std::max(most_folds, f.size());
  std::set<std::pair<std::size_t, std::size_t>> alive;
  for (const auto& cell : out.plan.cells) alive.insert({cell.point, cell.variant});
  for (std::size_t folds = std::min<std::size_t>(1, most_folds);;) {
    std::vector<std::size_t> batch;
    for (const auto& cell : out.plan.cells)
      if (cell.fold < folds && alive.count({cell.point, cell.variant})) batch.push_back(cell.index);
    run_batch(batch);
    if (folds >= most_folds) break;
    std::vector<std::optional<CellResult>> rung(out.results.size());
    for (std::size_t i : batch) rung[i] = out.results[i];
    const std::vector<RankedChoice> ranked = rank_cells(c, out.plan, rung);
    const std::size_t keep = (alive.size() + c.eta - 1) / c.eta;
    alive.clear();
    for (std::size_t k = 0; k < keep; ++k) alive.insert({ranked[k].point, ranked[k].variant});
    folds = keep <= 1 ? most_folds : std::min(most_folds, folds * c.eta);  // the last one left runs every fold
  }
}

}  // namespace

double objective_of(const Metrics& m, const std::string& name) {
  if (name == "sharpe") return m.sharpe;
  if (name == "sortino") return m.sortino;
  if (name == "calmar") return m.calmar;
  if (name == "total_return") return m.total_return;
  if (name == "cagr") return m.cagr;
  if (name == "profit_factor") return m.profit_factor;
  if (name == "win_rate") return m.win_rate;
  if (name == "max_drawdown") return m.max_drawdown;
  if (name == "final_equity") return m.final_equity;
  if (name == "trades") return static_cast<double>(m.trades);
  throw InputError("no sweep objective named '" + name + "'");
}

SweepSetup prepare_sweep(const SweepConfig& c) {
  refuse_data_keys(c);
  SweepSetup s{load_run_config(c.run_path), Timeframe::parse("15m"), {}, {}};
  if (trains(s.base) && c.folds.train == 0)
    throw InputError(c.path + ": " + c.run_path + " trains a model ([train]), so each fold needs a train window: set [sweep.folds] train (bars) > 0");
  use_model_registry(s.base.registry);
  s.market = load_market(s.base, s.tf);
  s.plan = plan_sweep(c, s.market);
  return s;
}

CellRunner::CellRunner(const SweepConfig& config, const SweepSetup& setup) : config_(config), setup_(setup) {
  if (!trains(setup.base)) return;
  std::string pattern = (std::filesystem::temp_directory_path() / "onepath-sweep-models-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot make a folder for the sweep's models in " + std::filesystem::temp_directory_path().string());
  model_dir_ = pattern;
}

CellRunner::~CellRunner() {
  std::error_code ec;
  if (!model_dir_.empty()) std::filesystem::remove_all(model_dir_, ec);
}

std::string CellRunner::model_for(const SweepCell& cell, const RunConfig& rc) const {
  std::string key;
  for (const auto& s : cell.sets)
    if (s.starts_with("train.")) key += s + "\n";
  for (const auto& s : cell.symbols) key += s + ",";
  key += "|" + std::to_string(cell.train_start) + "|" + std::to_string(cell.train_end);
  {
    std::lock_guard<std::mutex> hold(lock_);
    if (auto it = models_.find(key); it != models_.end()) return it->second;
  }
  // Trained outside the lock; two processes may train the same one, each into its own file.
  TrainConfig t = rc.train;
  t.start = t.end = std::nullopt;
  t.out = (std::filesystem::path(model_dir_) / (sha256_hex(key).substr(0, 16) + "-" + std::to_string(::getpid()) + ".json")).string();
  TrainInput in;
  in.market = window(setup_.market, cell.symbols, cell.train_start, cell.train_end);
  in.timeframe = setup_.tf;
  in.same_bar = rc.session.execution.same_bar;
  in.config_path = rc.path;
  in.config_sha256 = sha256_hex(rc.text);
  train_model(t, in);
  std::lock_guard<std::mutex> hold(lock_);
  return models_.emplace(key, t.out).first->second;
}

std::shared_ptr<const RunConfig> CellRunner::cell_config(const SweepCell& cell) const {
  std::shared_ptr<const RunConfig> config = config_of(cell);
  if (model_dir_.empty()) return config;
  auto own = std::make_shared<RunConfig>(*config);
  own->session.params["model"] = model_for(cell, *config);
  return own;
}

std::shared_ptr<const RunConfig> CellRunner::config_of(const SweepCell& cell) const {
  std::lock_guard<std::mutex> hold(lock_);
  auto& slot = configs_[{cell.point, cell.variant}];
  if (!slot) slot = std::make_shared<const RunConfig>(load_run_config(config_.run_path, cell.sets));
  return slot;
}

CellResult CellRunner::run(const SweepCell& cell) const {
  return run_on(*cell_config(cell), cell, setup_.market, setup_.tf, config_.objective, &features_);
}

BacktestResult CellRunner::backtest(const SweepCell& cell) const { return backtest_on(*cell_config(cell), cell, setup_.market, setup_.tf, &features_); }

std::string ledger_sha256_of(const BacktestResult& b) { return ledger_sha256(b); }

std::vector<RankedChoice> rank_cells(const SweepConfig& c, const SweepPlan& plan, const std::vector<std::optional<CellResult>>& results) {
  std::map<std::pair<std::size_t, std::size_t>, std::vector<const CellResult*>> by_choice;
  std::map<std::pair<std::size_t, std::size_t>, std::vector<std::pair<double, std::size_t>>> fold_sums;  // sum and count per fold
  std::size_t most_folds = 0;
  for (const auto& f : plan.folds) most_folds = std::max(most_folds, f.size());
  for (const auto& cell : plan.cells) most_folds = std::max(most_folds, cell.fold + 1);
  for (const auto& cell : plan.cells) {
    if (!results[cell.index]) continue;
    by_choice[{cell.point, cell.variant}].push_back(&*results[cell.index]);
    auto& sums = fold_sums[{cell.point, cell.variant}];
    sums.resize(most_folds);
    sums[cell.fold].first += results[cell.index]->objective;
    ++sums[cell.fold].second;
  }
  std::vector<RankedChoice> out;
  for (const auto& [key, cells] : by_choice) {
    RankedChoice r;
    r.point = key.first, r.variant = key.second, r.cells = cells.size();
    r.sets = point_sets(c, plan.points[key.first]);
    r.sets.insert(r.sets.end(), c.variants[key.second].sets.begin(), c.variants[key.second].sets.end());
    std::vector<double> v;
    r.min_trades = cells.front()->metrics.trades;
    std::size_t undefined = 0;
    for (const CellResult* x : cells) {
      r.min_trades = std::min(r.min_trades, x->metrics.trades);
      if (std::isnan(x->objective)) ++undefined;
      else v.push_back(x->objective);
    }
    if (undefined) {
      r.score = r.mean = r.stddev = std::numeric_limits<double>::quiet_NaN();
      r.passes = false;
      r.why_not = c.objective + " is undefined in " + std::to_string(undefined) + " of " + std::to_string(cells.size()) + " cells (no trades, no variance)";
    } else {
      double sum = 0;
      for (double x : v) sum += x;
      r.mean = sum / static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - r.mean) * (x - r.mean);
      r.stddev = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
      std::vector<double> sorted = v;
      std::sort(sorted.begin(), sorted.end());
      switch (c.aggregate) {
        case SweepConfig::Aggregate::mean: r.score = r.mean; break;
        case SweepConfig::Aggregate::median: {
          const std::size_t n = sorted.size();
          r.score = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
          break;
        }
        case SweepConfig::Aggregate::worst: r.score = c.maximize ? sorted.front() : sorted.back(); break;
      }
    }
    std::vector<double> run_folds;
    for (const auto& [sum, n] : fold_sums[key]) {
      r.per_fold.push_back(n ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN());
      if (n) run_folds.push_back(r.per_fold.back());
    }
    r.fold_variance = 0;
    if (run_folds.size() > 1) {
      double m = 0, ss = 0;
      for (double x : run_folds) m += x;
      m /= static_cast<double>(run_folds.size());
      for (double x : run_folds) ss += (x - m) * (x - m);
      r.fold_variance = ss / static_cast<double>(run_folds.size() - 1);
    }
    if (r.passes && c.max_fold_variance >= 0 && !(r.fold_variance <= c.max_fold_variance)) {
      r.passes = false;
      r.why_not = "abandon: " + c.objective + " varies across folds by " + std::to_string(r.fold_variance) + " (variance), above max_fold_variance = " +
                  std::to_string(c.max_fold_variance);
    }
    if (r.passes && c.min_trades_per_fold > 0 && r.min_trades < static_cast<std::int64_t>(c.min_trades_per_fold)) {
      r.passes = false;
      r.why_not = "a fold has " + std::to_string(r.min_trades) + " trades, fewer than min_trades_per_fold = " + std::to_string(c.min_trades_per_fold);
    }
    out.push_back(std::move(r));
  }
  // Passing choices by score (best first), then the rest; ties keep the sweep's order.
  std::stable_sort(out.begin(), out.end(), [&](const RankedChoice& a, const RankedChoice& b) {
    if (a.passes != b.passes) return a.passes;
    if (a.cells != b.cells) return a.cells > b.cells;  // halving: the choices that went further first
    if (!a.passes) return false;
    return c.maximize ? a.score > b.score : a.score < b.score;
  });
  return out;
}

SweepOutcome run_sweep(const SweepConfig& c, const SweepOptions& o) { return run_sweep(c, prepare_sweep(c), o); }

SweepOutcome run_sweep(const SweepConfig& c, const SweepSetup& setup, const SweepOptions& o) {
  const auto t0 = Clock::now();
  const CellRunner runner(c, setup);
  SweepOutcome out;
  out.plan = setup.plan;
  const std::size_t total = out.plan.cells.size();
  out.results.resize(total);
  if (o.done)
    for (const auto& cell : out.plan.cells) out.results[cell.index] = o.done(cell);

  std::size_t finished = 0;
  for (const auto& r : out.results) finished += r.has_value();
  const int workers = std::max(1, o.workers > 0 ? o.workers : c.workers);
  // The cells of `batch` not done yet, on worker processes here or on the executor; returns
  // when all are.
  auto run_batch = [&](const std::vector<std::size_t>& batch) {
    std::vector<std::size_t> missing;
    for (std::size_t i : batch)
      if (!out.results[i]) missing.push_back(i);
    if (missing.empty()) return;
    if (o.executor) {
      o.executor(missing, out);
      out.ran += missing.size();
      return;
    }
    run_cells_in_processes(runner, out.plan, missing, workers, [&](const SweepCell& cell, CellResult r) {
      if (o.on_cell) o.on_cell(cell, r);
      out.results[cell.index] = std::move(r);
      ++out.ran;
      if (o.progress) o.progress(++finished, total);
    });
  };
  if (c.search != SweepConfig::Search::halving) {
    std::vector<std::size_t> all(total);
    for (std::size_t i = 0; i < total; ++i) all[i] = i;
    run_batch(all);
  } else {
    run_halving(c, out, run_batch);
  }
  out.ranking = rank_cells(c, out.plan, out.results);
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

}  // namespace onepath
