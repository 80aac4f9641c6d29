#include "infer/promotion.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/stats.hpp"

namespace onepath {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

std::string fixed(double v, int digits = 4) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double mean(const std::vector<double>& x) {
  double s = 0;
  std::size_t n = 0;
  for (double v : x)
    if (std::isfinite(v)) s += v, ++n;
  return n ? s / static_cast<double>(n) : kNaN;
}

std::vector<double> scores(const std::vector<FoldScore>& folds, const std::string& metric) {
  std::vector<double> out;
  for (const auto& f : folds) out.push_back(metric_of(f, metric));
  return out;
}

bool same_folds(const std::vector<FoldScore>& a, const std::vector<FoldScore>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].test_start != b[i].test_start || a[i].test_end != b[i].test_end) return false;
  return true;
}

}  // namespace

std::vector<FoldScore> manifest_folds(const std::string& manifest_json, const std::string& origin) {
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(manifest_json);
  } catch (const std::exception& e) {
    throw InputError(origin + ": the manifest is not JSON (" + e.what() + ")");
  }
  if (!m.contains("metrics") || !m["metrics"].contains("folds") || !m["metrics"]["folds"].is_array())
    throw InputError(origin + ": the manifest has no walk-forward folds (metrics.folds): the gates need a model trained by 'onepath train'");
  std::vector<FoldScore> out;
  for (const auto& f : m["metrics"]["folds"]) {
    FoldScore s;
    s.test_start = f.value("test_start", "");
    s.test_end = f.value("test_end", "");
    s.auc = number(f, "auc"), s.log_loss = number(f, "log_loss"), s.precision = number(f, "precision");
    s.recall = number(f, "recall"), s.f1 = number(f, "f1");
    s.has_signals = f.contains("signals") && f["signals"].is_number_unsigned();
    if (s.has_signals) s.signals = f["signals"].get<std::size_t>();
    out.push_back(s);
  }
  return out;
}

double metric_of(const FoldScore& f, const std::string& metric) {
  if (metric == "auc") return f.auc;
  if (metric == "f1") return f.f1;
  if (metric == "precision") return f.precision;
  if (metric == "recall") return f.recall;
  if (metric == "log_loss") return f.log_loss;
  throw InputError("[promotion] metric = '" + metric + "': one of auc, f1, precision, recall, log_loss");
}

bool lower_is_better(const std::string& metric) { return metric == "log_loss"; }

