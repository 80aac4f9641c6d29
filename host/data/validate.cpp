#include "data/validate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/error.hpp"
#include "core/number_format.hpp"

namespace onepath {
namespace {

class Checker {
 public:
  Checker(const CandleSeries& s, ValidationReport& r) : s_(s), r_(r) {}

  void error(std::string rule, std::size_t row, std::string column, double value, std::string message) {
    r_.findings.push_back({Severity::error, std::move(rule), row, std::move(column), value, std::move(message)});
  }
  void warning(std::string rule, std::size_t row, std::string column, double value, std::string message) {
    r_.findings.push_back({Severity::warning, std::move(rule), row, std::move(column), value, std::move(message)});
  }

  void check_timestamps() {
    const Timeframe& tf = r_.timeframe;
    for (std::size_t i = 0; i < s_.size(); ++i) {
      TimestampMs t = s_.ts[i];
      if (!tf.is_aligned(t))
        error("ts_misaligned", i, "ts", static_cast<double>(t),
              format_iso(t) + " is not a " + std::string(tf.name()) + " bar open time (nearest before: " + format_iso(tf.floor(t)) + ")");
      if (i == 0) continue;
      TimestampMs prev = s_.ts[i - 1];
      if (t == prev) {
        error("ts_duplicate", i, "ts", static_cast<double>(t), "duplicate timestamp " + format_iso(t));
      } else if (t < prev) {
        error("ts_disorder", i, "ts", static_cast<double>(t), format_iso(t) + " comes after " + format_iso(prev) + " (timestamps must increase)");
      } else if (t - prev > tf.duration_ms()) {
        std::int64_t missing = (tf.floor(t) - tf.ceil(prev + 1)) / tf.duration_ms() + (tf.is_aligned(t) ? 0 : 1);
        if (missing > 0) {
          r_.gaps.push_back({prev, t, missing, i});
          r_.missing_candles += missing;
        }
      }
    }
  }

  // Every rule of check_values at once, for the rows that break none (almost all): a
  // comparison with NaN is false, and an infinite price fails the order against a finite
  // one or the bound, so a pass here means each rule below would pass.
  static bool plainly_valid(double o, double h, double l, double c, double v) {
    constexpr double big = std::numeric_limits<double>::max();
    return l > 0 && o > 0 && c > 0 && h <= big && v >= 0 && v <= big && l <= std::min(o, c) && h >= std::max(o, c);
  }

  void check_values() {
    static const char* names[] = {"open", "high", "low", "close", "volume"};
    for (std::size_t i = 0; i < s_.size(); ++i) {
      if (plainly_valid(s_.open[i], s_.high[i], s_.low[i], s_.close[i], s_.volume[i])) [[likely]]
        continue;
      const double v[] = {s_.open[i], s_.high[i], s_.low[i], s_.close[i], s_.volume[i]};
      bool finite = true;
      for (int k = 0; k < 5; ++k) {
        if (!std::isfinite(v[k])) {
          finite = false;
          error("not_finite", i, names[k], v[k], std::string(names[k]) + " is " + (v[k] != v[k] ? "missing or NaN" : "infinite"));
        }
      }
      if (!finite) continue;
      // The enricher and the kernel refuse a price at or below 0: data check says so first.
      for (int k = 0; k < 4; ++k)
        if (!(v[k] > 0)) error("price_not_positive", i, names[k], v[k], std::string(names[k]) + " " + format_double(v[k]) + " is not above 0");
      double o = v[0], h = v[1], l = v[2], c = v[3], vol = v[4];
      if (l > h) {
        error("ohlc_inconsistent", i, "low", l, "low " + format_double(l) + " is above high " + format_double(h));
      } else if (l > std::min(o, c)) {
        error("ohlc_inconsistent", i, "low", l,
              "low " + format_double(l) + " is above " + (o < c ? "open " : "close ") + format_double(std::min(o, c)));
      } else if (h < std::max(o, c)) {
        error("ohlc_inconsistent", i, "high", h,
              "high " + format_double(h) + " is below " + (o > c ? "open " : "close ") + format_double(std::max(o, c)));
      }
      if (vol < 0) error("volume_negative", i, "volume", vol, "volume " + format_double(vol) + " is negative");
    }
  }

  // The last `keep` log returns and one more (the one leaving the window), oldest first:
  // what the outlier rule reads, without holding a return per bar.
  class Trailing {
   public:
    explicit Trailing(std::size_t keep) : buf_(keep + 1) {}
    std::size_t size() const { return count_; }
    void push(double r) {
      buf_[head_] = r;
      head_ = head_ + 1 == buf_.size() ? 0 : head_ + 1;
      ++count_;
    }
    // The k-th back from the newest (0: the newest); k < min(size(), keep + 1).
    double back(std::size_t k) const { return buf_[head_ > k ? head_ - 1 - k : head_ + buf_.size() - 1 - k]; }
    // f(x) for the last n, oldest first.
    template <class F>
    void each_last(std::size_t n, F f) const {
      for (std::size_t k = n; k-- > 0;) f(back(k));
    }

   private:
    std::vector<double> buf_;
    std::size_t head_ = 0, count_ = 0;
  };

