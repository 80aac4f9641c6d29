// onepath models list | show | promote | rollback | history: the model registry in the journal;
// onepath drift MODEL --data FILE: how far a model's inputs have moved since training.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/model_promotion.hpp"
#include "core/error.hpp"
#include "core/time.hpp"
#include "data/candle_io.hpp"
#include "data/validate.hpp"
#include "enrich/enricher.hpp"
#include "infer/drift.hpp"
#include "infer/model_feature.hpp"
#include "lua/feature_file.hpp"
#include "store/journal.hpp"
#include "store/model_registry.hpp"

namespace onepath::cli {
namespace {

std::string mean_auc(const std::string& manifest) {
  const auto j = nlohmann::json::parse(manifest, nullptr, false);
  if (!j.is_object()) return "-";
  const auto auc = j.value("/metrics/mean/auc"_json_pointer, nlohmann::json());
  return auc.is_number() ? fmt::format("{:.3f}", auc.get<double>()) : "-";
}

// A model's manifest: a .json file's (beside it), or a registry version's.
std::string manifest_of(const std::string& model, const std::string& db) {
  if (model.ends_with(".json")) {
    std::ifstream in(model_manifest_path(model));
    if (!in) throw InputError(model + ": no manifest beside it (" + model_manifest_path(model) + "); 'onepath train' writes one");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  auto j = Journal::open_existing(db);
  return ModelRegistry(*j).get(model).manifest_json;
}

int drift(const std::string& model, const std::string& data, const std::string& db, bool strict) {
  const std::string manifest = manifest_of(model, db);
  const auto m = nlohmann::json::parse(manifest, nullptr, false);
  const std::string features = m.value("features_file", "");
  if (features.empty()) throw InputError(model + ": its manifest names no features file");
  CandleFile file = read_candles(data);
  if (file.series.size() < 2) throw InputError(data + ": too few candles");
  const Timeframe tf = infer_timeframe(file.series);
  const std::string trained_on = m.value("timeframe", "");
  if (!trained_on.empty() && trained_on != tf.name())
    throw InputError(data + ": " + std::string(tf.name()) + " candles, but " + model + " was trained on " + trained_on +
                     " candles; its inputs mean other things at another timeframe (resample: onepath data resample FILE --to " + trained_on + ")");
  Enricher e(load_feature_file(features), tf);
  const FeatureColumns cols = e.enrich_batch(file.series);
  std::vector<std::vector<double>> inputs;
  for (const auto& name : m["inputs"]) {
    const auto it = std::find(e.columns().begin(), e.columns().end(), name.get<std::string>());
    if (it == e.columns().end()) throw InputError(features + " no longer has the model's input '" + name.get<std::string>() + "'");
    const auto& col = cols[static_cast<std::size_t>(it - e.columns().begin())];
    inputs.emplace_back(col.begin() + static_cast<std::ptrdiff_t>(std::min(e.warmup_bars(), col.size())), col.end());
  }
  const auto drifts = input_drift(manifest, inputs);
  fmt::print("{} against its training window {} .. {}: {} candles of {} (after {} warm-up)\n", model,
             m.value("/training_window/start"_json_pointer, std::string("?")), m.value("/training_window/end"_json_pointer, std::string("?")),
             file.series.size(), data, e.warmup_bars());
  fmt::print("{:<20} {:>8} {:>8} {:>8}  {}\n", "input", "values", "psi", "ks", "verdict (psi: < 0.1 stable, < 0.25 moderate)");
  int drifted = 0;
  for (const auto& d : drifts) {
    fmt::print("{:<20} {:>8} {:>8.4f} {:>8.4f}  {}\n", d.input, d.count, d.psi, d.ks, d.verdict);
    drifted += d.verdict == "drifted";
  }
  fmt::print("{} of {} inputs drifted\n", drifted, drifts.size());
  return strict && drifted ? 1 : 0;
}

}  // namespace

// NAME VERSION and NAME@VERSION are one and the same everywhere.
std::string model_ref(const std::string& name, const std::string& version) {
  if (version.empty()) return name;
  if (name.find('@') != std::string::npos) throw InputError("give the version once: " + name + " or " + name.substr(0, name.find('@')) + " " + version);
  return name + "@" + version;
}

void add_models_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string db = kDefaultJournal, name, version, config, force;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("models", "The model registry: versions of trained models, which one is in production");
  cmd->require_subcommand(1);
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://...")->capture_default_str();
  cmd->footer(
      "'onepath train' registers every model it writes as a new version, a candidate. A feature set names a model\n"
      "by registry name, { kind = \"model\", model = \"NAME\", inputs = {...} }: the version in production, or\n"
      "\"NAME@3\" for one version.\nDetails: docs/models.md.");
  auto* list = cmd->add_subcommand("list", "Every version of every model");
  list->callback([o, &action] {
    action = [o] {
      auto j = Journal::open_existing(o->db);
      ModelRegistry reg(*j);
      const auto versions = reg.list();
      if (versions.empty()) fmt::print("no models in {} ('onepath train' registers them)\n", o->db);
      else fmt::print("{:<20} {:>7}  {:<10}  {:<20}  {:>8}  {:>9}  {}\n", "name", "version", "status", "created (UTC)", "mean auc", "train run", "sha256");
      for (const auto& v : versions) {
        const ModelVersion full = reg.get(v.name + "@" + std::to_string(v.version));
        fmt::print("{:<20} {:>7}  {:<10}  {:<20}  {:>8}  {:>9}  {}\n", v.name, v.version, v.status, format_iso(v.created_at),
                   mean_auc(full.manifest_json), v.train_run ? std::to_string(v.train_run) : "-", v.sha256.substr(0, 16));
      }
      return 0;
    };
  });
  auto* show = cmd->add_subcommand("show", "One version: where it came from and its manifest");
  show->add_option("NAME", o->name, "NAME (the version in production), NAME VERSION or NAME@VERSION")->required();
  show->add_option("VERSION", o->version, "The version (or NAME@VERSION)");
  show->callback([o, &action] {
    action = [o] {
      auto j = Journal::open_existing(o->db);
      const ModelVersion v = ModelRegistry(*j).get(model_ref(o->name, o->version));
      fmt::print("{} version {}: {}, created {}{}\n  from {} (train run {}), sha256 {}\n", v.name, v.version, v.status, format_iso(v.created_at),
                 v.promoted_at ? ", promoted " + format_iso(v.promoted_at) : "", v.source, v.train_run, v.sha256);
      const auto m = nlohmann::json::parse(v.manifest_json, nullptr, false);
      if (m.is_object()) {  // the training distributions are long: 'onepath drift' reads them
        nlohmann::json shown = m;
        shown.erase("distributions");
        fmt::print("{}\n", shown.dump(2));
      }
      return 0;
    };
  });
  auto* promote = cmd->add_subcommand("promote", "Put a version into production once its readiness gates pass (the one there is retired)");
  promote->add_option("NAME", o->name, "The model's name: NAME VERSION or NAME@VERSION")->required();
  promote->add_option("VERSION", o->version, "The version (or NAME@VERSION)");
  promote->add_option("--config", o->config, "A RUN.toml whose [promotion] gates apply (default: the config that trained the version)")
      ->check(CLI::ExistingFile);
  promote->add_option("--force", o->force, "Promote even when a gate fails; the REASON is journaled with the verdicts");
  promote->footer(
      "Gates ([promotion] in a RUN.toml): signals per walk-forward fold, the metric's variance over folds, the improvement\n"
      "over the champion on the same folds, a leakage check (a no-purge variant trained on the same folds must not beat it:\n"
      "one-sided paired t over folds, Benjamini-Hochberg over metrics) and a shadow period in a paper session. Each is\n"
      "printed with its value, threshold and verdict; exit 1 when one fails. Running paper sessions pick the new version\n"
      "up between candles.\n"
      "Example:\n  onepath models promote eth_up 2 --db runs/onepath.db\nDetails: docs/models.md.");
  promote->callback([o, &action] {
    action = [o] {
      const std::string ref = model_ref(o->name, o->version);
      const auto at = ref.find('@');
      if (at == std::string::npos) throw InputError("which version of " + o->name + "? NAME VERSION or NAME@VERSION");
      const std::string name = ref.substr(0, at), text = ref.substr(at + 1);
      std::int64_t version = 0;
      try {
        std::size_t used = 0;
        version = std::stoll(text, &used);
        if (used != text.size() || version < 1) throw std::invalid_argument(text);
      } catch (const std::exception&) {
        throw InputError("version '" + text + "' of " + name + " is not a version number (1, 2, ...)");
      }
      return promote_model({o->db, name, version, o->config, o->force});
    };
  });
  auto* history = cmd->add_subcommand("history", "What happened to a model's versions: promotions (with their gates), refusals, rollbacks");
  history->add_option("NAME", o->name, "The model's name")->required();
  history->callback([o, &action] {
    action = [o] {
      auto j = Journal::open_existing(o->db);
      const auto events = j->events_correlated("model:" + o->name);
      if (events.empty()) {
        fmt::print("no promotion, refusal or rollback of '{}' in {}\n", o->name, o->db);
        return 0;
      }
      fmt::print("{:<26} {:<18} {:>7}  {}\n", "time (UTC)", "what", "version", "gates failed / reason");
      for (const auto& e : events) {
        const auto f = nlohmann::json::parse(e.fields, nullptr, false);
        std::string failed;
        if (f.contains("gates"))
          for (const auto& g : f["gates"])
            if (!g.value("pass", true)) failed += (failed.empty() ? "" : ", ") + g.value("gate", std::string());
        const std::string what = e.name.starts_with("model_") ? e.name.substr(6) : e.name;
        const std::string reason = f.value("forced", std::string());
        fmt::print("{:<26} {:<18} {:>7}  {}{}\n", format_iso(e.ts), what == "promotion_refused" ? "refused" : what, f.value("version", 0), failed,
                   reason.empty() ? "" : (failed.empty() ? "" : "; ") + std::string("forced: ") + reason);
      }
      return 0;
    };
  });
  struct DriftOpts {
    std::string model, version, data;
    bool strict = false;
  };
  auto d = std::make_shared<DriftOpts>();
  auto* dr = app.add_subcommand("drift", "How far a model's inputs have moved from its training distributions (PSI, KS)");
  dr->add_option("MODEL", d->model, "A model file (.json, its manifest beside it) or a registry name (NAME, NAME VERSION, NAME@VERSION)")->required();
  dr->add_option("VERSION", d->version, "The registry version (or NAME@VERSION)");
  dr->add_option("--data", d->data, "Candles (CSV or JSON) to compute the inputs from")->required()->check(CLI::ExistingFile);
  dr->add_option("--db", o->db, "Journal with the model registry")->capture_default_str();
  dr->add_flag("--strict", d->strict, "Exit 1 when an input has drifted (PSI above 0.25)");
  dr->footer("Example:\n  onepath drift models/ml_up.json --data market/BTC.csv\nDetails: docs/models.md.");
  dr->callback([o, d, &action] { action = [o, d] { return drift(model_ref(d->model, d->version), d->data, o->db, d->strict); }; });
  auto* rollback = cmd->add_subcommand("rollback", "Put back into production the version that was there before");
  rollback->add_option("NAME", o->name, "The model's name")->required();
  rollback->callback([o, &action] {
    action = [o] {
      const std::int64_t v = rollback_model(o->db, o->name);
      fmt::print("{} version {} is in production again; running paper sessions pick it up between candles\n", o->name, v);
      return 0;
    };
  });
}

}  // namespace onepath::cli
