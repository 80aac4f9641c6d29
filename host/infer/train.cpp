#include "infer/train.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/time.hpp"
#include "data/candle_io.hpp"
#include "data/fingerprint.hpp"
#include "enrich/cross_symbol.hpp"
#include "enrich/enricher.hpp"
#include "infer/model_feature.hpp"
#include "infer/xgboost.hpp"
#include "lua/feature_file.hpp"

namespace onepath {
namespace {

using json = nlohmann::json;

struct Rows {
  std::vector<float> x, y;
  std::vector<TimestampMs> ts;
  int features = 0;
  std::size_t size() const { return y.size(); }
};

// The rows at `index`, in order.
void gather(const Rows& all, const std::vector<std::size_t>& index, std::vector<float>& x, std::vector<float>& y) {
  x.clear(), y.clear();
  const auto f = static_cast<std::size_t>(all.features);
  for (std::size_t i : index) {
    x.insert(x.end(), all.x.begin() + static_cast<std::ptrdiff_t>(i * f), all.x.begin() + static_cast<std::ptrdiff_t>((i + 1) * f));
    y.push_back(all.y[i]);
  }
}

std::vector<std::pair<std::string, std::string>> xgb_params(const BoosterParams& p, std::uint64_t seed) {
  // One thread and the hist method with a fixed seed: the same data gives the same bytes.
  return {{"objective", "binary:logistic"}, {"eval_metric", "logloss"}, {"tree_method", "hist"}, {"nthread", "1"},
          {"seed", std::to_string(seed)},   {"max_depth", std::to_string(p.max_depth)},    {"eta", std::to_string(p.eta)},
          {"subsample", std::to_string(p.subsample)}, {"colsample_bytree", std::to_string(p.colsample_bytree)},
          {"min_child_weight", std::to_string(p.min_child_weight)}};
}

json params_json(const BoosterParams& p) {
  return {{"rounds", p.rounds}, {"max_depth", p.max_depth}, {"eta", p.eta}, {"subsample", p.subsample},
          {"colsample_bytree", p.colsample_bytree}, {"min_child_weight", p.min_child_weight}};
}

json fold_json(const FoldMetrics& m) {
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"train_rows", m.train_rows}, {"test_rows", m.test_rows}, {"test_start", m.test_start ? format_iso(m.test_start) : ""},
          {"test_end", m.test_end ? format_iso(m.test_end) : ""}, {"auc", num(m.auc)}, {"log_loss", num(m.log_loss)},
          {"precision", num(m.precision)}, {"recall", num(m.recall)}, {"f1", num(m.f1)}, {"positive_rate", num(m.positive_rate)},
          {"signals", m.signals}};
}

// A trial's booster parameters, drawn from a small grid with the trial's own seed.
BoosterParams draw_params(std::uint64_t seed, int trial) {
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(trial) + 1;
  auto next = [&state](std::size_t n) {  // splitmix64: the same draws everywhere
    state += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<std::size_t>((z ^ (z >> 31)) % n);
  };
  const int depths[] = {3, 4, 5, 6}, rounds[] = {100, 200, 400};
  const double etas[] = {0.03, 0.05, 0.1, 0.2}, fractions[] = {0.7, 0.85, 1.0}, weights[] = {1, 5, 10};
  BoosterParams p;
  p.max_depth = depths[next(4)];
  p.rounds = rounds[next(3)];
  p.eta = etas[next(4)];
  p.subsample = fractions[next(3)];
  p.colsample_bytree = fractions[next(3)];
  p.min_child_weight = weights[next(3)];
  return p;
}

// Per input: how it was distributed in training (quantiles and a sorted sample), for drift.
json distributions(const Rows& rows, const std::vector<std::string>& names) {
  json d = json::object();
  const auto f = static_cast<std::size_t>(rows.features);
  for (std::size_t j = 0; j < f; ++j) {
    std::vector<double> v;
    std::size_t missing = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const float x = rows.x[i * f + j];
      if (std::isnan(x)) ++missing;
      else v.push_back(static_cast<double>(x));
    }
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v.empty() ? kNaN : v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)]; };
    json quantiles = json::array(), sample = json::array();
    for (int k = 0; k <= 10; ++k) quantiles.push_back(at(k / 10.0));
    const std::size_t n = std::min<std::size_t>(v.size(), 256);
    for (std::size_t k = 0; k < n; ++k) sample.push_back(at(n == 1 ? 0.0 : static_cast<double>(k) / static_cast<double>(n - 1)));
    d[names[j]] = {{"count", v.size()}, {"missing", missing}, {"quantiles", quantiles}, {"sample", sample}};
  }
  return d;
}

}  // namespace

