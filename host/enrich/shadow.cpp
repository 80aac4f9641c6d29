#include "enrich/shadow.hpp"

#include <cmath>
#include <stdexcept>

#include "core/log.hpp"
#include "core/number_format.hpp"
#include "enrich/enricher.hpp"

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

ShadowWindow::ShadowWindow(std::size_t every, std::size_t window) : every_(every), window_(window) {
  if (window_ == 0 || every_ < window_) throw std::invalid_argument("shadow window: 1 <= window <= every");
}

ShadowWindow::~ShadowWindow() = default;

void ShadowWindow::drop() {
  active_ = false;
  shadow_.reset();
}

void ShadowWindow::start(const Enricher& live, const std::string& symbol) {
  if (live.paused() || !live.has_data()) return;  // a paused enricher streams nothing to compare
  symbol_ = symbol;
  state_ = live.save_snapshot(symbol);
  candles_.clear();
  candles_.symbol = symbol;
  streamed_.clear();
  externals_.assign(live.external_count(), {});
  active_ = true;
}

std::optional<ShadowDivergence> ShadowWindow::after(const Enricher& live, const Candle& c, const double* row, const double* externals) {
  ++seen_;
  if (!active_) return std::nullopt;
  if (live.paused()) {
    active_ = false;
    return std::nullopt;
  }
  candles_.push_back(c);
  streamed_.insert(streamed_.end(), row, row + live.columns().size());
  for (std::size_t k = 0; k < externals_.size(); ++k) externals_[k].push_back(externals ? externals[k] : kNaN);
  if (candles_.size() < window_) return std::nullopt;
  active_ = false;
  return finish(live);
}

std::optional<ShadowDivergence> ShadowWindow::finish(const Enricher& live) {
  if (!shadow_) shadow_ = std::make_unique<Enricher>(live.feature_set(), live.base_timeframe());
  shadow_->load_snapshot(state_, symbol_);
  shadow_->continue_batch(candles_, cols_, &externals_);
  ++checks_;
  const std::size_t n = cols_.size();
  rows_ += candles_.size();
  for (std::size_t i = 0; i < candles_.size(); ++i)
    for (std::size_t k = 0; k < n; ++k)
      if (!same_within(streamed_[i * n + k], cols_[k][i], live.tolerances()[k])) [[unlikely]]
        return ShadowDivergence{live.columns()[k], candles_.ts[i], streamed_[i * n + k], cols_[k][i]};
  return std::nullopt;
}

}  // namespace onepath
