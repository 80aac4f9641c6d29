// onepath bench infer: the native tree scorer against libxgboost on the same model and rows,
// single-row latency (what a bar costs) and batch throughput, with a bit-for-bit check.
#include <fmt/core.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "cli/commands.hpp"
#include "core/cycle_clock.hpp"
#include "infer/model.hpp"
#include "infer/xgboost.hpp"

namespace onepath::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Rows like enriched features: mostly normal, ~5 % missing.
std::vector<float> sample_rows(std::size_t n, int features, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit(0, 1);
  std::vector<float> x(n * static_cast<std::size_t>(features));
  for (auto& v : x) v = unit(rng) < 0.05f ? NAN : normal(rng);
  return x;
}

// A binary:logistic model of `trees` trees of `depth` on `features` inputs, trained by
// libxgboost on generated rows (one thread, a fixed seed).
std::string train_model(int trees, int depth, int features, const std::string& path) {
  const std::size_t n = 20000;
  const std::vector<float> x = sample_rows(n, features, 11);
  std::vector<float> y(n);
  for (std::size_t i = 0; i < n; ++i) {
    float s = 0;
    for (int j = 0; j < std::min(features, 6); ++j) {
      const float v = x[i * static_cast<std::size_t>(features) + static_cast<std::size_t>(j)];
      s += std::isnan(v) ? 0 : v * static_cast<float>(j % 3 + 1) * (j % 2 ? -1.0f : 1.0f);
    }
    y[i] = s > 0 ? 1.0f : 0.0f;
  }
  XgbBooster b;
  b.train(x.data(), y.data(), n, features,
          {{"objective", "binary:logistic"},
           {"max_depth", std::to_string(depth)},
           {"eta", "0.1"},
           {"nthread", "1"},
           {"seed", "1"},
           {"min_child_weight", "0"},
           {"gamma", "0"}},
          trees);
  b.save(path);
  return path;
}

}  // namespace

