// onepath certify: a sound config (files, a plugin kind, a model, a Lua filter) is certified
// and its certificate's --check notices each input changing; each stage, broken on purpose,
// is caught and named.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "certify/certify.hpp"
#include "certify/checks.hpp"
#include "data/candle_io.hpp"
#include "data/synth.hpp"
#include "infer/xgboost.hpp"
#include "run/backtest.hpp"
#include "run/paper.hpp"
#include "run/session.hpp"
#include "store/journal.hpp"

using namespace onepath;

namespace {

namespace fs = std::filesystem;
const std::string kSource = ONEPATH_SOURCE_DIR, kPlugins = ONEPATH_PLUGINS, kTestPlugins = ONEPATH_TEST_PLUGINS;

struct Project {
  fs::path dir = fs::temp_directory_path() / ("onepath-certify-test-" + std::to_string(::getpid()));
  Project() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    SynthOptions g;
    g.symbols = {preset_symbol("BTC", 1), preset_symbol("ETH", 0.8)};
    g.bars = 1200;
    g.seed = 4;
    g.start_ms = 1709251200000;
    g.scenario = Scenario::volatile_market;
    for (const auto& s : generate_market(g)) std::ofstream(dir / (s.symbol + ".csv")) << to_csv(s);  // with gaps
  }
  ~Project() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
  // A config over the two files, the strategy `script`, and more TOML.
  RunConfig config(const std::string& script, const std::string& more = "") const {
    write("RUN.toml", "[data]\nfiles = { BTC = \"BTC.csv\", ETH = \"ETH.csv\" }\ntimeframe = \"15m\"\n[strategy]\nscript = \"" + script +
                          "\"\nscripts_root = \"" + dir.string() + "\"\n[output]\ndb = \"\"\n" + more);
    return load_run_config((dir / "RUN.toml").string());
  }
};

// Buys when its score is high and the trend is up, closes on the way down.
std::string strategy(const std::string& features, const std::string& extra = "", const std::string& decide = "f.fast > f.slow") {
  return "local S = {}\nS.features = { " + features + " }\n" + extra +
         "function S.on_bar(ctx, bar, f)\n  if f.slow ~= f.slow then return end\n  local up = " + decide +
         "\n  if up and ctx.position == 0 then ctx:buy{ size = 0.1, sl_pct = 0.02 } elseif not up and ctx.position > 0 then ctx:close() end\nend\nreturn S\n";
}
const std::string kEmas = R"({ name = "fast", kind = "ema", period = 5 }, { name = "slow", kind = "ema", period = 20 })";

CertifyOptions quick() {
  CertifyOptions o;
  o.splits = 3;
  o.lookahead = 3;
  return o;
}

// A small logistic model on two inputs named like the features it reads.
void train_model(const std::string& path) {
  std::vector<float> x, y;
  Rng rng(3);
  for (int i = 0; i < 400; ++i) {
    const float a = static_cast<float>(100 + 10 * rng.normal()), b = static_cast<float>(100 + 10 * rng.normal());
    x.push_back(a), x.push_back(b), y.push_back(a > b ? 1.0f : 0.0f);
  }
  XgbBooster b;
  b.train(x.data(), y.data(), y.size(), 2, {{"objective", "binary:logistic"}, {"max_depth", "3"}, {"nthread", "1"}, {"seed", "1"}}, 20, {"fast", "slow"});
  b.save(path);
}

}  // namespace

