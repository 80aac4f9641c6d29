#include "data/quality_stream.hpp"

#include <cmath>

#include "core/number_format.hpp"

namespace onepath {

std::vector<Finding> QualityStream::push(const Candle& k) {
  std::vector<Finding> out;
  const std::size_t row = rows_++;
  const double c = k.close, open = k.open, h = k.high, l = k.low, v = k.volume;
  if (!(std::isfinite(c) && std::isfinite(open) && std::isfinite(h) && std::isfinite(l) && std::isfinite(v))) return out;
  auto warning = [&](const char* rule, const char* column, double value, std::string message) {
    out.push_back({Severity::warning, rule, row, column, value, std::move(message)});
  };
  if (has_prev_ && prev_close_ > 0 && c > 0) {
    const double r = std::log(c / prev_close_);
    const std::size_t n = std::min(returns_.size(), o_.outlier_window);
    if (n >= 20) {
      double mean = 0, ss = 0;
      for (std::size_t i = returns_.size() - n; i < returns_.size(); ++i) mean += returns_[i];
      mean /= static_cast<double>(n);
      for (std::size_t i = returns_.size() - n; i < returns_.size(); ++i) ss += (returns_[i] - mean) * (returns_[i] - mean);
      const double sd = std::sqrt(ss / static_cast<double>(n - 1));
      if (sd > 0 && std::fabs(r - mean) > o_.outlier_sigmas * sd)
        warning("return_outlier", "close", c, "log return " + format_short(r) + " is " + format_short(std::fabs(r - mean) / sd) + " sigmas from the trailing mean");
    }
    returns_.push_back(r);
    if (returns_.size() > o_.outlier_window) returns_.pop_front();
  }
  prev_close_ = c, has_prev_ = true;
  if (volumes_.size() >= o_.volume_window) {
    double sum = 0;
    for (double x : volumes_) sum += x;
    const double mean = sum / static_cast<double>(volumes_.size());
    if (mean > 0 && v < (1.0 - o_.volume_drop) * mean)
      warning("volume_drop", "volume", v,
              "volume " + format_short(v) + " is " + format_short(100.0 * (1.0 - v / mean)) + "% below the trailing mean " + format_short(mean));
    volumes_.pop_front();
  }
  volumes_.push_back(v);
  const double body = std::fabs(c - open), wicks = (h - std::max(open, c)) + (std::min(open, c) - l);
  if (body > 0 && wicks / body > o_.wick_to_body) warning("wick_to_body", "", wicks / body, "wicks are " + format_short(wicks / body) + " times the body");
  return out;
}

}  // namespace onepath
