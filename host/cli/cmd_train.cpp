// onepath train RUN.toml: a model for the run's feature sets, from its [data] and [train].
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/recorded_run.hpp"
#include "cli/console.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "data/candle_io.hpp"
#include "infer/train.hpp"
#include "run/backtest.hpp"
#include "run/run_config.hpp"
#include "store/journal.hpp"
#include "store/model_registry.hpp"

namespace onepath::cli {
namespace {

std::string num(double v, int digits = 3) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "-"; }

nlohmann::json metrics_json(const FoldMetrics& m) {
  auto n = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"train_rows", m.train_rows}, {"test_rows", m.test_rows}, {"auc", n(m.auc)}, {"log_loss", n(m.log_loss)},
          {"precision", n(m.precision)}, {"recall", n(m.recall)}, {"f1", n(m.f1)}, {"positive_rate", n(m.positive_rate)}};
}

}  // namespace

void add_train_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string config, db;
    std::vector<std::string> sets;
    int trials = -1;
    bool no_progress = false, no_journal = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("train", "Train a model (XGBoost) on a feature file's columns over the run's [data]");
  cmd->add_option("RUN.toml", o->config, "A run's configuration with a [train] table")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", o->sets, "Override a config value: key.path=value (repeatable), e.g. train.horizon=16");
  cmd->add_option("--trials", o->trials, "A seeded random search of this many parameter sets, the best kept (overrides train.trials)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://... (default [output] db, else runs/onepath.db)");
  cmd->add_flag("--no-journal", o->no_journal, "Do not record the training in the journal");
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar");
  cmd->footer(
      "[train] names the feature file whose columns are the inputs, the label (forward_return over horizon bars, or\n"
      "triple_barrier with the kernel's bracket rules), walk-forward folds with purge and embargo bars, the booster's\n"
      "parameters and the seed. One thread and a fixed seed: training twice writes the same bytes. The model goes to\n"
      "train.out, its manifest beside it (inputs, versions, metrics, training distributions).\n"
      "Example:\n  onepath train examples/ml/run.toml\nDetails: docs/models.md.");
  cmd->callback([o, &action] {
    action = [o] {
      RunConfig c = load_run_config(o->config, o->sets);
      if (c.train.out.empty() && c.train.features.empty()) throw InputError(o->config + ": no [train] table (see docs/models.md)");
      if (o->trials >= 0) c.train.trials = o->trials;
      if (!o->db.empty()) c.journal = c.registry = o->db;
      if (o->no_journal) c.journal.clear();
      TrainInput in;
      if (c.train.start || c.train.end) c.start = c.train.start, c.end = c.train.end;  // the training window
      in.market = load_market(c, in.timeframe);
      in.same_bar = c.session.execution.same_bar;
      in.config_path = std::filesystem::absolute(c.path).lexically_normal().string();
      in.config_sha256 = sha256_hex(c.text);

      RecordedRun recorded(c, "train");
      Journal* journal = recorded.journal.get();
      const std::int64_t run_id = recorded.id;
      const bool tty = progress_wanted(o->no_progress);
      auto progress = [tty](int done, int total) {
        if (!tty) return;
        std::string bar(static_cast<std::size_t>(25 * done / std::max(total, 1)), '#');
        bar.resize(25, '.');
        fmt::print(stderr, "\r[{}] {}/{} models trained   ", bar, done, total);
        if (done == total) fmt::print(stderr, "\n");
      };
      const TrainResult r = recorded.run([&] { return train_model(c.train, in, progress); });
      fmt::print("{:>4}  {:>10}  {:>9}  {:>20}  {:>6}  {:>8}  {:>9}  {:>6}  {:>6}  {:>5}\n", "fold", "train rows", "test rows", "test from",
                 "auc", "log loss", "precision", "recall", "f1", "pos %");
      for (std::size_t k = 0; k < r.folds.size(); ++k) {
        const FoldMetrics& m = r.folds[k];
        fmt::print("{:>4}  {:>10}  {:>9}  {:>20}  {:>6}  {:>8}  {:>9}  {:>6}  {:>6}  {:>5}\n", k + 1, m.train_rows, m.test_rows, format_iso(m.test_start),
                   num(m.auc), num(m.log_loss), num(m.precision), num(m.recall), num(m.f1), num(100 * m.positive_rate, 1));
      }
      fmt::print("{:>4}  {:>10}  {:>9}  {:>20}  {:>6}  {:>8}  {:>9}  {:>6}  {:>6}  {:>5}\n", "mean", "", "", "", num(r.mean.auc), num(r.mean.log_loss),
                 num(r.mean.precision), num(r.mean.recall), num(r.mean.f1), num(100 * r.mean.positive_rate, 1));
      fmt::print("model {} ({} rows, {} inputs, {} rounds of depth {}, eta {}), sha256 {}\n  manifest {}\n", r.model_path, r.rows, r.inputs.size(),
                 r.params.rounds, r.params.max_depth, r.params.eta, r.model_sha256.substr(0, 16), r.manifest_path);
      if (journal) {
        nlohmann::json folds = nlohmann::json::array();
        for (std::size_t k = 0; k < r.folds.size(); ++k) {
          folds.push_back(metrics_json(r.folds[k]));
          journal->event(run_id, "train-" + std::to_string(run_id), "train_fold", nlohmann::json{{"fold", k + 1}, {"metrics", metrics_json(r.folds[k])}}.dump());
        }
        const nlohmann::json metrics = {{"model", r.model_path}, {"model_sha256", r.model_sha256}, {"rows", r.rows}, {"mean", metrics_json(r.mean)}, {"folds", folds}};
        journal->end_run(run_id, "complete", {"", "", metrics.dump(), "", r.inputs});
        const std::int64_t version = ModelRegistry(*journal).add(c.train.name, read_file(r.model_path), read_file(r.manifest_path),
                                                                 std::filesystem::absolute(r.model_path).lexically_normal().string(), run_id);
        fmt::print("  journal: run {} in {}; registered as {} version {} (a candidate: 'onepath models promote {} {}')\n", run_id, c.journal,
                   c.train.name, version, c.train.name, version);
      }
      return 0;
    };
  });
}

}  // namespace onepath::cli
