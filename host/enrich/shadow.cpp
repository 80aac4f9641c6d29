#include "enrich/shadow.hpp"

#include <cmath>
#include <stdexcept>

#include "core/log.hpp"
#include "core/number_format.hpp"

namespace onepath {

ShadowComparator::ShadowComparator(std::vector<std::string> columns, double tolerance, int budget)
    : columns_(std::move(columns)), tolerance_(tolerance), budget_(budget), per_column_(columns_.size(), 0) {}

void ShadowComparator::compare(std::size_t row, TimestampMs ts, const double* a, const double* b) {
  for (std::size_t k = 0; k < columns_.size(); ++k) {
    double x = a[k], y = b[k];
    if (std::isnan(x) && std::isnan(y)) continue;
    bool same = !std::isnan(x) && !std::isnan(y) && std::fabs(x - y) <= tolerance_ * std::max(1.0, std::fabs(y));
    if (same) continue;
    ++total_;
    if (!first_) first_ = Divergence{columns_[k], row, ts, x, y};
    log::warn("enrichment_shadow_divergence", {{"feature", columns_[k]}, {"row", row}, {"ts", format_iso(ts)}, {"a", x}, {"b", y}});
    if (++per_column_[k] > budget_) {
      log::event(log::Level::critical, "enrichment_shadow_budget_exceeded", {{"feature", columns_[k]}, {"budget", budget_}});
      throw std::runtime_error("enrichment_shadow_budget_exceeded: feature '" + columns_[k] + "' diverged more than " + std::to_string(budget_) +
                               " times (first at row " + std::to_string(first_->row + 1) + ", " + format_iso(first_->ts) + ": " +
                               format_double(first_->a) + " vs " + format_double(first_->b) + ")");
    }
  }
}

}  // namespace onepath
