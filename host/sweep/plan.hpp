#pragma once
// A sweep's cells, in one stable order: every point of the space (a grid, or a seeded random
// draw) x every variant x every symbol group x every walk-forward fold. The order and each
// cell's content depend on the sweep's file and the data only, never on how many workers
// run them, so a sweep resumed or spread out gives the same cells.
#include <cstdint>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "sweep/sweep_config.hpp"

namespace onepath {

// A point: one value index per axis of the space.
using SweepPoint = std::vector<std::size_t>;
std::vector<SweepPoint> sweep_points(const SweepConfig& c);

// A fold's windows over a cell's bars, [begin, end) as bar indices.
struct FoldWindow {
  std::size_t train_begin = 0, train_end = 0, test_begin = 0, test_end = 0;
};
// Folds over `bars` bars (FoldSpec; test = 0: one fold, every bar a test bar). InputError
// when not one fits.
std::vector<FoldWindow> sweep_folds(const FoldSpec& spec, std::size_t bars);

struct SweepCell {
  std::size_t index = 0;  // in the sweep's order
  std::size_t point = 0, variant = 0, group = 0, fold = 0;
  std::vector<std::string> sets;  // the point's and the variant's key=value, for load_run_config
  std::vector<std::string> symbols;
  TimestampMs test_start = 0, test_end = 0;  // the fold's test window: [start, end)
  TimestampMs train_start = 0, train_end = 0;  // its train window, [start, end) (equal: none)
  std::string key() const;                    // "point 3, variant base, BTC, fold 2"
};

struct SweepPlan {
  std::vector<SweepPoint> points;
  std::vector<std::vector<std::string>> groups;  // symbols per group
  std::vector<std::vector<FoldWindow>> folds;    // per group
  std::vector<SweepCell> cells;
};
// The cells of `c` over a market (one series per symbol of the RUN.toml, in its order).
SweepPlan plan_sweep(const SweepConfig& c, const std::vector<CandleSeries>& market);

// The point's overrides: "key=value" per axis.
std::vector<std::string> point_sets(const SweepConfig& c, const SweepPoint& p);

}  // namespace onepath
