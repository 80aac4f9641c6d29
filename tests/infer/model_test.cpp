// The native tree scorer against libxgboost 1.7 (the reference and the trainer): models of
// several objectives and depths, trained here by libxgboost on generated data, must score
// 100 000 rows with missing values exactly as libxgboost's own in-place prediction does,
// bit for bit.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "infer/model.hpp"
#include "infer/xgboost.hpp"

using namespace onepath;

namespace {

const std::string kDir = [] {
  const auto d = std::filesystem::temp_directory_path() / ("onepath_infer_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}();

// Rows of `features` floats: mostly normal, some wide, ~5 % missing.
std::vector<float> make_rows(std::size_t n, int features, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit(0, 1);
  std::vector<float> x(n * static_cast<std::size_t>(features));
  for (auto& v : x) {
    const float u = unit(rng);
    v = u < 0.05f ? NAN : u < 0.07f ? normal(rng) * 1e6f : normal(rng);
  }
  return x;
}

struct Spec {
  const char* objective;
  int depth, rounds, classes = 0;
  const char* base_score = nullptr;
};

// Trains with libxgboost (one thread, a fixed seed) and saves the JSON model.
XgbBooster train(const Spec& s, int features, const std::string& path) {
  const std::size_t n = 4000;
  const std::vector<float> x = make_rows(n, features, 7);
  std::vector<float> y(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float a = x[i * features], b = x[i * features + 1], c = x[i * features + 2];
    const float s1 = (std::isnan(a) ? 0 : a) + 0.5f * (std::isnan(b) ? 0 : b);
    if (s.classes) y[i] = s1 < -0.5f ? 0.0f : (std::isnan(c) || c < 0) ? 1.0f : 2.0f;
    else if (std::string(s.objective) == "reg:squarederror") y[i] = s1 * 3 + (std::isnan(c) ? 1 : c);
    else y[i] = s1 > 0 ? 1.0f : 0.0f;
  }
  std::vector<std::pair<std::string, std::string>> params = {
      {"objective", s.objective}, {"max_depth", std::to_string(s.depth)}, {"nthread", "1"}, {"seed", "3"}, {"eta", "0.2"}, {"min_child_weight", "0"}};
  if (s.classes) params.emplace_back("num_class", std::to_string(s.classes));
  if (s.base_score) params.emplace_back("base_score", s.base_score);
  XgbBooster b;
  b.train(x.data(), y.data(), n, features, params, s.rounds);
  b.save(path);
  return b;
}

std::size_t differing(const std::vector<float>& a, const std::vector<float>& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
  return n;
}

}  // namespace

TEST_CASE("native scores equal libxgboost's bit for bit: objectives, depths, missing values, 100 000 rows") {
  const int features = 22;
  const std::size_t rows = 100000;
  const std::vector<float> x = make_rows(rows, features, 99);
  const std::vector<Spec> specs = {
      {"binary:logistic", 6, 200},           {"binary:logistic", 2, 40, 0, "0.3"}, {"reg:logistic", 4, 30},
      {"binary:logitraw", 5, 30},            {"reg:squarederror", 3, 60},          {"reg:squarederror", 8, 20, 0, "2.5"},
      {"multi:softprob", 4, 25, 3},          {"binary:logistic", 13, 12},  // deeper than the padded layout
  };
  for (std::size_t k = 0; k < specs.size(); ++k) {
    const Spec& s = specs[k];
    const std::string objective = s.objective;
    CAPTURE(objective);
    CAPTURE(s.depth);
    const std::string path = kDir + "/model" + std::to_string(k) + ".json";
    const std::vector<float> want = train(s, features, path).predict(x.data(), rows, features);
    const TreeModel m = TreeModel::load(path);
    CHECK(m.features() == features);
    CHECK(m.outputs() == (s.classes ? s.classes : 1));
    std::vector<float> got(rows * static_cast<std::size_t>(m.outputs()));
    m.predict_batch(x.data(), rows, got.data());
    REQUIRE(got.size() == want.size());
    CHECK(differing(got, want) == 0);
    // one row at a time, as a streaming session scores: the same bits
    std::vector<float> one(static_cast<std::size_t>(m.outputs()));
    std::size_t off = 0;
    for (std::size_t r = 0; r < rows; r += 997) {
      m.predict(x.data() + r * features, one.data());
      for (int g = 0; g < m.outputs(); ++g) off += std::memcmp(&one[static_cast<std::size_t>(g)], &want[r * static_cast<std::size_t>(m.outputs()) + static_cast<std::size_t>(g)], 4) != 0;
    }
    CHECK(off == 0);
  }
}

TEST_CASE("a model the scorer cannot score exactly is refused, naming the file and why") {
  auto error_of = [](const std::string& text) {
    try {
      TreeModel::parse(text, "m.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("not json").find("m.json: not JSON") == 0);
  CHECK(error_of(R"({"learner": {}})").find("no learner.learner_model_param") != std::string::npos);
  const std::string path = kDir + "/small.json";
  train({"binary:logistic", 2, 3}, 4, path);
  std::ifstream in(path);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  CHECK(error_of(replaced("\"binary:logistic\"", "\"rank:pairwise\"")).find("objective 'rank:pairwise'") != std::string::npos);
  CHECK(error_of(replaced("\"split_type\":[0", "\"split_type\":[1")).find("categorical splits") != std::string::npos);
  CHECK(error_of(replaced("\"name\":\"gbtree\"", "\"name\":\"dart\"")).find("only gbtree") != std::string::npos);
}