std::vector<GateVerdict> check_gates(const PromotionGates& g, const PromotionCase& c) {
  std::vector<GateVerdict> out;
  const std::string& metric = g.metric;
  const double sign = lower_is_better(metric) ? -1 : 1;  // "better" as a larger signed difference

  if (g.min_signals_per_fold) {
    GateVerdict v{"signals per fold", "", ">= " + std::to_string(*g.min_signals_per_fold), true, ""};
    std::size_t least = std::numeric_limits<std::size_t>::max(), at = 0;
    bool counted = true;
    for (std::size_t i = 0; i < c.challenger.size(); ++i) {
      counted = counted && c.challenger[i].has_signals;
      if (c.challenger[i].signals < least) least = c.challenger[i].signals, at = i;
    }
    if (!counted || c.challenger.empty()) {
      v.pass = false, v.value = "not counted", v.why = "its manifest does not count signals per fold: train it again with this onepath";
    } else {
      v.value = std::to_string(least) + " (fold " + std::to_string(at + 1) + ")";
      v.pass = least >= *g.min_signals_per_fold;
      if (!v.pass) v.why = "fold " + std::to_string(at + 1) + " gives " + std::to_string(least) + " signals: too few to judge it";
    }
    out.push_back(v);
  }

  if (g.max_fold_variance) {
    const std::vector<double> x = scores(c.challenger, metric);
    const Moments m = moments(x);
    const double variance = m.n > 1 ? m.stddev * m.stddev * static_cast<double>(m.n) / static_cast<double>(m.n - 1) : kNaN;
    GateVerdict v{metric + " variance over folds", fixed(variance, 5), "<= " + fixed(*g.max_fold_variance, 5), std::isfinite(variance) && variance <= *g.max_fold_variance, ""};
    if (!std::isfinite(variance)) v.why = "needs at least 2 folds with a " + metric;
    else if (!v.pass) v.why = "its " + metric + " swings between folds: unstable";
    out.push_back(v);
  }

  if (g.min_improvement) {
    GateVerdict v{metric + " over the champion", "", ">= +" + fixed(*g.min_improvement), false, ""};
    if (!c.champion) {
      v.pass = true, v.value = "no champion", v.why = "nothing in production to beat";
    } else if (!same_folds(c.challenger, *c.champion)) {
      v.value = "folds differ";
      v.why = "the champion (" + c.champion_label + ") was scored on other walk-forward folds; train both on the same window to compare them";
    } else {
      const double d = sign * (mean(scores(c.challenger, metric)) - mean(scores(*c.champion, metric)));
      v.value = (d >= 0 ? "+" : "") + fixed(d) + " vs " + c.champion_label;
      v.pass = std::isfinite(d) && d >= *g.min_improvement;
      if (!v.pass) v.why = "not better than the champion by the margin";
    }
    out.push_back(v);
  }

  if (g.leakage_check) {
    GateVerdict v{"leakage (no-purge variant)", "", "BH-adjusted p >= " + fixed(g.leakage_alpha, 3), false, ""};
    if (!c.no_purge || c.no_purge->size() != c.challenger.size()) {
      v.value = "not measured", v.why = "the no-purge variant was not trained on the same folds";
    } else {
      // One-sided paired t per metric: does dropping the purge make it better? A model that
      // gains from seeing its test labels' neighbourhood learned from leakage.
      const std::vector<std::string> metrics{"auc", "f1", "precision", "log_loss"};
      std::vector<double> p;
      std::string worst;
      for (const auto& m : metrics) {
        const double s = lower_is_better(m) ? -1 : 1;
        std::vector<double> a, b;  // no-purge, purged: signed so larger is better
        for (std::size_t i = 0; i < c.challenger.size(); ++i) {
          const double x = metric_of((*c.no_purge)[i], m), y = metric_of(c.challenger[i], m);
          if (std::isfinite(x) && std::isfinite(y)) a.push_back(s * x), b.push_back(s * y);
        }
        const PairedT t = paired_t_test(a, b);
        p.push_back(!std::isfinite(t.p) ? (t.mean_diff > 0 ? 0.0 : 1.0) : t.mean_diff > 0 ? t.p / 2 : 1 - t.p / 2);
      }
      const std::vector<double> q = benjamini_hochberg(p);
      std::size_t k = 0;
      for (std::size_t i = 1; i < q.size(); ++i)
        if (q[i] < q[k]) k = i;
      v.value = "min q " + fixed(q[k], 3) + " (" + metrics[k] + ")";
      v.pass = q[k] >= g.leakage_alpha;
      if (!v.pass) v.why = "without the purge it scores better on " + metrics[k] + " beyond chance: its labels leak into training";
    }
    out.push_back(v);
  }

  if (g.shadow_candles > 0) {
    GateVerdict v{"shadow " + metric + " vs champion", "", ">= champion - " + fixed(g.shadow_tolerance, 3) + " over " + std::to_string(g.shadow_candles) + " candles",
                  false, ""};
    if (!c.shadow) {
      v.value = "no shadow period", v.why = "score it beside the champion in a paper session first: { kind = \"model\", model = NAME, shadow = \"NAME@VERSION\" }";
    } else if (c.shadow->candles < g.shadow_candles) {
      v.value = std::to_string(c.shadow->candles) + " candles";
      v.why = "the shadow period (" + c.shadow->session + ") is not over yet";
    } else {
      const double d = sign * (c.shadow->challenger - c.shadow->champion);
      v.value = fixed(c.shadow->challenger) + " vs " + fixed(c.shadow->champion) + " over " + std::to_string(c.shadow->candles) + " candles";
      v.pass = std::isfinite(d) && d >= -g.shadow_tolerance;
      if (!v.pass) v.why = "worse than the champion in the shadow period (" + c.shadow->session + ")";
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace onepath