  // Quality alerts (seed 002 section 3): trailing statistics only, so that each bar is
  // judged on what was known before it.
  void check_quality(const ValidateOptions& o) {
    Trailing returns(o.outlier_window);
    // Running sums of the trailing window, in long double and re-summed every window: a
    // cheap screen that clears the bars that are plainly not outliers. Any other bar is
    // judged by the exact two-pass mean and deviation below, as before, so the findings
    // and their numbers are those of the two-pass code alone (O(window) per bar made
    // data check of 1 M candles take a second).
    long double win_s1 = 0, win_s2 = 0;
    std::size_t since_resum = 0;
    double vol_sum = 0;
    std::size_t vol_n = 0;
    for (std::size_t i = 0; i < s_.size(); ++i) {
      double c = s_.close[i], open = s_.open[i], h = s_.high[i], l = s_.low[i], v = s_.volume[i];
      if (!(std::isfinite(c) && std::isfinite(open) && std::isfinite(h) && std::isfinite(l) && std::isfinite(v))) continue;

      if (i > 0 && s_.close[i - 1] > 0 && c > 0 && std::isfinite(s_.close[i - 1])) {
        double r = std::log(c / s_.close[i - 1]);
        std::size_t n = std::min(returns.size(), o.outlier_window);
        bool plainly_inside = false;
        if (n >= 20) {
          const long double m = win_s1 / n, var = (win_s2 - win_s1 * m) / (n - 1);
          // well conditioned (no cancellation to speak of) and inside the band by a margin
          // far wider than the screen's rounding
          if (var > 1e-9L * (win_s2 / n) && std::fabs(r - m) < 0.999L * o.outlier_sigmas * std::sqrt(var)) plainly_inside = true;
        }
        if (n >= 20 && !plainly_inside) {
          double mean = 0, ss = 0;
          returns.each_last(n, [&](double x) { mean += x; });
          mean /= static_cast<double>(n);
          returns.each_last(n, [&](double x) { ss += (x - mean) * (x - mean); });
          double sd = std::sqrt(ss / static_cast<double>(n - 1));
          if (sd > 0 && std::fabs(r - mean) > o.outlier_sigmas * sd)
            warning("return_outlier", i, "close", c,
                    "log return " + format_short(r) + " is " + format_short(std::fabs(r - mean) / sd) + " sigmas from the trailing mean");
        }
        returns.push(r);
        win_s1 += r, win_s2 += static_cast<long double>(r) * r;
        if (returns.size() > o.outlier_window) {
          const long double gone = returns.back(o.outlier_window);
          win_s1 -= gone, win_s2 -= gone * gone;
        }
        if (++since_resum >= o.outlier_window) {  // drift never outlives a window
          since_resum = 0;
          win_s1 = win_s2 = 0;
          returns.each_last(std::min(returns.size(), o.outlier_window), [&](double x) { win_s1 += x, win_s2 += static_cast<long double>(x) * x; });
        }
      }

      if (vol_n >= o.volume_window) {
        double mean = vol_sum / static_cast<double>(vol_n);
        if (mean > 0 && v < (1.0 - o.volume_drop) * mean)
          warning("volume_drop", i, "volume", v,
                  "volume " + format_short(v) + " is " + format_short(100.0 * (1.0 - v / mean)) + "% below the trailing mean " + format_short(mean));
        vol_sum -= s_.volume[i - o.volume_window];
      } else {
        ++vol_n;
      }
      vol_sum += v;

      double body = std::fabs(c - open);
      double wicks = (h - std::max(open, c)) + (std::min(open, c) - l);
      if (body > 0 && wicks / body > o.wick_to_body)
        warning("wick_to_body", i, "", wicks / body, "wicks are " + format_short(wicks / body) + " times the body");
    }
  }

 private:
  const CandleSeries& s_;
  ValidationReport& r_;
};

}  // namespace

std::size_t ValidationReport::count(Severity s) const {
  std::size_t n = 0;
  for (const auto& f : findings) n += f.severity == s;
  return n;
}

Timeframe infer_timeframe(const CandleSeries& s) {
  if (s.size() < 2) throw InputError("cannot infer the timeframe from fewer than 2 candles; pass --timeframe");
  // The smallest step; when one bad timestamp makes that step odd, the most common step.
  std::map<std::int64_t, std::size_t> steps;
  for (std::size_t i = 1; i < s.size(); ++i)
    if (s.ts[i] > s.ts[i - 1]) ++steps[s.ts[i] - s.ts[i - 1]];
  if (steps.empty()) throw InputError("cannot infer the timeframe: timestamps never increase; pass --timeframe");
  auto most_common = std::max_element(steps.begin(), steps.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  for (std::int64_t step : {steps.begin()->first, most_common->first})
    for (const auto& tf : Timeframe::all())
      if (tf.duration_ms() == step) return tf;
  throw InputError("cannot infer the timeframe: the smallest step (" + std::to_string(steps.begin()->first) + " ms) and the most common (" +
                   std::to_string(most_common->first) + " ms) are not supported timeframes; pass --timeframe");
}

ValidationReport validate(const CandleSeries& series, const ValidateOptions& options) {
  ValidationReport report;
  report.rows = series.size();
  if (options.timeframe) {
    report.timeframe = *options.timeframe;
  } else {
    report.timeframe = infer_timeframe(series);
    report.timeframe_inferred = true;
  }
  Checker checker(series, report);
  checker.check_timestamps();
  checker.check_values();
  checker.check_quality(options);
  return report;
}

}  // namespace onepath
