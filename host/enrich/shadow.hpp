#pragma once
// Shadow comparison: two enrichers' rows side by side (restored vs fresh, batch vs stream,
// a recompute vs the stateful one). Each value apart by more than 1e-9 relative is logged
// as an enrichment_shadow_divergence event; more than the budget (5) for one feature in a
// run fails the run with enrichment_shadow_budget_exceeded.
#include <optional>
#include <string>
#include <vector>

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

}  // namespace onepath
