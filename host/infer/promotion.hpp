#pragma once
// Readiness gates (seed 002): what `onepath models promote NAME VERSION` checks before a
// challenger replaces the champion, each with its value, its threshold and a verdict. They
// read the models' manifests (the walk-forward folds `onepath train` scored), a no-purge
// variant trained on the same folds (the leakage check) and the shadow evaluation a paper
// session journaled (the challenger scored beside the champion). Declared in a RUN.toml's
// [promotion] (docs/models.md); none declared, none checked.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace onepath {

struct PromotionGates {
  std::string metric = "f1";                        // auc | f1 | precision | recall | log_loss (lower is better)
  std::optional<std::size_t> min_signals_per_fold;  // seed 002: 50
  std::optional<double> max_fold_variance;          // of the metric over folds; seed 002: 0.05
  std::optional<double> min_improvement;            // over the champion, on the same folds; seed 002: 0.020
  bool leakage_check = false;                       // a no-purge variant must not beat the purged model
  double leakage_alpha = 0.05;                      // ... at this level, Benjamini-Hochberg over the metrics
  std::size_t shadow_candles = 0;                   // > 0: scored beside the champion in paper this long first
  double shadow_tolerance = 0.01;                   // ... with its metric >= the champion's - this
  bool any() const { return min_signals_per_fold || max_fold_variance || min_improvement || leakage_check || shadow_candles > 0; }
};

// A model's walk-forward folds, as its manifest has them.
struct FoldScore {
  std::string test_start, test_end;
  double auc = 0, log_loss = 0, precision = 0, recall = 0, f1 = 0;  // NaN when undefined
  std::size_t signals = 0;
  bool has_signals = false;  // older manifests do not count them
};
// InputError naming `origin` when the manifest has no folds.
std::vector<FoldScore> manifest_folds(const std::string& manifest_json, const std::string& origin);
double metric_of(const FoldScore& f, const std::string& metric);  // InputError for an unknown metric
bool lower_is_better(const std::string& metric);

// What a paper session measured of a challenger scored beside its champion (an event).
struct ShadowEvaluation {
  std::size_t candles = 0;  // labelled candles both scored
  double champion = 0, challenger = 0;
  std::string session;      // where it was measured, for the message
};

struct GateVerdict {
  std::string gate, value, threshold;
  bool pass = false;
  std::string why;
};

struct PromotionCase {
  std::vector<FoldScore> challenger;
  std::optional<std::vector<FoldScore>> champion;  // none in production
  std::string champion_label;
  std::optional<std::vector<FoldScore>> no_purge;   // the leakage variant, when the gate is on
  std::optional<ShadowEvaluation> shadow;
};

std::vector<GateVerdict> check_gates(const PromotionGates& gates, const PromotionCase& c);

}  // namespace onepath
