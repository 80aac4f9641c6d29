#pragma once
// A sweep: which RUN.toml keys take which values, under which variants, on which symbols and
// walk-forward folds, judged by which objective (docs/sweep.md). Read from a [sweep] table,
// in its own file (`run` names the RUN.toml it extends) or inside the RUN.toml itself.
#include <cstdint>
#include <string>
#include <vector>

namespace onepath {

// One swept key and its values, each as TOML text for a --set ("12", "0.5", "\"x\"").
struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};

// A named set of overrides ("levers x variants"): any keys, as key=value assignments.
struct SweepVariant {
  std::string name;
  std::vector<std::string> sets;
};

// Walk-forward folds in bars of the cell's own candles (a gap is not a bar): a train window,
// `purge` bars left out, a test window; the next fold starts `step` bars later (anchored: its
// train window still starts at the first bar). A cell runs on its fold's test window.
struct FoldSpec {
  bool anchored = false;
  std::size_t train = 0, test = 0, step = 0, purge = 0;
  std::size_t count = 0;  // 0: as many as fit
};

struct SweepConfig {
  std::string path;      // the sweep's file
  std::string run_path;  // the RUN.toml it extends
  std::vector<SweepAxis> space;
  std::vector<SweepVariant> variants;  // at least one ("base": no overrides)
  bool each_symbol = true;             // false: the whole market per cell
  // halving: successive halving over the folds (seed 001's HPO trials at a fraction of the
  // cost): every choice on the first fold, the best 1/eta of them on eta times as many, and
  // so on to every fold; its candidates are the grid, or `trials` random points.
  enum class Search { grid, random, halving } search = Search::grid;
  std::size_t trials = 0;  // random: points drawn (halving: candidates drawn, 0: the grid)
  std::uint64_t seed = 1;
  std::size_t eta = 3;     // halving: 1 in eta choices goes on to the next rung
  std::string objective = "sharpe";
  bool maximize = true;
  enum class Aggregate { mean, median, worst } aggregate = Aggregate::mean;
  std::size_t min_trades_per_fold = 0;
  // Seed 002's stability gate: a choice whose objective varies more than this across folds
  // (the variance of its per-fold means) is abandoned. Negative: no such gate.
  double max_fold_variance = -1;
  FoldSpec folds;  // test = 0: one fold, the whole data
  int workers = 0;  // 0: the machine's cores
};

// Throws InputError naming the file and the key.
SweepConfig load_sweep_config(const std::string& path);

// The objectives a sweep can use: metrics of a run, net of its costs.
const std::vector<std::string>& sweep_objectives();

}  // namespace onepath
