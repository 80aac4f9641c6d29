// Models as features (Eq. 2): a model column is computed after its inputs by the same code
// in streaming and in batch, so both give the same bits, and they equal libxgboost's own
// predictions on the same (float32) inputs; a model whose inputs do not match is refused.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "error_of.hpp"
#include "core/error.hpp"
#include "data/synth.hpp"
#include "enrich/enricher.hpp"
#include "infer/model.hpp"
#include "infer/xgboost.hpp"
#include "lua/feature_file.hpp"

using namespace onepath;

namespace {

const std::string kDir = [] {
  const auto d = std::filesystem::temp_directory_path() / ("onepath_model_feature_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}();

CandleSeries candles(std::uint64_t seed, std::size_t bars) {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1)};
  o.bars = bars;
  o.seed = seed;
  o.scenario = Scenario::stress;
  o.start_ms = 1709251200000;
  return generate_market(o)[0];  // with gaps and zero-volume candles
}

const char* kInputs = R"(
  { name = "rsi", kind = "rsi", period = 14 },
  { name = "natr", kind = "natr", period = 14 },
  { name = "ret", kind = "returns", period = 4 },
  { name = "z", kind = "zscore", period = 30 },
)";

// Trains a model on the inputs' batch columns (label: the next 4 bars' return > 0), saved at `path`.
void train_on(const CandleSeries& s, const std::string& path, const std::vector<std::string>& names, const char* objective, int classes = 0) {
  Enricher e(parse_feature_source(std::string("return {") + kInputs + "}", "inputs.lua"), Timeframe::parse("15m"));
  const FeatureColumns cols = e.enrich_batch(s);
  std::vector<float> x, y;
  for (std::size_t i = 0; i + 4 < s.size(); ++i) {
    for (const auto& c : cols) x.push_back(static_cast<float>(c[i]));
    const double fwd = s.close[i + 4] / s.close[i] - 1;
    y.push_back(classes ? (fwd < -0.002 ? 0.0f : fwd < 0.002 ? 1.0f : 2.0f) : fwd > 0 ? 1.0f : 0.0f);
  }
  std::vector<std::pair<std::string, std::string>> params = {{"objective", objective}, {"max_depth", "4"}, {"nthread", "1"}, {"seed", "1"}};
  if (classes) params.emplace_back("num_class", std::to_string(classes));
  XgbBooster b;
  b.train(x.data(), y.data(), y.size(), static_cast<int>(cols.size()), params, 40, names);
  b.save(path);
}

FeatureSet with_model(const std::string& path, const std::string& inputs) {
  return parse_feature_source(std::string("return {") + kInputs + "{ name = \"p\", kind = \"model\", path = \"" + path + "\", inputs = {" + inputs + "} },\n}",
                              "set.lua");
}

}  // namespace

TEST_CASE("a model column: streaming equals batch bit for bit, and equals libxgboost on the same inputs") {
  const CandleSeries train = candles(3, 4000), test = candles(8, 3000);
  for (const auto& [objective, classes] : std::vector<std::pair<const char*, int>>{{"binary:logistic", 0}, {"multi:softprob", 3}}) {
    CAPTURE(std::string(objective));
    const std::string path = kDir + "/" + std::string(objective).substr(0, 5) + ".json";
    train_on(train, path, {"rsi", "natr", "ret", "z"}, objective, classes);
    Enricher batch(with_model(path, R"("rsi", "natr", "ret", "z")"), Timeframe::parse("15m"));
    const FeatureColumns cols = batch.enrich_batch(test);
    const std::size_t first_model_column = 4, outputs = classes ? 3 : 1;
    REQUIRE(cols.size() == first_model_column + outputs);
    CHECK(batch.columns()[first_model_column] == (classes ? "p_p0" : "p"));

    // streaming, candle by candle: the same bits in every column
    Enricher streaming(with_model(path, R"("rsi", "natr", "ret", "z")"), Timeframe::parse("15m"));
    CHECK(streaming.version() == batch.version());
    std::vector<double> row(cols.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < test.size(); ++i) {
      streaming.update(test[i]);
      streaming.emit(row.data());
      for (std::size_t c = 0; c < cols.size(); ++c) differ += std::memcmp(&row[c], &cols[c][i], sizeof(double)) != 0;
    }
    CHECK(differ == 0);

    // libxgboost on the inputs as float32
    std::vector<float> x;
    for (std::size_t i = 0; i < test.size(); ++i)
      for (std::size_t c = 0; c < first_model_column; ++c) x.push_back(static_cast<float>(cols[c][i]));
    const std::vector<float> want = XgbBooster::load(path).predict(x.data(), test.size(), static_cast<int>(first_model_column));
    std::size_t off = 0;
    for (std::size_t i = 0; i < test.size(); ++i)
      for (std::size_t g = 0; g < outputs; ++g) {
        const float got = static_cast<float>(cols[first_model_column + g][i]);
        off += std::memcmp(&got, &want[i * outputs + g], sizeof(float)) != 0;
      }
    CHECK(off == 0);
  }
}

TEST_CASE("a model whose inputs do not match is refused, naming the mismatch, and its content is part of the version") {
  const CandleSeries train = candles(3, 2000);
  const std::string named = kDir + "/named.json", unnamed = kDir + "/unnamed.json";
  train_on(train, named, {"rsi", "natr", "ret", "z"}, "binary:logistic");
  train_on(train, unnamed, {}, "binary:logistic");
  const Timeframe tf = Timeframe::parse("15m");
  CHECK(error_of([&] { Enricher(with_model(named, R"("rsi", "ret", "natr", "z")"), tf); })
            .find("was trained on inputs {rsi,natr,ret,z}; the feature set gives {rsi,ret,natr,z}") != std::string::npos);
  CHECK(error_of([&] { Enricher(with_model(unnamed, R"("rsi", "natr")"), tf); }).find("takes 4 inputs; 'inputs' lists 2") != std::string::npos);
  CHECK(error_of([&] { Enricher(with_model(unnamed, R"("rsi", "natr", "ret", "nosuch")"), tf); }).find("input 'nosuch' is not a feature column") !=
        std::string::npos);
  CHECK(error_of([&] { Enricher(with_model(kDir + "/missing.json", R"("rsi")"), tf); }).find("missing.json: cannot read the model") != std::string::npos);
  // a retrained model (other content, same path) is another feature set version
  const std::string path = kDir + "/retrained.json";
  train_on(train, path, {}, "binary:logistic");
  const std::string v1 = Enricher(with_model(path, R"("rsi", "natr", "ret", "z")"), tf).version();
  train_on(candles(4, 2000), path, {}, "binary:logistic");
  CHECK(Enricher(with_model(path, R"("rsi", "natr", "ret", "z")"), tf).version() != v1);
}
