// Training: labels as trades would end, metrics against their textbook definitions,
// walk-forward folds that never train on what they test, byte-identical models from the
// same inputs, and a model that refuses a feature set computing its inputs otherwise.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "data/synth.hpp"
#include "enrich/enricher.hpp"
#include "infer/drift.hpp"
#include "infer/train.hpp"
#include "lua/feature_file.hpp"

using namespace onepath;

namespace {

const std::string kDir = [] {
  const auto d = std::filesystem::temp_directory_path() / ("onepath_train_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}();

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string write(const std::string& name, const std::string& text) {
  const std::string p = kDir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

CandleSeries bars(std::vector<std::array<double, 4>> ohlc) {
  CandleSeries s;
  for (std::size_t i = 0; i < ohlc.size(); ++i)
    s.push_back({static_cast<TimestampMs>(i) * 900000, ohlc[i][0], ohlc[i][1], ohlc[i][2], ohlc[i][3], 1});
  return s;
}

TrainInput market(std::uint64_t seed, std::size_t n) {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1), preset_symbol("ETH", 0.7)};
  o.bars = n;
  o.seed = seed;
  o.start_ms = 1704067200000;
  TrainInput in;
  in.market = generate_market(o);
  return in;
}

const char* kFeatures = R"(return {
  { name = "rsi", kind = "rsi", period = 14 },
  { name = "ret4", kind = "returns", period = 4 },
  { name = "natr", kind = "natr", period = 14 },
})";

}  // namespace

TEST_CASE("labels: a forward return over the horizon, and the triple barrier by the kernel's own rules") {
  const CandleSeries s = bars({{100, 101, 99, 100}, {100, 101, 99, 100.5}, {100.5, 103, 100, 102.5}, {102.5, 103, 97, 98}, {98, 99, 97, 98}});
  TrainConfig c;
  c.horizon = 2;
  c.threshold = 0.01;
  auto y = make_labels(s, c, SameBarRule::stop_first);
  CHECK(y[0] == 1.0);  // 102.5 / 100 - 1 > 1 %
  CHECK(y[1] == 0.0);  // 98 / 100.5 - 1
  CHECK(std::isnan(y[3]));  // the window runs past the data
  c.label = "triple_barrier";
  c.stop_pct = 0.02;
  c.take_pct = 0.02;
  // bar 0: entry at bar 1's open 100; target 102 touched on bar 2 (high 103): 1
  // bar 1: entry 100.5 at bar 2's open; bar 2 high 103 >= 102.51: 1
  // bar 2: entry 102.5 at bar 3's open; bar 3 touches both 100.45 and 104.55? high 103 < 104.55: stop only: 0
  y = make_labels(s, c, SameBarRule::stop_first);
  CHECK(y[0] == 1.0);
  CHECK(y[1] == 1.0);
  CHECK(y[2] == 0.0);
  // a bar that touches both: the same-bar rule decides, as in the kernel
  const CandleSeries both = bars({{100, 100, 100, 100}, {100, 103, 97, 100}, {100, 100, 100, 100}});
  c.horizon = 1;
  CHECK(make_labels(both, c, SameBarRule::stop_first)[0] == 0.0);
  const CandleSeries near_take = bars({{100, 100, 100, 100}, {101.5, 103, 97, 100}, {100, 100, 100, 100}});
  CHECK(make_labels(near_take, c, SameBarRule::open_proximity)[0] == 0.0);  // entry 101.5: stop 99.47, take 103.53 not touched
  const CandleSeries gap = bars({{100, 100, 100, 100}, {100, 100.5, 95, 96}, {100, 100, 100, 100}});
  CHECK(make_labels(gap, c, SameBarRule::stop_first)[0] == 0.0);
}

TEST_CASE("fold metrics against their definitions: AUC as the share of positive-negative pairs ranked right") {
  std::vector<float> y = {1, 0, 1, 1, 0, 0, 1, 0, 1, 0}, p = {0.9f, 0.1f, 0.8f, 0.4f, 0.4f, 0.6f, 0.7f, 0.2f, 0.4f, 0.3f};
  const FoldMetrics m = score_fold(y, p);
  double pairs = 0, right = 0, loss = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    loss -= y[i] > 0.5 ? std::log(static_cast<double>(p[i])) : std::log(1 - static_cast<double>(p[i]));
    for (std::size_t j = 0; j < y.size(); ++j)
      if (y[i] > 0.5 && y[j] < 0.5) {
        pairs += 1;
        right += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
      }
  }
  CHECK(m.auc == doctest::Approx(right / pairs).epsilon(1e-12));
  CHECK(m.log_loss == doctest::Approx(loss / 10).epsilon(1e-12));
  CHECK(m.precision == doctest::Approx(3.0 / 4));  // said yes: 0.9, 0.8, 0.6, 0.7; right: 3
  CHECK(m.recall == doctest::Approx(3.0 / 5));
  CHECK(m.f1 == doctest::Approx(2 * 0.75 * 0.6 / 1.35));
  CHECK(std::isnan(score_fold({1, 1}, {0.2f, 0.7f}).auc));  // one class only
}

