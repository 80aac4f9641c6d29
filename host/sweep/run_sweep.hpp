#pragma once
// Running a sweep's cells on this machine: each cell is a backtest of the RUN.toml with the
// cell's overrides, on its symbols' candles inside its fold's test window — the Session's
// step, as `onepath backtest` runs it, no shortcut. The market is read once and shared
// read-only by the worker threads; results are kept per cell and ranked per (point, variant)
// by the objective aggregated over the folds (and symbols).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exec/metrics.hpp"
#include "run/feature_share.hpp"
#include "run/run_config.hpp"
#include "sweep/plan.hpp"

namespace onepath {

struct BacktestResult;

struct CellResult {
  std::size_t cell = 0;
  Metrics metrics;
  std::size_t candles = 0, decisions = 0;
  double objective = 0;        // the sweep's metric of this cell (NaN when undefined)
  std::string ledger_sha256;   // the trades and equity marks, field by field
  double seconds = 0;
};

// A (point, variant) over its cells: the objective aggregated over folds and symbols.
struct RankedChoice {
  std::size_t point = 0, variant = 0;
  std::vector<std::string> sets;
  double score = 0, mean = 0, stddev = 0;  // score: the sweep's aggregate of the cells' objectives
  std::size_t cells = 0;
  std::int64_t min_trades = 0;  // the fewest trades of any of its cells (a fold of a symbol)
  std::vector<double> per_fold;  // the objective per fold, the mean over its symbol groups (NaN: a fold not run)
  double fold_variance = 0;      // the variance of per_fold over the folds run (n - 1)
  bool passes = true;           // every constraint holds
  std::string why_not;          // the first one that does not
};

struct SweepOutcome {
  SweepPlan plan;
  std::vector<std::optional<CellResult>> results;  // per cell; empty when not run (interrupted)
  std::vector<RankedChoice> ranking;               // best first; failing constraints last
  std::size_t ran = 0;                             // cells run by this call
  double seconds = 0;
};

// What every executor shares: the RUN.toml and the market, each read once, and the cells.
struct SweepSetup {
  RunConfig base;
  Timeframe tf;
  std::vector<CandleSeries> market;
  SweepPlan plan;
};
// Throws InputError (the config, the data, keys a sweep cannot set).
SweepSetup prepare_sweep(const SweepConfig& config);

// Runs cells of a prepared sweep, each (point, variant)'s config loaded once; any thread.
// When the RUN.toml trains a model ([train]), a cell first trains one on its fold's train
// window only (its symbols' candles in it, the cell's train.* keys), and its backtest scores
// that model (strategy.params.model) on the test window; cells with the same train keys,
// symbols and fold share it. Models live in a temporary folder removed with the runner.
class CellRunner {
 public:
  CellRunner(const SweepConfig& config, const SweepSetup& setup);
  ~CellRunner();
  CellResult run(const SweepCell& cell) const;
  // The same run's whole backtest (trades, equity), for the dossier's out-of-sample curves.
  BacktestResult backtest(const SweepCell& cell) const;
  std::size_t features_replayed() const { return features_.replayed(); }  // cells' symbols whose rows another cell computed

 private:
  std::shared_ptr<const RunConfig> config_of(const SweepCell& cell) const;
  // The config a cell runs: its own, with the fold's model when the sweep trains.
  std::shared_ptr<const RunConfig> cell_config(const SweepCell& cell) const;
  std::string model_for(const SweepCell& cell, const RunConfig& config) const;
  const SweepConfig& config_;
  const SweepSetup& setup_;
  mutable std::mutex lock_;
  mutable std::map<std::pair<std::size_t, std::size_t>, std::shared_ptr<const RunConfig>> configs_;
  mutable FeatureShare features_;                        // cells that differ in filters or execution only
  std::string model_dir_;                                // "" when the sweep trains nothing
  mutable std::map<std::string, std::string> models_;    // train keys, symbols and fold -> model file
};

struct SweepOptions {
  int workers = 0;  // 0: the sweep's
  // Cells already done (a resumed sweep): their results, not run again.
  std::function<std::optional<CellResult>(const SweepCell&)> done;
  // Told each cell as it finishes, from one thread at a time (the journal records it).
  std::function<void(const SweepCell&, const CellResult&)> on_cell;
  std::function<void(std::size_t done, std::size_t total)> progress;
  // Runs the cells numbered in `batch` elsewhere (a cluster) and fills their results in
  // `out`; returns when every one has one. Unset: worker threads here, as above.
  std::function<void(const std::vector<std::size_t>& batch, SweepOutcome& out)> executor;
};

// Throws InputError (config, data), ScriptError (a cell's strategy failed), Interrupted.
SweepOutcome run_sweep(const SweepConfig& config, const SweepOptions& options = {});
SweepOutcome run_sweep(const SweepConfig& config, const SweepSetup& setup, const SweepOptions& options = {});


// The ranking of whatever results there are.
std::vector<RankedChoice> rank_cells(const SweepConfig& config, const SweepPlan& plan, const std::vector<std::optional<CellResult>>& results);

// The SHA-256 a cell records of its trades and equity marks.
std::string ledger_sha256_of(const BacktestResult& b);

// The objective named `name` of a run's metrics.
double objective_of(const Metrics& m, const std::string& name);

}  // namespace onepath