void add_bench_infer(CLI::App& bench, Action& action) {
  struct Opts {
    int trees = 200, depth = 6, features = 22;
    std::string model;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("infer", "Tree-model scoring: native vs libxgboost, one row (a bar) and in batch");
  cmd->add_option("--trees", o->trees, "Trees of the generated model")->capture_default_str()->check(CLI::Range(1, 5000));
  cmd->add_option("--depth", o->depth, "Their depth")->capture_default_str()->check(CLI::Range(1, 16));
  cmd->add_option("--features", o->features, "Inputs")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--model", o->model, "Measure this XGBoost JSON model instead of a generated one")->check(CLI::ExistingFile);
  cmd->add_flag("--json", o->json,
                "One JSON object: trees, depth, features, native_ns_per_row, xgboost_ns_per_row, speedup, "
                "native_rows_trees_per_second, xgboost_rows_trees_per_second, identical");
  cmd->footer(
      "Without --model, libxgboost first trains a binary:logistic model on generated rows (a few seconds).\n"
      "Single row: each call scores one row, as a session scores a bar; libxgboost's is XGBoosterPredictFromDense\n"
      "with one row and one thread. Batch: 100 000 rows in one call, one thread each. 'identical' checks every\n"
      "score of both, bit for bit.\n"
      "Example:\n  onepath bench infer --json");
  cmd->callback([o, &action] {
    action = [o] {
      std::string path = o->model;
      if (path.empty()) {
        path = (std::filesystem::temp_directory_path() / ("onepath_bench_model_" + std::to_string(::getpid()) + ".json")).string();
        train_model(o->trees, o->depth, o->features, path);
      }
      struct Remove {
        std::string p;
        bool own;
        ~Remove() {
          if (own) std::filesystem::remove(p);
        }
      } remove{path, o->model.empty()};
      const TreeModel m = TreeModel::load(path);
      XgbBooster reference = XgbBooster::load(path);
      reference.set_param("nthread", "1");
      const int f = m.features(), outs = m.outputs();
      const std::size_t pool = 4096, batch = 100000;
      const std::vector<float> rows = sample_rows(batch, f, 5);

      // Interleaved rounds, each: single rows native (every row of the pool in turn) and
      // libxgboost, then a batch of each; medians of the rounds after the first (cold) one.
      constexpr int kRounds = 5;
      std::vector<float> out(static_cast<std::size_t>(outs)), native(batch * static_cast<std::size_t>(outs)), want;
      float sink = 0;
      const std::size_t xgb_calls = 1000;
      std::vector<double> native_row, xgb_row, native_batch_s, xgb_batch_s;
      double cold_native_ns = 0;
      for (int round = 0; round <= kRounds; ++round) {
        auto t = Clock::now();
        for (int rep = 0; rep < 25; ++rep)
          for (std::size_t r = 0; r < pool; ++r) {
            m.predict(rows.data() + r * static_cast<std::size_t>(f), out.data());
            sink += out[0];
          }
        const double one_row = seconds_since(t) * 1e9 / (25.0 * pool);
        if (round == 0)
          cold_native_ns = one_row;
        else
          native_row.push_back(one_row);
        t = Clock::now();
        for (std::size_t r = 0; r < xgb_calls; ++r) sink += reference.predict(rows.data() + r * static_cast<std::size_t>(f), 1, f)[0];
        if (round > 0) xgb_row.push_back(seconds_since(t) * 1e9 / static_cast<double>(xgb_calls));
        t = Clock::now();
        m.predict_batch(rows.data(), batch, native.data());
        if (round > 0) native_batch_s.push_back(seconds_since(t));
        t = Clock::now();
        want = reference.predict(rows.data(), batch, f);
        if (round > 0) xgb_batch_s.push_back(seconds_since(t));
      }
      const double native_ns = percentile(native_row, 50), xgb_ns = percentile(xgb_row, 50);
      const double native_batch = percentile(native_batch_s, 50), xgb_batch = percentile(xgb_batch_s, 50);
      const bool identical = want.size() == native.size() && std::memcmp(want.data(), native.data(), native.size() * sizeof(float)) == 0;
      const double trees = static_cast<double>(m.trees());
      const double native_tput = static_cast<double>(batch) * trees / native_batch, xgb_tput = static_cast<double>(batch) * trees / xgb_batch;
      if (o->json) {
        fmt::print(
            "{{\"trees\":{},\"depth\":{},\"features\":{},\"native_ns_per_row\":{:.1f},\"xgboost_ns_per_row\":{:.1f},\"speedup\":{:.1f},"
            "\"native_rows_trees_per_second\":{:.4g},\"xgboost_rows_trees_per_second\":{:.4g},\"identical\":{},"
            "\"cold_native_ns_per_row\":{:.1f},\"runs\":{}}}\n",
            m.trees(), m.depth(), f, native_ns, xgb_ns, xgb_ns / native_ns, native_tput, xgb_tput, identical, cold_native_ns,
            kRounds);
      } else {
        fmt::print("model: {} trees, {} features ({}), libxgboost {}\n", m.trees(), f, m.objective(), xgboost_version());
        fmt::print(
            "one row:  native {:.0f} ns, libxgboost {:.0f} ns ({:.0f}x); medians of {} interleaved rounds (the first, cold: native {:.0f} ns)\n",
            native_ns, xgb_ns, xgb_ns / native_ns, kRounds, cold_native_ns);
        fmt::print("batch:    native {:.3g} rows x trees / s, libxgboost {:.3g} (one thread each)\n", native_tput, xgb_tput);
        fmt::print("scores:   {}\n", identical ? "identical, bit for bit" : "DIFFERENT");
      }
      if (sink == 12345.678f) fmt::print(" ");  // keeps the timed calls
      return identical ? 0 : 1;
    };
  });
}

}  // namespace onepath::cli
