#pragma once
// `onepath sweep report`: the dossier of a sweep's recorded cells, while it runs or after —
// the ranked choices (the objective's mean and spread over folds, the per-fold table, the
// gates each passes or fails), a heatmap per pair of swept keys, each key's importance, the
// variants compared fold by fold (paired t-tests, Benjamini-Hochberg), the overfitting
// guards (deflated Sharpe ratio of the best choice, PBO by CSCV) and the out-of-sample
// equity of the best choices, their test folds joined. The best choices' cells are run
// again for their equity, and must give the ledgers they recorded (said in the dossier).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sweep/run_sweep.hpp"

namespace onepath {

struct DossierInfo {
  std::int64_t run_id = 0;
  std::string status;         // the run's, as `sweep status` shows it
  std::size_t equity_choices = 3;  // the best choices whose out-of-sample equity is drawn
};

struct SweepDossier {
  std::string json, html;
  std::string cells_csv;    // a row per recorded cell
  std::string choices_csv;  // a row per choice: rank, score, verdict, the objective per fold
  std::vector<std::string> summary;  // the lines a terminal shows
};

// Throws InputError when no cell is recorded.
SweepDossier build_dossier(const SweepConfig& config, const SweepSetup& setup, const std::vector<std::optional<CellResult>>& results,
                           const DossierInfo& info);

// The cells.csv of a sweep (also written by `onepath sweep` itself).
std::string sweep_cells_csv(const SweepConfig& config, const SweepPlan& plan, const std::vector<std::optional<CellResult>>& results);

}  // namespace onepath
