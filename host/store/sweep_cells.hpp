#pragma once
// A sweep's cells in the journal, one row each, under the sweep's run (kind "sweep"): what
// the cell was (point, variant, symbols, fold and its test window, the keys it set) and what
// it gave (the objective, the metrics, the ledger's SHA-256). A cell is recorded once (its
// number is part of the key), so a sweep resumed after kill -9 runs only the missing ones
// and counts none twice.
#include <cstdint>
#include <string>
#include <vector>

#include "exec/metrics.hpp"
#include "store/journal.hpp"

namespace onepath {

struct SweepCellRow {
  std::int64_t cell = 0;  // 0-based, in the sweep's order
  std::int64_t point = 0, variant = 0, fold = 0;
  std::string symbols, sets;  // "BTC" or "BTC+ETH"; the keys, one "key=value" per line
  TimestampMs test_start = 0, test_end = 0;
  double objective = 0;
  Metrics metrics;  // trades, total_return, sharpe, sortino, calmar, max_drawdown, final_equity, profit_factor, win_rate
  std::int64_t candles = 0, decisions = 0;
  std::string ledger_sha256;
  double seconds = 0;
};

class SweepCells {
 public:
  explicit SweepCells(Journal& journal) : journal_(journal) {}
  // One transaction; a cell already recorded for this run is an error (it ran twice).
  void record(std::int64_t run_id, const SweepCellRow& row);
  std::vector<SweepCellRow> of(std::int64_t run_id);

 private:
  Journal& journal_;
};

}  // namespace onepath
