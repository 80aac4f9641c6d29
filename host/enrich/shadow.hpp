#pragma once
// Shadow comparison: two enrichers' rows side by side.
// ShadowComparator: whole runs (batch vs stream, restored vs fresh). Each value apart by
// more than the tolerance is logged as an enrichment_shadow_divergence event; more than
// the budget for one feature in a run fails it with enrichment_shadow_budget_exceeded.
// ShadowWindow: parity while running (seed 000 P7, seed 001 Phase G). Every `every`
// candles of a symbol, the last `window` ones are enriched again in batch, from the state
// the streaming enricher had before them, and compared bit for bit with the rows it
// streamed (docs/paper.md, shadow_every), or within a plugin kind's declared tolerance.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/time.hpp"

namespace onepath {

struct Divergence {
  std::string column;
  std::size_t row = 0;
  TimestampMs ts = 0;
  double a = 0, b = 0;
};

class ShadowComparator {
 public:
  explicit ShadowComparator(std::vector<std::string> columns, double relative_tolerance = 1e-9, int budget_per_feature = 5);
  // Throws std::runtime_error (enrichment_shadow_budget_exceeded) past the budget.
  void compare(std::size_t row, TimestampMs ts, const double* a, const double* b);
  const std::optional<Divergence>& first() const { return first_; }
  std::size_t divergences() const { return total_; }

 private:
  std::vector<std::string> columns_;
  double tolerance_;
  int budget_;
  std::vector<int> per_column_;
  std::size_t total_ = 0;
  std::optional<Divergence> first_;
};

class Enricher;

struct ShadowDivergence {
  std::string column;
  TimestampMs ts = 0;
  double streamed = 0, batch = 0;
};

class ShadowWindow {
 public:
  // every >= window >= 1.
  ShadowWindow(std::size_t every, std::size_t window);
  ~ShadowWindow();
  // Before `live` takes a candle: a window starting here keeps its state.
  void before(const Enricher& live, const std::string& symbol) {
    if (!active_ && seen_ % every_ == every_ - window_) [[unlikely]]
      start(live, symbol);
  }
  // After it took `c` (and `externals`, the other symbols' values it was given) and
  // streamed `row`: at a window's end, the batch recompute. The first value that differs, if any.
  std::optional<ShadowDivergence> after(const Enricher& live, const Candle& c, const double* row, const double* externals = nullptr);
  // The enricher was replaced (a reload) or restored: a window in progress is dropped, and
  // the recompute is built afresh from the new one's features.
  void drop();
  std::uint64_t checks() const { return checks_; }
  std::uint64_t rows() const { return rows_; }

 private:
  void start(const Enricher& live, const std::string& symbol);
  std::optional<ShadowDivergence> finish(const Enricher& live);

  std::size_t every_, window_;
  std::uint64_t seen_ = 0, checks_ = 0, rows_ = 0;
  bool active_ = false;
  std::string symbol_, state_;          // the live state at the window's start
  CandleSeries candles_;                // the window's candles
  std::vector<double> streamed_;        // and the rows streamed, row after row
  std::vector<std::vector<double>> externals_;  // the other symbols' values given, per external column
  std::unique_ptr<Enricher> shadow_;    // the batch recompute, built once
  std::vector<std::vector<double>> cols_;
};

}  // namespace onepath