TEST_CASE("a sound config is certified at every stage, and --check names each input that changes afterwards") {
  Project p;
  fs::copy_file(kPlugins + "/ta_extra.so", p.dir / "ta_extra.so");
  train_model((p.dir / "model.json").string());
  const std::string script = p.write("strategy.lua", strategy(kEmas + R"(, { name = "st", kind = "supertrend" },
    { name = "p", kind = "model", path = ")" + (p.dir / "model.json").string() + R"(", inputs = { "fast", "slow" } })",
                                                              "", "f.p > 0.5 and f.st_direction > 0"));
  const std::string filter = p.write("filter.lua", "local F = {}\nF.__index = F\nfunction F.new() return setmetatable({ seen = {} }, F) end\n"
                                                   "function F:apply(intent, ctx)\n  self.seen[ctx.symbol] = (self.seen[ctx.symbol] or 0) + 1\n"
                                                   "  if self.seen[ctx.symbol] % 3 == 0 then return nil, 'every third' end\n  return intent\nend\nreturn F\n");
  RunConfig c = p.config(script, "[[plugins]]\npath = \"ta_extra.so\"\n[[filters]]\nscript = \"filter.lua\"\n");
  const Certificate cert = certify(c, quick());
  CHECK_MESSAGE(cert.passed, (cert.divergence ? describe(*cert.divergence) : "failures: " + std::to_string(cert.failures.size())));
  REQUIRE(cert.cases.size() == 2);
  CHECK(cert.cases[1].name == "burst and drought");  // the Lua filter under bursts and a drought
  REQUIRE(cert.cases[1].stages.size() == 2);
  CHECK(cert.cases[1].stages[0].verdict == "identical");
  CHECK(cert.cases[1].stages[0].note.find("inside each burst") != std::string::npos);
  std::set<std::string> stages;
  for (const auto& s : cert.cases[0].stages) {
    CAPTURE(s.stage);
    CHECK(s.verdict == "identical");
    CHECK(s.compared > 0);
    stages.insert(s.stage);
  }
  CHECK(stages == std::set<std::string>{"Eq. 1 features", "Eq. 2 models", "Eq. 3 decisions and filters", "Eq. 4 execution", "Eq. 5 end to end", "lookahead"});
  CHECK(!cert.warmup.empty());
  std::set<std::string> kinds;
  for (const auto& i : cert.inputs) kinds.insert(i.kind);
  CHECK(kinds == std::set<std::string>{"config", "data", "script", "plugin", "model"});

  const std::string json_path = p.write("certificate.json", certificate_json(cert));
  CHECK(nlohmann::json::parse(certificate_json(cert))["passed"] == true);
  CHECK(certificate_html(cert).find("PASSED") != std::string::npos);
  CHECK(check_certificate(json_path).applies);
  std::ofstream(p.dir / "ETH.csv", std::ios::app) << "\n";
  std::ofstream(p.dir / "strategy.lua", std::ios::app) << "-- edited\n";
  std::ofstream(p.dir / "ta_extra.so", std::ios::app | std::ios::binary) << '\0';
  std::ofstream(p.dir / "model.json", std::ios::app) << " ";
  const CertificateCheck after = check_certificate(json_path);
  CHECK_FALSE(after.applies);
  std::string changed;
  for (const auto& line : after.changed) changed += line + "\n";
  CHECK_MESSAGE(after.changed.size() == 4, changed);
  for (const char* name : {"data " , "script ", "plugin ", "model "}) CHECK_MESSAGE(changed.find(name) != std::string::npos, changed);
  for (const char* file : {"ETH.csv", "strategy.lua", "ta_extra.so", "model.json"}) CHECK_MESSAGE(changed.find(file) != std::string::npos, changed);
}

