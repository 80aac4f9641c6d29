// The certificate's run: the config's own data (and the fixture grid), each case through
// every check, the first divergence stops it; then the warm-up truth, the models' training
// windows, and the SHA-256 of every input.
#include "certify/certify.hpp"

#include <luajit.h>

#include <chrono>

#include "certify/checks.hpp"
#include "enrich/cross_symbol.hpp"
#include "core/time.hpp"
#include "data/synth.hpp"
#include "infer/model_feature.hpp"
#include "infer/xgboost.hpp"
#include "run/backtest.hpp"
#include "run/reload.hpp"
#include "run/session.hpp"

namespace onepath {
namespace {

using Clock = std::chrono::steady_clock;

// The 9 cases of seed 001's grid, generated at the config's timeframe, with gaps.
std::vector<CertifyCase> fixture_cases(const RunConfig& config, Timeframe tf, std::size_t bars) {
  std::vector<CertifyCase> out;
  std::uint64_t seed = 1001;
  for (const char* symbol : {"BTC", "ETH", "SOL"})
    for (Scenario scenario : {Scenario::quiet, Scenario::volatile_market, Scenario::stress}) {
      SynthOptions g;
      g.symbols = {preset_symbol(symbol, 1)};
      g.bars = bars;
      g.seed = seed++;
      g.timeframe = tf;
      g.scenario = scenario;
      g.start_ms = tf.floor(parse_timestamp("2024-01-01"));
      SessionConfig session = config.session;
      session.symbols = {symbol};
      out.push_back(make_case(std::string(symbol) + " " + std::string(scenario_name(scenario)), config, session, generate_market(g), tf));
    }
  return out;
}

// A model scored on the data it learned is a failure of the certificate (or a warning).
void check_in_sample(const CertifyCase& c, const CertifyOptions& o, Certificate& cert) {
  for (const FeatureSpec& f : c.features.features) {
    if (f.indicator.kind != "model") continue;
    const std::string why = in_sample(resolve_model(f), c.market);
    if (why.empty()) continue;
    const std::string message = "model " + f.name + ": " + why + ": its scores here are in sample";
    (o.allow_in_sample ? cert.warnings : cert.failures).push_back(message + (o.allow_in_sample ? " (--allow-in-sample)" : "; --allow-in-sample accepts it"));
  }
}

void add_input(Certificate& cert, const std::string& kind, const std::string& path, std::string sha256 = "") {
  for (const auto& i : cert.inputs)
    if (i.path == path) return;
  cert.inputs.push_back({kind, path, sha256.empty() ? file_sha256(path) : std::move(sha256)});
}

void record_inputs(const RunConfig& config, const CertifyCase& c, Certificate& cert) {
  add_input(cert, "config", config.path);
  for (const auto& [symbol, files] : config.files)
    for (const auto& f : files) add_input(cert, "data", f);
  for (const auto& f : c.script_files) add_input(cert, "script", f);
  for (const auto& f : config.session.filters)
    if (!f.script.empty()) add_input(cert, "script", f.script);
  if (!config.session.signal.empty()) add_input(cert, "script", config.session.signal);
  for (const auto& p : config.session.plugins) add_input(cert, "plugin", p.path);
  for (const FeatureSpec& f : c.features.features)
    if (f.indicator.kind == "model") {
      const ModelRef ref = resolve_model(f);
      add_input(cert, "model", ref.label, ref.label.starts_with("registry ") ? ref.loaded.sha256 : "");
    }
}

}  // namespace

CertifyCase make_case(std::string name, const RunConfig& config, SessionConfig session, std::vector<CandleSeries> market, Timeframe tf) {
  CertifyCase c;
  c.name = std::move(name);
  c.session = std::move(session);
  c.market = std::move(market);
  c.tf = tf;
  c.registry = config.registry;
  DiscardResults none;
  const Session probe(c.session, tf, none, Driver::validation);
  c.features = probe.feature_set();
  c.columns = probe.feature_columns();
  c.script_files = probe.script_files();
  c.batch = enrich_market(c.features, tf, c.market);
  return c;
}

Certificate certify(const RunConfig& config, const CertifyOptions& o) {
  const auto t0 = Clock::now();
  Certificate cert;
  cert.config_path = config.path;
  cert.created = format_iso(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  cert.version = o.version;
  cert.git_revision = o.git_revision;
#if defined(__clang__)
  cert.compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  cert.compiler = std::string("gcc ") + __VERSION__;
#endif
  cert.luajit = LUAJIT_VERSION;
  cert.xgboost = xgboost_version();
  cert.seed = o.seed;
  cert.splits = o.splits;
  cert.lookahead = o.lookahead;
  auto say = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };

  use_model_registry(config.registry);
  Timeframe tf = Timeframe::parse("15m");
  std::vector<CandleSeries> market = load_market(config, tf);
  std::vector<CertifyCase> cases;
  cases.push_back(make_case("config data", config, config.session, std::move(market), tf));
  record_inputs(config, cases[0], cert);
  check_in_sample(cases[0], o, cert);
  if (auto burst = burst_drought_case(config, cases[0])) cases.push_back(std::move(*burst));
  else cert.warnings.push_back("the burst-and-drought case needs 591 candles per symbol; the config's data has fewer, so it was not run");
  if (o.fixtures) {
    auto grid = fixture_cases(config, tf, o.fixture_bars);
    std::move(grid.begin(), grid.end(), std::back_inserter(cases));
  }

  Rng rng(o.seed);
  for (const CertifyCase& c : cases) {
    CaseResult result;
    result.name = c.name;
    result.symbols = c.market.size();
    for (const auto& s : c.market) result.candles += s.size();
    auto stage = [&](StageResult r) {
      say(c.name + ": " + r.stage + ": " + r.verdict + " (" + std::to_string(r.compared) + " compared, " + std::to_string(r.seconds).substr(0, 5) + " s)");
      result.stages.push_back(std::move(r));
    };
    std::optional<ParityDivergence>& first = cert.divergence;
    if (!c.probe) stage(check_features(c, rng, o.splits, first));
    if (!first && !c.probe) stage(check_models(c, first));
    RunRecord straight;
    if (!first) straight = run_case(c);
    if (!first)
      for (auto& r : check_restore(c, straight, rng, o.splits, first)) stage(std::move(r));
    if (!first && !c.probe) stage(check_paper(c, straight, first));
    if (!first && !c.probe) stage(check_lookahead(c, straight, rng, o.lookahead, first));
    cert.cases.push_back(std::move(result));
    if (first) break;
  }
  const Enricher declared(cases[0].features, cases[0].tf);
  for (const auto& t : declared.declared_tolerances()) cert.tolerances.push_back({t.column, t.kind, t.why, t.relative});
  cert.first_value_bars = declared.first_value_bars();
  cert.warmup_bars = declared.warmup_bars();
  cert.settled_by = declared.warmup_feature();
  if (!cert.divergence) {
    cert.warmup = measure_warmup(cases[0], rng);
    for (const auto& w : cert.warmup)
      if (w.short_declared)
        cert.warnings.push_back("feature " + w.column + ": its declared warm-up of " + std::to_string(w.declared) +
                                " bars does not settle it within 1e-9 (the data shows " + (w.measured ? std::to_string(w.measured) : "more than " + std::to_string(4 * w.declared)) + ")");
  }
  cert.passed = !cert.divergence && cert.failures.empty();
  cert.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return cert;
}

}  // namespace onepath
