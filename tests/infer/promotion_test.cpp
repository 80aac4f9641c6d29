// The readiness gates on constructed cases: each refuses and passes at its threshold, names
// what it measured, and the leakage check's statistics are those of a plain computation.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "infer/promotion.hpp"

using namespace onepath;

namespace {

FoldScore fold(double f1, std::size_t signals, const std::string& start = "2024-01-01T00:00:00.000Z") {
  FoldScore f;
  f.test_start = start, f.test_end = start;
  f.f1 = f1, f.auc = f1, f.precision = f1, f.recall = f1, f.log_loss = 1 - f1;
  f.signals = signals, f.has_signals = true;
  return f;
}

std::vector<FoldScore> folds(std::initializer_list<double> f1, std::size_t signals = 100) {
  std::vector<FoldScore> out;
  int k = 0;
  for (double v : f1) out.push_back(fold(v, signals, "2024-0" + std::to_string(++k) + "-01T00:00:00.000Z"));
  return out;
}

const GateVerdict& only(const std::vector<GateVerdict>& v) {
  REQUIRE(v.size() == 1);
  return v[0];
}

}  // namespace

TEST_CASE("gate: minimum signals per fold refuses the fold with too few and names it") {
  PromotionGates g;
  g.min_signals_per_fold = 50;
  PromotionCase c;
  c.challenger = folds({0.6, 0.6, 0.6});
  c.challenger[1].signals = 49;
  auto v = only(check_gates(g, c));
  CHECK_FALSE(v.pass);
  CHECK(v.value == "49 (fold 2)");
  c.challenger[1].signals = 50;
  CHECK(only(check_gates(g, c)).pass);
  c.challenger[0].has_signals = false;  // an older manifest: refused, not guessed
  v = only(check_gates(g, c));
  CHECK_FALSE(v.pass);
  CHECK(v.value == "not counted");
}

TEST_CASE("gate: the metric's sample variance over folds") {
  PromotionGates g;
  g.max_fold_variance = 0.05;
  PromotionCase c;
  c.challenger = folds({0.2, 0.6});  // mean 0.4, sample variance (0.04 + 0.04) / 1 = 0.08
  auto v = only(check_gates(g, c));
  CHECK_FALSE(v.pass);
  CHECK(v.value == "0.08000");
  c.challenger = folds({0.3, 0.6});  // 0.045
  CHECK(only(check_gates(g, c)).pass);
  c.challenger = folds({0.3});
  CHECK_FALSE(only(check_gates(g, c)).pass);  // one fold says nothing about variance
}

TEST_CASE("gate: improvement over the champion needs the same folds, and lower is better for log loss") {
  PromotionGates g;
  g.min_improvement = 0.02;
  PromotionCase c;
  c.challenger = folds({0.62, 0.64});
  CHECK(only(check_gates(g, c)).pass);  // no champion
  c.champion = folds({0.60, 0.63});     // +0.015
  c.champion_label = "up@1";
  auto v = only(check_gates(g, c));
  CHECK_FALSE(v.pass);
  CHECK(v.value == "+0.0150 vs up@1");
  c.champion = folds({0.60, 0.61});  // +0.025
  CHECK(only(check_gates(g, c)).pass);
  (*c.champion)[1].test_start = "2025-01-01T00:00:00.000Z";
  v = only(check_gates(g, c));
  CHECK_FALSE(v.pass);
  CHECK(v.value == "folds differ");
  g.metric = "log_loss";  // challenger 0.38, 0.36; champion 0.40, 0.39: 0.025 lower is better
  c.champion = folds({0.60, 0.61});
  CHECK(only(check_gates(g, c)).pass);
}

TEST_CASE("gate: leakage, a no-purge variant that scores better beyond chance refuses, one that does not passes") {
  PromotionGates g;
  g.leakage_check = true;
  PromotionCase c;
  c.challenger = folds({0.60, 0.58, 0.61, 0.59, 0.60});
  CHECK_FALSE(only(check_gates(g, c)).pass);  // not measured
  c.no_purge = folds({0.70, 0.69, 0.72, 0.70, 0.71});  // better on every fold by ~0.11
  auto v = only(check_gates(g, c));
  CHECK_FALSE(v.pass);
  CHECK(v.why.find("labels leak") != std::string::npos);
  c.no_purge = folds({0.61, 0.57, 0.60, 0.60, 0.59});  // the same within noise
  CHECK(only(check_gates(g, c)).pass);
  c.no_purge = folds({0.50, 0.48, 0.51, 0.49, 0.50});  // worse without the purge: no leakage
  CHECK(only(check_gates(g, c)).pass);
}

TEST_CASE("gate: the shadow period must be long enough and the challenger within the tolerance of the champion") {
  PromotionGates g;
  g.shadow_candles = 500;
  PromotionCase c;
  c.challenger = folds({0.6});
  CHECK_FALSE(only(check_gates(g, c)).pass);  // no shadow period
  c.shadow = ShadowEvaluation{400, 0.60, 0.61, "paper run 3"};
  auto v = only(check_gates(g, c));
  CHECK_FALSE(v.pass);
  CHECK(v.value == "400 candles");
  c.shadow = ShadowEvaluation{600, 0.60, 0.595, "paper run 3"};
  CHECK(only(check_gates(g, c)).pass);  // -0.005 within 0.01
  c.shadow = ShadowEvaluation{600, 0.60, 0.585, "paper run 3"};
  CHECK_FALSE(only(check_gates(g, c)).pass);
}

TEST_CASE("an unknown metric and a manifest without folds are errors a user can act on") {
  PromotionGates g;
  g.metric = "sharpe";
  g.max_fold_variance = 1;
  PromotionCase c;
  c.challenger = folds({0.6, 0.7});
  CHECK_THROWS_AS(check_gates(g, c), InputError);
  CHECK_THROWS_WITH_AS(manifest_folds("{\"inputs\": []}", "up@2"), doctest::Contains("up@2: the manifest has no walk-forward folds"), InputError);
  const auto f = manifest_folds(R"({"metrics": {"folds": [{"test_start": "a", "test_end": "b", "f1": 0.5, "auc": null, "signals": 70}]}})", "x");
  REQUIRE(f.size() == 1);
  CHECK(f[0].f1 == 0.5);
  CHECK(std::isnan(f[0].auc));
  CHECK(f[0].signals == 70);
}