std::vector<double> make_labels(const CandleSeries& s, const TrainConfig& c, SameBarRule same_bar) {
  const std::size_t n = s.size(), h = static_cast<std::size_t>(c.horizon);
  std::vector<double> y(n, kNaN);
  for (std::size_t i = 0; i + h < n; ++i) {
    if (c.label == "forward_return") {
      y[i] = s.close[i + h] / s.close[i] - 1.0 > c.threshold ? 1.0 : 0.0;
      continue;
    }
    // A long entered at the next open with percent brackets, as the kernel sets them; the
    // first bar that hits one decides (the fill bar included), by the kernel's own rules.
    const double entry = s.open[i + 1];
    const double stop = entry * (1.0 + -1 * c.stop_pct), take = entry * (1.0 + 1 * c.take_pct);
    double label = 0.0;
    for (std::size_t j = i + 1; j <= i + h; ++j) {
      const BracketHit hit = bracket_hit(s[j], +1, true, stop, true, take, same_bar);
      if (hit.stop || hit.take) {
        label = hit.take ? 1.0 : 0.0;
        break;
      }
    }
    y[i] = label;
  }
  return y;
}

FoldMetrics score_fold(const std::vector<float>& y, const std::vector<float>& p) {
  FoldMetrics m;
  const std::size_t n = y.size();
  m.test_rows = n;
  std::size_t positives = 0, tp = 0, fp = 0, fn = 0;
  double loss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool pos = y[i] > 0.5, said = p[i] >= 0.5f;
    positives += pos;
    tp += pos && said, fp += !pos && said, fn += pos && !said;
    const double q = std::clamp(static_cast<double>(p[i]), 1e-15, 1 - 1e-15);
    loss -= pos ? std::log(q) : std::log(1 - q);
  }
  const std::size_t negatives = n - positives;
  m.signals = tp + fp;
  m.positive_rate = n ? static_cast<double>(positives) / static_cast<double>(n) : kNaN;
  m.log_loss = n ? loss / static_cast<double>(n) : kNaN;
  m.precision = tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : kNaN;
  m.recall = tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : kNaN;
  m.f1 = std::isfinite(m.precision) && std::isfinite(m.recall) && m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : kNaN;
  if (!positives || !negatives) {
    m.auc = kNaN;
    return m;
  }
  // Rank-sum (Mann-Whitney): ranks from 1, tied predictions share their mean rank.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  double rank_sum = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && p[order[j]] == p[order[i]]) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k)
      if (y[order[k]] > 0.5) rank_sum += mean_rank;
    i = j;
  }
  const double P = static_cast<double>(positives), N = static_cast<double>(negatives);
  m.auc = (rank_sum - P * (P + 1) / 2) / (P * N);
  return m;
}

std::vector<FoldRows> walk_forward_folds(const std::vector<LabelledRow>& rows, const std::vector<const std::vector<TimestampMs>*>& times,
                                         const TrainConfig& c) {
  const int purge = c.purge < 0 ? c.horizon : c.purge, embargo = c.embargo < 0 ? c.horizon : c.embargo;
  if (purge < c.horizon && !c.leaky)
    throw InputError("[train] purge = " + std::to_string(purge) + " is less than the label's horizon of " + std::to_string(c.horizon) +
                     " bars: the last training labels would read test bars; give purge >= horizon");
  const std::size_t total = rows.size(), segment = total / static_cast<std::size_t>(c.folds + 1);
  std::vector<FoldRows> folds;
  for (int k = 1; k <= c.folds; ++k) {
    FoldRows f;
    const std::size_t begin = static_cast<std::size_t>(k) * segment, end = k == c.folds ? total : begin + segment;
    // Per symbol, its first bar at or after the test's start: gaps are counted in bars, as
    // labels are (a hole in the data is no purge).
    std::vector<std::size_t> first_test(times.size());
    for (std::size_t s = 0; s < times.size(); ++s)
      first_test[s] = static_cast<std::size_t>(std::lower_bound(times[s]->begin(), times[s]->end(), rows[begin].ts) - times[s]->begin());
    for (std::size_t i = 0; i < begin; ++i)
      if (rows[i].index + static_cast<std::size_t>(purge + embargo) < first_test[rows[i].symbol]) f.train.push_back(i);
    for (std::size_t i = begin; i < end; ++i) f.test.push_back(i);
    for (std::size_t i : f.train)  // no training label's window reaches a test bar
      if (!c.leaky && rows[i].index + static_cast<std::size_t>(c.horizon) >= first_test[rows[i].symbol])
        throw std::logic_error("walk-forward: a training label of fold " + std::to_string(k) + " reaches its test rows");
    if (f.train.empty())
      throw InputError("[train]: fold " + std::to_string(k) + " has no training rows before its purge and embargo gap; use fewer folds or more data");
    folds.push_back(std::move(f));
  }
  return folds;
}