TEST_CASE("each stage broken on purpose is caught and named: the stage, the column or field, both values, the bar") {
  Project p;
  const std::string plugin = "[[plugins]]\npath = \"" + kTestPlugins + "/test_broken_kinds.so\"\n";
  SUBCASE("Eq. 1: a plugin kind whose saved state is empty") {
    const RunConfig c = p.config(p.write("lossy.lua", strategy(kEmas + R"(, { name = "l", kind = "test_lossy" })")), plugin);
    const Certificate cert = certify(c, quick());
    REQUIRE(cert.divergence);
    CHECK(cert.divergence->stage == "Eq. 1 features");
    CHECK(cert.divergence->field == "column l");
    CHECK(cert.divergence->how.find("snapshotted, restored") != std::string::npos);
    CHECK(cert.divergence->a.find("(0x") != std::string::npos);  // the bits beside the value
    CHECK(cert.divergence->candle);
    CHECK_FALSE(cert.divergence->row.empty());
    CHECK_FALSE(cert.passed);
  }
  SUBCASE("Eq. 1: a pair of kinds that share a slot, so that batch reads the future") {
    const RunConfig c = p.config(p.write("peek.lua", strategy(kEmas + R"(, { name = "w", kind = "test_peek_write" }, { name = "r", kind = "test_peek_read" })")), plugin);
    const Certificate cert = certify(c, quick());
    REQUIRE(cert.divergence);
    CHECK(cert.divergence->stage == "Eq. 1 features");
    CHECK(cert.divergence->field == "column r");
    CHECK(cert.divergence->how == "batch vs stream from the first candle");
  }
  SUBCASE("Eq. 3: a strategy that keeps state outside ctx.state") {
    const RunConfig c = p.config(p.write("upvalue.lua", strategy(kEmas, "local bars = 0\n", "(function() bars = bars + 1 return f.fast > f.slow and bars > 600 end)()")));
    const Certificate cert = certify(c, quick());
    REQUIRE(cert.divergence);
    CHECK(cert.divergence->stage == "Eq. 3 decisions and filters");
    CHECK(cert.divergence->field.find("decision #") == 0);
    CHECK(cert.divergence->how.find("saved and restored after time slice") != std::string::npos);
  }
  SUBCASE("Eq. 4: a filter whose saved state is fed from outside it") {
    p.write("leaky.lua", "local F = {}\nF.__index = F\nlocal calls = 0\nfunction F.new() return setmetatable({ n = 0 }, F) end\n"
                         "function F:apply(intent, ctx)\n  calls = calls + 1\n  self.n = calls\n  return intent\nend\nreturn F\n");
    const RunConfig c = p.config(p.write("plain.lua", strategy(kEmas)), "[[filters]]\nscript = \"leaky.lua\"\n");
    const Certificate cert = certify(c, quick());
    REQUIRE(cert.divergence);
    CHECK(cert.divergence->stage == "Eq. 4 execution");
    CHECK(cert.divergence->field.find("the execution engine") != std::string::npos);
  }
  SUBCASE("Eq. 3 under bursts and a drought: a cooldown kept outside the filter's saved state") {
    // The strategy never trades, so only certify's burst-and-drought probe feeds the filter.
    p.write("forgetful.lua", "local F = {}\nF.__index = F\nlocal last = {}\nfunction F.new() return setmetatable({}, F) end\n"
                             "function F:apply(intent, ctx)\n  local was = last[ctx.symbol]\n  last[ctx.symbol] = ctx.bar\n"
                             "  if was and ctx.bar - was < 5 then return nil, 'cooldown' end\n  return intent\nend\nreturn F\n");
    const RunConfig c = p.config(p.write("never.lua", strategy(kEmas, "", "false")), "[[filters]]\nscript = \"forgetful.lua\"\n");
    const Certificate cert = certify(c, quick());
    REQUIRE(cert.divergence);
    CHECK(cert.divergence->case_name == "burst and drought");
    CHECK(cert.divergence->stage == "Eq. 3 decisions and filters");
    CHECK(cert.cases.at(0).name == "config data");
    REQUIRE(cert.cases.at(0).stages.size() == 6);  // every stage ran, and passed, on the config's own strategy
    for (const auto& st : cert.cases.at(0).stages) CHECK(st.verdict != "diverged");
  }
  SUBCASE("Eq. 5: a strategy that decides otherwise in a paper session") {
    const RunConfig c = p.config(p.write("driver.lua", strategy(kEmas, "", "f.fast > f.slow and service('test_driver', 'driver') ~= 'paper'")), plugin);
    const Certificate cert = certify(c, quick());
    REQUIRE(cert.divergence);
    CHECK(cert.divergence->stage == "Eq. 5 end to end");
    CHECK(cert.divergence->how == "the backtest vs a paper replay at full speed");
    CHECK(cert.divergence->field.find("decision #") == 0);
  }
  SUBCASE("Eq. 2: a libxgboost score one ulp from the native one") {
    // The native scorer equals libxgboost by construction (infer_tests prove it on 100 000
    // rows), so the comparison itself is fed a score one ulp off, on a real case's bars.
    const RunConfig c = p.config(p.write("plain2.lua", strategy(kEmas)));
    Timeframe tf = Timeframe::parse("15m");
    const CertifyCase k = make_case("config data", c, c.session, load_market(c, tf), tf);
    ModelScores m{{{0, 5}, {1, 6}, {1, 7}}, 1, {0.25f, 0.5f, 0.75f}, {0.25f, 0.5f, 0.75f}, {0.25f, 0.5f, 0.75f}};
    StageResult r{"Eq. 2 models", "identical", 0, ""};
    std::optional<ParityDivergence> first;
    compare_scores(k, "model up (up@1)", m, r, first);
    CHECK_FALSE(first);
    CHECK(r.compared == 3);
    m.xgb[1] = std::nextafter(0.5f, 1.0f);
    compare_scores(k, "model up (up@1)", m, r, first);
    REQUIRE(first);
    CHECK(first->stage == "Eq. 2 models");
    CHECK(first->symbol == "ETH");
    CHECK(first->ts == k.market[1].ts[6]);
    CHECK(first->field == "model up (up@1) output 0");
    CHECK(first->a == "native 0.5 (0x3fe0000000000000)");
    CHECK(first->b == "libxgboost 0.5000000596046448 (0x3fe0000020000000)");  // a float's next value up, as a double
    CHECK(first->how == "row 2 of 3");
    m.xgb[1] = 0.5f, m.rows[2] = 0.7f;
    first.reset();
    compare_scores(k, "model up (up@1)", m, r, first);
    REQUIRE(first);
    CHECK(first->b.find("native row 0.69999998") == 0);
  }
  SUBCASE("lookahead: the data after a cut changes a value before it") {
    const RunConfig c = p.config(p.write("peek2.lua", strategy(kEmas + R"(, { name = "w", kind = "test_peek_write" }, { name = "r", kind = "test_peek_read" })")), plugin);
    Timeframe tf = Timeframe::parse("15m");
    auto market = load_market(c, tf);
    const CertifyCase k = make_case("config data", c, c.session, std::move(market), tf);
    Rng rng(1);
    std::optional<ParityDivergence> first;
    const StageResult r = check_lookahead(k, run_case(k), rng, 2, first);
    CHECK(r.verdict == "diverged");
    REQUIRE(first);
    CHECK(first->stage == "lookahead");
    CHECK(first->field == "column r reads the future");
    CHECK(first->how.find("the data after ") == 0);
  }
}

