#pragma once
// Training a model for the feature sets it will score in: rows are a feature file's batch
// columns over the [data] of a RUN.toml; labels are a forward return over H bars, or a
// triple-barrier outcome decided by the execution kernel's own bracket rules (bracket_hit);
// walk-forward folds leave purge + embargo bars (bars, not time) between training and test; libxgboost trains
// with one thread and a fixed seed, so training twice gives the same bytes. The model is
// saved with a manifest (see docs/models.md) that the model feature checks when it loads.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/timeframe.hpp"
#include "exec/kernel.hpp"

namespace onepath {

struct BoosterParams {
  int rounds = 200, max_depth = 4;
  double eta = 0.1, subsample = 1, colsample_bytree = 1, min_child_weight = 1;
};

struct TrainConfig {
  std::string features;  // the feature file whose columns are the model's inputs
  std::string out;       // the model file (XGBoost JSON); its manifest is written beside it
  std::string name;      // its name in the model registry (default: the file's stem)
  std::string label = "forward_return";  // or "triple_barrier"
  int horizon = 8;                       // bars
  double threshold = 0;                  // forward_return: label 1 when the return over horizon bars is above it
  double stop_pct = 0.01, take_pct = 0.02;  // triple_barrier: a long entered at the next open
  int folds = 4, purge = -1, embargo = -1;  // -1: the horizon
  BoosterParams booster;
  std::uint64_t seed = 1;
  int trials = 0;  // > 0: a seeded random search of booster params, scored by mean fold AUC
  // The training window, in place of [data] start / end: a backtest of the same config on
  // the candles after `end` is out of sample.
  std::optional<TimestampMs> start, end;
  // The symbols whose rows it learns from (empty: every one); their features may read the
  // others' (an ETH model with BTC's features).
  std::vector<std::string> symbols;
  // The leakage check's variant only (models promote): purge below the horizon allowed, its
  // training labels reaching its test rows on purpose. Never a config key.
  bool leaky = false;
};

struct FoldMetrics {
  std::size_t train_rows = 0, test_rows = 0;
  TimestampMs train_end = 0, test_start = 0, test_end = 0;  // train_end: its last row
  double auc = 0, log_loss = 0, precision = 0, recall = 0, f1 = 0, positive_rate = 0;
  std::size_t signals = 0;  // test rows it scores at 0.5 or more (a strategy's entries)
};

struct TrainResult {
  std::vector<FoldMetrics> folds;
  FoldMetrics mean;
  BoosterParams params;  // the ones kept (the best trial's)
  std::size_t rows = 0;
  std::string model_path, manifest_path, model_sha256;
  std::vector<std::string> inputs;
};

// Labels for one series: 1, 0, or NaN where the window runs past the data.
std::vector<double> make_labels(const CandleSeries& s, const TrainConfig& c, SameBarRule same_bar);
// Area under the ROC curve (ties averaged), log loss, and precision / recall / F1 of class
// 1 at 0.5.
FoldMetrics score_fold(const std::vector<float>& labels, const std::vector<float>& predictions);

// Walk-forward folds: fold k tests on segment k of folds + 1 of the rows (in time order),
// and trains on the rows before it whose symbol's bar index is at least purge + embargo bars
// before that symbol's first test bar. Gaps count in bars, as labels do; throws InputError
// for purge < horizon, and std::logic_error if a training label's window reached a test bar.
struct LabelledRow {
  TimestampMs ts = 0;
  std::size_t symbol = 0, index = 0;  // the row's series, and its index there
};
struct FoldRows {
  std::vector<std::size_t> train, test;  // indices into the rows
};
std::vector<FoldRows> walk_forward_folds(const std::vector<LabelledRow>& rows, const std::vector<const std::vector<TimestampMs>*>& times,
                                         const TrainConfig& config);

struct TrainInput {
  std::vector<CandleSeries> market;
  Timeframe timeframe = Timeframe::parse("15m");
  SameBarRule same_bar = SameBarRule::stop_first;
  std::string config_path, config_sha256;  // the RUN.toml, for the manifest
};
// progress(done, total) after each trial or fold.
TrainResult train_model(const TrainConfig& c, const TrainInput& in, const std::function<void(int, int)>& progress = {});

}  // namespace onepath