TrainResult train_model(const TrainConfig& c, const TrainInput& in, const std::function<void(int, int)>& progress) {
  if (c.features.empty()) throw InputError("[train] features: the feature file whose columns the model reads is required");
  if (c.out.empty() || !c.out.ends_with(".json"))
    throw InputError("[train] out = '" + c.out + "': where to write the model, a .json file (e.g. \"models/up.json\"), is required");
  if (c.label != "forward_return" && c.label != "triple_barrier")
    throw InputError("[train] label = '" + c.label + "': must be \"forward_return\" or \"triple_barrier\"");
  const FeatureSet set = load_feature_file(c.features);
  Enricher enricher(set, in.timeframe);
  const std::vector<std::string> inputs = enricher.columns();
  Rows rows;
  rows.features = static_cast<int>(inputs.size());
  // Each symbol's rows after the features' warm-up with a label, then all in time order.
  struct Row {
    TimestampMs ts;
    std::size_t symbol, index;
  };
  std::vector<Row> order;
  std::vector<FeatureColumns> columns;
  std::vector<std::vector<double>> labels;
  TimestampMs first_ts = 0, last_ts = 0;
  columns = enrich_market(set, in.timeframe, in.market);  // other symbols' features joined
  for (std::size_t s = 0; s < in.market.size(); ++s) {
    labels.push_back(make_labels(in.market[s], c, in.same_bar));
    if (!c.symbols.empty() && std::find(c.symbols.begin(), c.symbols.end(), in.market[s].symbol) == c.symbols.end()) continue;
    for (std::size_t i = enricher.warmup_bars(); i < in.market[s].size(); ++i)
      if (!std::isnan(labels[s][i])) order.push_back({in.market[s].ts[i], s, i});
  }
  std::stable_sort(order.begin(), order.end(), [](const Row& a, const Row& b) { return a.ts < b.ts; });
  for (const Row& r : order) {
    for (const auto& col : columns[r.symbol]) rows.x.push_back(static_cast<float>(col[r.index]));
    rows.y.push_back(static_cast<float>(labels[r.symbol][r.index]));
    rows.ts.push_back(r.ts);
  }
  const std::size_t total = rows.size();
  if (total < static_cast<std::size_t>(20 * (c.folds + 1)))
    throw InputError("[train]: only " + std::to_string(total) + " labelled rows after the features' warm-up (" + std::to_string(enricher.warmup_bars()) +
                     " bars) for " + std::to_string(c.folds) + " folds; give more data");
  first_ts = rows.ts.front(), last_ts = rows.ts.back();

  std::vector<LabelledRow> where;
  for (const Row& r : order) where.push_back({r.ts, r.symbol, r.index});
  std::vector<const std::vector<TimestampMs>*> times;
  for (const auto& m : in.market) times.push_back(&m.ts);
  const std::vector<FoldRows> folds = walk_forward_folds(where, times, c);

  const int trials = std::max(c.trials, 1);
  const int steps = trials * c.folds + 1;
  int done = 0;
  TrainResult best;
  double best_score = -1;
  std::vector<float> x, y, tx, ty;
  for (int t = 0; t < trials; ++t) {
    const BoosterParams params = c.trials > 0 ? draw_params(c.seed, t) : c.booster;
    TrainResult r;
    r.params = params;
    for (const FoldRows& f : folds) {
      gather(rows, f.train, x, y);
      gather(rows, f.test, tx, ty);
      XgbBooster b;
      b.train(x.data(), y.data(), y.size(), rows.features, xgb_params(params, c.seed), params.rounds, inputs);
      FoldMetrics m = score_fold(ty, b.predict(tx.data(), ty.size(), rows.features));
      m.train_rows = f.train.size();
      m.train_end = rows.ts[f.train.back()];
      m.test_start = rows.ts[f.test.front()], m.test_end = rows.ts[f.test.back()];
      r.folds.push_back(m);
      if (progress) progress(++done, steps);
    }
    double auc = 0;
    for (const auto& m : r.folds) auc += std::isfinite(m.auc) ? m.auc : 0.5;
    auc /= static_cast<double>(r.folds.size());
    if (auc > best_score) best_score = auc, best = std::move(r);
  }
  // The mean over folds (NaNs left out).
  auto mean_of = [&](auto field) {
    double s = 0;
    int n = 0;
    for (const auto& m : best.folds)
      if (std::isfinite(m.*field)) s += m.*field, ++n;
    return n ? s / n : kNaN;
  };
  best.mean.auc = mean_of(&FoldMetrics::auc);
  best.mean.log_loss = mean_of(&FoldMetrics::log_loss);
  best.mean.precision = mean_of(&FoldMetrics::precision);
  best.mean.recall = mean_of(&FoldMetrics::recall);
  best.mean.f1 = mean_of(&FoldMetrics::f1);
  best.mean.positive_rate = mean_of(&FoldMetrics::positive_rate);

  // The model: every row, the kept parameters.
  std::vector<std::size_t> all(total);
  std::iota(all.begin(), all.end(), 0);
  gather(rows, all, x, y);
  XgbBooster final_model;
  final_model.train(x.data(), y.data(), total, rows.features, xgb_params(best.params, c.seed), best.params.rounds, inputs);
  std::filesystem::path out(c.out);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  // libxgboost picks the format from the extension: the temporary name ends in .json too.
  const std::string tmp = c.out.substr(0, c.out.size() - 5) + ".tmp.json";
  final_model.save(tmp);
  std::filesystem::rename(tmp, c.out);
  if (progress) progress(++done, steps);

  best.rows = total;
  best.inputs = inputs;
  best.model_path = c.out;
  best.manifest_path = model_manifest_path(c.out);
  best.model_sha256 = sha256_hex(read_file(c.out));
  json folds_json = json::array();
  for (const auto& m : best.folds) folds_json.push_back(fold_json(m));
  json symbols = json::array();
  for (const auto& s : in.market)
    if (c.symbols.empty() || std::find(c.symbols.begin(), c.symbols.end(), s.symbol) != c.symbols.end()) symbols.push_back(s.symbol);
  // Candles of the training window at 16 even points per symbol: data that has them is the
  // data the model learned (certify and backtest say "in sample"), whatever its dates.
  json anchors = json::array();
  for (const CandleSeries& m : in.market)
    for (int k = 0; k < 16 && !m.empty(); ++k) {
      const std::size_t i = static_cast<std::size_t>(k) * (m.size() - 1) / 15;
      if (m.ts[i] < first_ts || m.ts[i] > last_ts) continue;
      anchors.push_back({{"symbol", m.symbol}, {"ts", format_iso(m.ts[i])}, {"close", m.close[i]}});
    }
  // The symbols its features read (seed 002 §7): which candles taught it, so a model is
  // never taken for one trained on another copy of BTC.
  json other_symbols = json::array();
  for (const auto& name : symbols_read(set))
    for (const CandleSeries& m : in.market)
      if (m.symbol == name && !m.empty())
        other_symbols.push_back({{"symbol", name}, {"candles", m.size()}, {"first", format_iso(m.ts.front())}, {"last", format_iso(m.ts.back())},
                                 {"data_sha256", market_fingerprint({m})}});
  json inputs_config = json::object();  // per input: what computes it, so a mismatch names the input
  for (const auto& input : inputs) inputs_config[input] = enricher.input_config_text(input);
  const json manifest = {
      {"model", std::filesystem::path(c.out).filename().string()},
      {"model_sha256", best.model_sha256},
      {"inputs", inputs},
      {"feature_set_version", enricher.version()},
      {"inputs_config_sha256", enricher.inputs_config_sha256(inputs)},
      {"inputs_config", inputs_config},
      {"features_file", c.features},
      {"config", in.config_path},
      {"config_sha256", in.config_sha256},
      {"symbols", symbols},
      {"other_symbols", other_symbols},
      {"timeframe", std::string(in.timeframe.name())},
      {"training_window", {{"start", format_iso(first_ts)}, {"end", format_iso(last_ts)}, {"anchors", anchors}}},
      {"rows", total},
      {"label", c.label == "forward_return"
                    ? json{{"kind", c.label}, {"horizon", c.horizon}, {"threshold", c.threshold}}
                    : json{{"kind", c.label}, {"horizon", c.horizon}, {"stop_pct", c.stop_pct}, {"take_pct", c.take_pct},
                           {"same_bar", in.same_bar == SameBarRule::stop_first ? "stop_first" : "open_proximity"}}},
      {"folds", {{"count", c.folds}, {"purge", c.purge < 0 ? c.horizon : c.purge}, {"embargo", c.embargo < 0 ? c.horizon : c.embargo}}},
      {"objective", "binary:logistic"},
      {"seed", c.seed},
      {"trials", c.trials},
      {"params", params_json(best.params)},
      {"xgboost_version", xgboost_version()},
      {"metrics", {{"folds", folds_json}, {"mean", fold_json(best.mean)}}},
      {"distributions", distributions(rows, inputs)},
  };
  write_file_atomic(best.manifest_path, manifest.dump(2) + "\n");
  return best;
}

}  // namespace onepath