TEST_CASE("parity while running: a paper session re-checks its streamed rows in batch, journals a divergence and pauses entries") {
  Project p;
  const std::string plugin = "[[plugins]]\npath = \"" + kTestPlugins + "/test_broken_kinds.so\"\n";
  auto paper = [&](const std::string& script) {
    const std::string toml = "[data]\nfiles = { BTC = \"BTC.csv\", ETH = \"ETH.csv\" }\ntimeframe = \"15m\"\n[strategy]\nscript = \"" + script +
                             "\"\n[output]\ndb = \"" + (p.dir / "journal.db").string() +
                             "\"\n[paper]\nspeed = \"max\"\nport = -1\nreload = false\nshadow_every = 100\nshadow_window = 30\ndir = \"" +
                             (p.dir / "paper").string() + "\"\n" + plugin;
    const RunConfig c = load_run_config(p.write("PAPER.toml", toml));
    PaperOptions o;
    o.fresh = true;
    const PaperOutcome out = run_paper(c, o);
    std::vector<Journal::Event> shadow;
    for (auto& e : Journal::open(c.journal)->events(out.run_id))
      if (e.name == "shadow_divergence") shadow.push_back(e);
    return std::make_pair(out, shadow);
  };
  SUBCASE("sound features: every window identical") {
    const auto [out, events] = paper(p.write("sound.lua", strategy(kEmas)));
    CHECK(out.complete);
    CHECK(out.shadow_checks >= 2 * 10);  // two symbols, about 1200 candles each
    CHECK(out.shadow_rows == out.shadow_checks * 30);
    CHECK(out.shadow_divergences == 0);
    CHECK(events.empty());
  }
  SUBCASE("a kind whose batch reads what streaming has not seen yet") {
    const auto [out, events] =
        paper(p.write("peek.lua", strategy(kEmas + R"(, { name = "w", kind = "test_peek_write" }, { name = "r", kind = "test_peek_read" })")));
    CHECK(out.complete);  // the session lives on
    CHECK(out.shadow_divergences >= 1);
    REQUIRE_FALSE(events.empty());
    const auto fields = nlohmann::json::parse(events[0].fields);
    CHECK(fields["column"] == "r");
    CHECK(fields["streamed"].get<std::string>().find("(0x") != std::string::npos);
    CHECK(fields["batch"] != fields["streamed"]);
    CHECK(out.placed < out.decisions);  // entries paused after it: later entries were filtered
  }
}

TEST_CASE("the tolerance ladder: a plugin kind that declares a tolerance is compared within it, and the certificate names it by column") {
  Project p;
  const std::string plugin = "[[plugins]]\npath = \"" + kTestPlugins + "/test_broken_kinds.so\"\n";
  const RunConfig c =
      p.config(p.write("jitter.lua", strategy(kEmas + R"(, { name = "j1", kind = "test_jitter" }, { name = "j2", kind = "test_jitter" })")), plugin);
  const Certificate cert = certify(c, quick());
  CHECK(cert.passed);
  REQUIRE(cert.tolerances.size() == 2);
  CHECK(cert.tolerances[0].column == "j1");
  CHECK(cert.tolerances[0].kind == "test_jitter");
  CHECK(cert.tolerances[0].relative == 1e-9);
  CHECK(cert.tolerances[0].why.find("1 + 1e-12") != std::string::npos);
  const StageResult& eq1 = cert.cases.at(0).stages.at(0);
  CHECK(eq1.stage == "Eq. 1 features");
  CHECK(eq1.verdict == "identical within the declared tolerances");  // the values did differ, within it
  CHECK(eq1.note.find("j1 within 1e-09 relative (test_jitter)") != std::string::npos);
  const auto j = nlohmann::json::parse(certificate_json(cert));
  CHECK(j["tolerances"].size() == 2);
  CHECK(certificate_html(cert).find("Tolerances used") != std::string::npos);
  // Without the declaration the same difference is a divergence: the ladder is what let it pass.
  const RunConfig exact = p.config(
      p.write("exact.lua", strategy(kEmas + R"(, { name = "j1", kind = "test_jitter_undeclared" }, { name = "j2", kind = "test_jitter_undeclared" })")), plugin);
  const Certificate refused = certify(exact, quick());
  CHECK_FALSE(refused.passed);
  REQUIRE(refused.divergence);
  CHECK(refused.divergence->stage == "Eq. 1 features");
  CHECK(refused.tolerances.empty());
}
