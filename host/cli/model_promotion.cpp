#include "cli/model_promotion.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/time.hpp"
#include "data/candle_io.hpp"
#include "infer/promotion.hpp"
#include "infer/train.hpp"
#include "run/backtest.hpp"
#include "run/run_config.hpp"
#include "store/journal.hpp"
#include "store/model_registry.hpp"

namespace onepath::cli {
namespace {

namespace fs = std::filesystem;

// The config whose [promotion] applies: the one given, else the one that trained the version.
std::optional<RunConfig> gates_config(Journal& j, const ModelVersion& v, const std::string& given) {
  if (!given.empty()) return load_run_config(given);
  if (!v.train_run) return std::nullopt;
  const auto run = j.run(v.train_run);
  if (!run) return std::nullopt;
  return load_run_config_text(run->config_text, run->config_path);
}

// The leakage variant: the same [train] with no purge and no embargo, the version's own
// booster parameters (no search), scored on the same walk-forward folds.
std::vector<FoldScore> train_no_purge(RunConfig c, const ModelVersion& v) {
  const auto m = nlohmann::json::parse(v.manifest_json);
  if (m.contains("params")) {
    const auto& p = m["params"];
    BoosterParams& b = c.train.booster;
    b.rounds = p.value("rounds", b.rounds), b.max_depth = p.value("max_depth", b.max_depth), b.eta = p.value("eta", b.eta);
    b.subsample = p.value("subsample", b.subsample), b.colsample_bytree = p.value("colsample_bytree", b.colsample_bytree);
    b.min_child_weight = p.value("min_child_weight", b.min_child_weight);
  }
  c.train.trials = 0;
  c.train.purge = 0, c.train.embargo = 0, c.train.leaky = true;
  const fs::path dir = fs::temp_directory_path() / ("onepath-leakage-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  c.train.out = (dir / "no_purge.json").string();
  TrainInput in;
  if (c.train.start || c.train.end) c.start = c.train.start, c.end = c.train.end;
  in.market = load_market(c, in.timeframe);
  in.same_bar = c.session.execution.same_bar;
  try {
    const TrainResult r = train_model(c.train, in);
    std::error_code ec;
    const std::string manifest = read_file(r.manifest_path);
    fs::remove_all(dir, ec);
    return manifest_folds(manifest, "the no-purge variant");
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
}

// The last shadow evaluation a paper session journaled for this challenger, if any.
std::optional<ShadowEvaluation> shadow_of(Journal& j, const std::string& challenger, const std::string& metric) {
  const auto events = j.events_correlated("shadow:" + challenger);
  if (events.empty()) return std::nullopt;
  const auto f = nlohmann::json::parse(events.back().fields, nullptr, false);
  if (!f.is_object() || !f.contains("metrics") || !f["metrics"].contains(metric)) return std::nullopt;
  ShadowEvaluation s;
  s.candles = f.value("labelled", std::size_t{0});
  s.champion = f["metrics"][metric].value("champion", 0.0);
  s.challenger = f["metrics"][metric].value("challenger", 0.0);
  s.session = "paper run " + std::to_string(f.value("run", 0)) + ", " + format_iso(events.back().ts);
  return s;
}

}  // namespace

int promote_model(const PromoteRequest& r) {
  auto j = Journal::open_existing(r.db);
  ModelRegistry registry(*j);
  const ModelVersion v = registry.get(r.name + "@" + std::to_string(r.version));
  const std::optional<RunConfig> config = gates_config(*j, v, r.config);
  const PromotionGates gates = config ? config->promotion : PromotionGates{};
  nlohmann::json record = {{"version", r.version}, {"action", "promote"}};
  std::vector<GateVerdict> verdicts;
  if (!gates.any()) {
    fmt::print("no readiness gates declared ([promotion] in {}); nothing to check\n",
               config ? config->path : "the config that trained it (none recorded; --config RUN.toml names one)");
  } else {
    PromotionCase c;
    c.challenger = manifest_folds(v.manifest_json, r.name + "@" + std::to_string(r.version));
    for (const auto& other : registry.list(r.name))
      if (other.status == "production" && other.version != r.version) {
        c.champion = manifest_folds(registry.get(r.name + "@" + std::to_string(other.version)).manifest_json, "the champion");
        c.champion_label = r.name + "@" + std::to_string(other.version);
      }
    if (gates.leakage_check) {
      fmt::print("leakage check: training the no-purge variant of {}@{} on the same folds...\n", r.name, r.version);
      c.no_purge = train_no_purge(*config, v);
    }
    if (gates.shadow_candles > 0) c.shadow = shadow_of(*j, r.name + "@" + std::to_string(r.version), gates.metric);
    verdicts = check_gates(gates, c);
    fmt::print("readiness gates for {}@{} ({}, metric {}):\n", r.name, r.version, config->path, gates.metric);
    for (const auto& g : verdicts)
      fmt::print("  {:<30} {:<36} {:<30} {}{}\n", g.gate, g.value, g.threshold, g.pass ? "pass" : "FAIL", g.why.empty() ? "" : ": " + g.why);
  }
  std::size_t failed = 0;
  for (const auto& g : verdicts) {
    failed += !g.pass;
    record["gates"].push_back({{"gate", g.gate}, {"value", g.value}, {"threshold", g.threshold}, {"pass", g.pass}, {"why", g.why}});
  }
  if (failed && r.force_reason.empty()) {
    record["action"] = "promote_refused";
    j->event(0, "model:" + r.name, "model_promotion_refused", record.dump());
    fmt::print("refused: {} of {} gates failed; {}@{} stays a candidate (--force \"REASON\" overrides, the reason journaled)\n", failed, verdicts.size(), r.name,
               r.version);
    return 1;
  }
  if (failed) record["forced"] = r.force_reason;
  registry.promote(r.name, r.version);
  j->event(0, "model:" + r.name, failed ? "model_promoted_by_force" : "model_promoted", record.dump());
  fmt::print("{} version {} is in production{}\n", r.name, r.version,
             failed ? " (forced past " + std::to_string(failed) + " failed gate" + (failed > 1 ? "s" : "") + ": " + r.force_reason + ")" : "");
  return 0;
}

std::int64_t rollback_model(const std::string& db, const std::string& name) {
  auto j = Journal::open_existing(db);
  const std::int64_t v = ModelRegistry(*j).rollback(name);
  j->event(0, "model:" + name, "model_rolled_back", nlohmann::json{{"version", v}, {"action", "rollback"}}.dump());
  return v;
}

}  // namespace onepath::cli