TEST_CASE("training twice gives the same bytes, folds train only before their gap, and a changed feature set refuses the model") {
  const std::string features = write("features.lua", kFeatures);
  TrainInput in = market(5, 6000);
  TrainConfig c;
  c.features = features;
  c.label = "triple_barrier";
  c.horizon = 8;
  c.folds = 3;
  c.booster.rounds = 30;
  c.booster.subsample = 0.8;
  c.out = kDir + "/a.json";
  const TrainResult a = train_model(c, in);
  c.out = kDir + "/b.json";
  const TrainResult b = train_model(c, in);
  CHECK(read(kDir + "/a.json") == read(kDir + "/b.json"));
  CHECK(a.model_sha256 == b.model_sha256);
  REQUIRE(a.folds.size() == 3);
  for (const auto& f : a.folds) {
    CHECK(f.auc > 0);
    CHECK(f.train_rows > 0);
    // trained on rows ending purge + embargo bars (2 x horizon, by default) before its test starts
    CHECK(f.train_end < f.test_start - 16 * 900000);
  }
  const auto manifest = nlohmann::json::parse(read(kDir + "/a.manifest.json"));
  CHECK(manifest["inputs"] == nlohmann::json({"rsi", "ret4", "natr"}));
  CHECK(manifest["folds"]["purge"] == 8);
  CHECK(manifest["label"]["kind"] == "triple_barrier");
  CHECK(manifest["distributions"]["rsi"]["quantiles"].size() == 11);
  CHECK(manifest["metrics"]["folds"].size() == 3);
  // a different seed is a different model
  c.seed = 2;
  c.out = kDir + "/c.json";
  train_model(c, in);
  CHECK(read(kDir + "/c.json") != read(kDir + "/a.json"));

  // the model in a feature set: the same inputs load, other ones are refused
  const auto set_with = [&](const std::string& rsi_period) {
    return parse_feature_source(std::string("return {\n  { name = \"rsi\", kind = \"rsi\", period = ") + rsi_period +
                                    " },\n  { name = \"ret4\", kind = \"returns\", period = 4 },\n  { name = \"natr\", kind = \"natr\", period = 14 },\n"
                                    "  { name = \"p\", kind = \"model\", path = \"" + kDir + "/a.json\", inputs = { \"rsi\", \"ret4\", \"natr\" } },\n}",
                                "strategy.lua");
  };
  CHECK_NOTHROW(Enricher(set_with("14"), Timeframe::parse("15m")));
  try {
    Enricher(set_with("21"), Timeframe::parse("15m"));
    FAIL("a set computing rsi otherwise was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("enrichment_config_mismatch") != std::string::npos);
  }
}

TEST_CASE("drift: PSI and KS from the manifest's training distributions, against their definitions") {
  // a manifest as `onepath train` writes it: deciles and a sorted sample of the input
  std::vector<double> train(1000);
  for (std::size_t i = 0; i < train.size(); ++i) train[i] = static_cast<double>(i) / 1000.0;  // uniform on [0, 1)
  nlohmann::json quantiles = nlohmann::json::array(), sample = nlohmann::json::array();
  for (int k = 0; k <= 10; ++k) quantiles.push_back(train[static_cast<std::size_t>(k / 10.0 * 999 + 0.5)]);
  for (std::size_t k = 0; k < 256; ++k) sample.push_back(train[static_cast<std::size_t>(static_cast<double>(k) / 255.0 * 999 + 0.5)]);
  const std::string manifest =
      nlohmann::json{{"inputs", {"x"}}, {"distributions", {{"x", {{"quantiles", quantiles}, {"sample", sample}}}}}}.dump();
  // the same distribution: stable
  const auto same = input_drift(manifest, {train});
  CHECK(same[0].psi < 0.01);
  CHECK(same[0].ks < 0.02);
  CHECK(same[0].verdict == "stable");
  // shifted by half its range: half the values leave the top decile's right edge
  std::vector<double> shifted = train;
  for (auto& v : shifted) v += 0.5;
  const auto moved = input_drift(manifest, {shifted});
  CHECK(moved[0].verdict == "drifted");
  CHECK(moved[0].ks == doctest::Approx(0.5).epsilon(0.02));  // the CDFs part by half at x = 0.5
  // PSI by its definition over the training deciles (training shares from the sample)
  auto share = [](const std::vector<double>& v, double lo, double hi) {
    double n = 0;
    for (double x : v) n += x > lo && x <= hi;
    return std::max(n / static_cast<double>(v.size()), 1e-4);
  };
  std::vector<double> s;
  for (const auto& x : sample) s.push_back(x.get<double>());
  double psi = 0;
  for (int b = 0; b < 10; ++b) {
    const double lo = b == 0 ? -INFINITY : quantiles[static_cast<std::size_t>(b)].get<double>();
    const double hi = b == 9 ? INFINITY : quantiles[static_cast<std::size_t>(b) + 1].get<double>();
    const double a = share(shifted, lo, hi), e = share(s, lo, hi);
    psi += (a - e) * std::log(a / e);
  }
  CHECK(moved[0].psi == doctest::Approx(psi).epsilon(1e-12));
}

TEST_CASE("drift of a feature set's models over its last rows: the same as input_drift on those rows") {
  const std::string features = write("drift_features.lua", kFeatures);
  TrainInput in = market(6, 3000);
  TrainConfig c;
  c.features = features;
  c.folds = 2;
  c.booster.rounds = 10;
  c.out = kDir + "/drift.json";
  train_model(c, in);
  const FeatureSet set = parse_feature_source(std::string("return {\n  { name = \"rsi\", kind = \"rsi\", period = 14 },\n  { name = \"ret4\", kind = \"returns\", period = 4 },\n"
                                                          "  { name = \"natr\", kind = \"natr\", period = 14 },\n  { name = \"p\", kind = \"model\", path = \"") +
                                                  c.out + "\", inputs = { \"rsi\", \"ret4\", \"natr\" } },\n}",
                                              "s.lua");
  DriftMonitor monitor(set, {"rsi", "ret4", "natr", "p"}, 100);
  REQUIRE_FALSE(monitor.empty());
  std::vector<std::vector<double>> last(3);
  for (int i = 0; i < 250; ++i) {
    const double row[4] = {i * 0.3, i * 0.001, 0.01 + i * 1e-5, 0.5};
    monitor.add(row);
    if (i >= 150) for (int k = 0; k < 3; ++k) last[static_cast<std::size_t>(k)].push_back(row[k]);
  }
  std::ifstream m(kDir + "/drift.manifest.json");
  const auto want = input_drift(std::string(std::istreambuf_iterator<char>(m), {}), last);
  const auto got = monitor.report();
  REQUIRE(got.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(got[k].model == "p");
    CHECK(got[k].drift.input == want[k].input);
    CHECK(got[k].drift.psi == want[k].psi);
    CHECK(got[k].drift.ks == want[k].ks);
    CHECK(got[k].drift.count == 100);
  }
}

TEST_CASE("walk-forward folds count purge and embargo in bars: a hole in the data before a test leaks no label into it") {
  // one symbol, 15m bars, a 10-candle hole just before where fold 1's test starts
  std::vector<TimestampMs> ts;
  for (std::int64_t i = 0; i < 200; ++i) ts.push_back(1609459200000 + (i < 100 ? i : i + 10) * 900000);
  std::vector<LabelledRow> rows;
  for (std::size_t i = 0; i < ts.size(); ++i) rows.push_back({ts[i], 0, i});
  TrainConfig c;
  c.horizon = 16;
  c.purge = 16;
  c.embargo = 0;
  c.folds = 1;
  const auto folds = walk_forward_folds(rows, {&ts}, c);
  REQUIRE(folds.size() == 1);
  REQUIRE(folds[0].test.front() == 100);
  // the last training label reads bars up to index + horizon: all before bar 100
  CHECK(folds[0].train.back() == 83);
  for (std::size_t i : folds[0].train) CHECK(rows[i].index + 16 < 100);
  // measured in time (16 x 15m before the test's start), rows up to 93 would have trained: 94..109 read the test
  CHECK(ts[93] < ts[100] - 16 * 900000);
  c.purge = 4;
  CHECK_THROWS_WITH_AS(walk_forward_folds(rows, {&ts}, c), doctest::Contains("purge = 4 is less than the label's horizon of 16"), InputError);
}
