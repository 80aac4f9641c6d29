#include "infer/model_feature.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/state_archive.hpp"
#include "core/time.hpp"
#include "data/candle_io.hpp"
#include "infer/model.hpp"

namespace onepath {
namespace {

constexpr std::uint32_t kStateFormat = 1;

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ",") + n;
  return s;
}

class ModelFeature final : public Indicator {
 public:
  ModelFeature(std::string path, LoadedModel loaded, std::vector<std::string> inputs)
      : path_(std::move(path)), model_(std::move(loaded.model)), sha_(std::move(loaded.sha256)), inputs_(std::move(inputs)) {
    if (model_->outputs() == 1) {
      names_ = {"value"};
    } else {
      for (int g = 0; g < model_->outputs(); ++g) names_.push_back("p" + std::to_string(g));
    }
    views_.assign(names_.begin(), names_.end());
    row_.assign(static_cast<std::size_t>(model_->features()), 0.0f);
    out_.assign(static_cast<std::size_t>(model_->outputs()), 0.0f);
  }
  ModelFeature(const ModelFeature& o)
      : path_(o.path_), model_(o.model_), sha_(o.sha_), inputs_(o.inputs_), names_(o.names_), views_(names_.begin(), names_.end()),
        row_(o.row_), out_(o.out_), ready_(o.ready_) {}

  std::string_view kind() const override { return "model"; }
  std::string params_text() const override { return "path=" + path_ + ";sha256=" + sha_ + ";inputs=" + joined(inputs_); }
  std::span<const std::string_view> outputs() const override { return views_; }
  int series_inputs() const override { return model_->features(); }
  void update(const Candle&) override { throw InputError("model: it scores other features (its inputs), not candles"); }
  void update_values(const double* x) override {
    for (std::size_t i = 0; i < row_.size(); ++i) row_[i] = static_cast<float>(x[i]);  // as XGBoost reads them
    model_->predict(row_.data(), out_.data());
    ready_ = true;
  }
  void emit(double* out) const override {
    for (std::size_t g = 0; g < out_.size(); ++g) out[g] = ready_ ? static_cast<double>(out_[g]) : std::numeric_limits<double>::quiet_NaN();
  }
  void update_many(const CandleSeries&, std::size_t, std::size_t, double* const*) override {
    throw InputError("model: it scores other features (its inputs), not candles");
  }
  int warmup() const override { return 0; }
  int settle_bars() const override { return 1; }
  bool ready() const override { return ready_; }
  void reset() override { ready_ = false; }
  std::string save() const override {
    StateWriter w;
    w.all(kStateFormat, std::string("model"), params_text(), ready_, out_);
    return w.bytes();
  }
  void load(std::string_view bytes) override {
    StateReader r(bytes);
    std::uint32_t format = 0;
    std::string kind, params;
    bool ready = false;
    std::vector<float> out;
    r.all(format, kind, params, ready, out);
    if (format != kStateFormat || kind != "model" || params != params_text() || out.size() != out_.size())
      throw InputError("model: the saved state is of another model or format");
    ready_ = ready;
    out_ = std::move(out);
  }
  std::size_t state_bytes() const override { return sizeof *this + (row_.size() + out_.size()) * sizeof(float); }
  std::unique_ptr<Indicator> clone() const override { return std::make_unique<ModelFeature>(*this); }

 private:
  std::string path_;
  std::shared_ptr<const TreeModel> model_;
  std::string sha_;
  std::vector<std::string> inputs_, names_;
  std::vector<std::string_view> views_;
  std::vector<float> row_, out_;
  bool ready_ = false;
};

}  // namespace

std::string model_manifest_path(const std::string& model_path) {
  std::string base = model_path;
  if (base.ends_with(".json")) base.resize(base.size() - 5);
  return base + ".manifest.json";
}

ModelManifest parse_model_manifest(const std::string& text, const std::string& origin) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("inputs") || !j["inputs"].is_array()) throw InputError(origin + ": not a model manifest (no inputs)");
  ModelManifest m;
  for (const auto& n : j["inputs"]) m.inputs.push_back(n.get<std::string>());
  m.inputs_config_sha256 = j.value("inputs_config_sha256", "");
  if (j.contains("inputs_config") && j["inputs_config"].is_object())
    for (const auto& [input, text] : j["inputs_config"].items())
      if (text.is_string()) m.inputs_config[input] = text.get<std::string>();
  m.feature_set_version = j.value("feature_set_version", "");
  if (j.contains("training_window") && j["training_window"].is_object()) {
    const auto& w = j["training_window"];
    if (w.value("start", "") != "") m.train_start = parse_timestamp(w.value("start", ""));
    if (w.value("end", "") != "") m.train_end = parse_timestamp(w.value("end", ""));
    if (w.contains("anchors") && w["anchors"].is_array())
      for (const auto& a : w["anchors"])
        if (a.is_object() && a.value("ts", "") != "")
          m.anchors.push_back({a.value("symbol", ""), parse_timestamp(a.value("ts", "")), a.value("close", 0.0)});
  }
  return m;
}

LoadedModel load_model_text(const std::string& text, const std::string& origin) {
  LoadedModel m{nullptr, sha256_hex(text)};
  // Models are shared by content, never changed. The most recently used 64 stay parsed for
  // the next run that loads them (a sweep's cells share a fold's model); older ones live
  // only as long as a session holds them, so a sweep of thousands of models stays small.
  static std::mutex mutex;
  static std::list<std::pair<std::string, std::shared_ptr<const TreeModel>>> recent;  // most recent first
  constexpr std::size_t kKept = 64;
  std::lock_guard lock(mutex);
  for (auto it = recent.begin(); it != recent.end(); ++it)
    if (it->first == m.sha256) {
      recent.splice(recent.begin(), recent, it);
      m.model = it->second;
      return m;
    }
  m.model = std::make_shared<const TreeModel>(TreeModel::parse(text, origin));
  recent.emplace_front(m.sha256, m.model);
  if (recent.size() > kKept) recent.pop_back();
  return m;
}

LoadedModel load_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read the model");
  return load_model_text(std::string(std::istreambuf_iterator<char>(in), {}), path);
}

namespace {
std::function<RegisteredModel(const std::string&)>& model_source() {
  static std::function<RegisteredModel(const std::string&)> source;
  return source;
}
}  // namespace

void set_model_source(std::function<RegisteredModel(const std::string&)> source) { model_source() = std::move(source); }

namespace {
std::string& model_folder() {
  static std::string folder;
  return folder;
}
}  // namespace

void set_model_folder(std::string folder) { model_folder() = std::move(folder); }

ModelRef resolve_model(const FeatureSpec& f) {
  auto text_param = [&](const char* key) -> std::string {
    auto it = f.indicator.params.find(key);
    if (it == f.indicator.params.end()) return "";
    const auto* s = std::get_if<std::string>(&it->second);
    if (!s) throw InputError(f.origin + ": model: '" + key + "' must be a string");
    return *s;
  };
  const std::string given = text_param("path"), name = text_param("model");
  const std::string path = given.empty() || given[0] == '/' || model_folder().empty()
                               ? given
                               : (std::filesystem::path(model_folder()) / given).lexically_normal().string();
  if (path.empty() == name.empty())
    throw InputError(f.origin + ": model: give 'path' (an XGBoost JSON model file) or 'model' (a name in the model registry), one of them");
  ModelRef r;
  if (!path.empty()) {
    r.label = path;
    try {
      r.loaded = load_model_file(path);
      r.model_json = read_file(path);
    } catch (const InputError& e) {
      throw InputError(f.origin + ": " + e.what());
    }
    if (std::ifstream in(model_manifest_path(path)); in) {
      r.manifest_json.assign(std::istreambuf_iterator<char>(in), {});
      r.manifest = parse_model_manifest(r.manifest_json, model_manifest_path(path));
    }
    return r;
  }
  if (!model_source()) throw InputError(f.origin + ": model '" + name + "': the model registry is in the journal, and this command has none");
  RegisteredModel m;
  try {
    m = model_source()(name);
  } catch (const InputError& e) {
    throw InputError(f.origin + ": " + e.what());
  }
  r.label = "registry " + m.label;
  r.loaded = load_model_text(m.model_json, r.label);
  r.model_json = m.model_json;
  if (!m.manifest_json.empty()) {
    r.manifest_json = m.manifest_json;
    r.manifest = parse_model_manifest(m.manifest_json, r.label + " manifest");
  }
  return r;
}

std::unique_ptr<Indicator> make_model_feature(const FeatureSpec& f) {
  auto fail = [&](const std::string& why) -> InputError { return InputError((f.origin.empty() ? "feature '" + f.name + "'" : f.origin) + ": " + why); };
  for (const auto& [k, v] : f.indicator.params)
    if (k != "path" && k != "model" && k != "shadow")
      throw fail("model: unknown parameter '" + k + "' (a model takes path or model, shadow, and inputs)");
  if (f.inputs.empty()) throw fail("model: 'inputs' (the feature columns it scores, in order) is required");
  ModelRef ref;
  try {
    ref = resolve_model(f);
  } catch (const InputError& e) {
    const std::string what = e.what();
    throw what.rfind(f.origin, 0) == 0 ? e : fail(what);
  }
  const TreeModel& m = *ref.loaded.model;
  if (static_cast<int>(f.inputs.size()) != m.features())
    throw fail("model " + ref.label + " takes " + std::to_string(m.features()) + " inputs; 'inputs' lists " + std::to_string(f.inputs.size()));
  if (!m.feature_names().empty() && m.feature_names() != f.inputs)
    throw fail("model " + ref.label + " was trained on inputs {" + joined(m.feature_names()) + "}; the feature set gives {" + joined(f.inputs) +
               "} (names and order must match)");
  return std::make_unique<ModelFeature>(ref.label, std::move(ref.loaded), f.inputs);
}

std::string in_sample(const ModelRef& model, const std::vector<CandleSeries>& market) {
  if (!model.manifest || !model.manifest->train_end) return "";
  const ModelManifest& m = *model.manifest;
  const std::string window = format_iso(m.train_start) + " .. " + format_iso(m.train_end);
  if (!m.anchors.empty()) {
    for (const auto& a : m.anchors)
      for (const CandleSeries& s : market) {
        if (s.symbol != a.symbol) continue;
        const auto it = std::lower_bound(s.ts.begin(), s.ts.end(), a.ts);
        if (it != s.ts.end() && *it == a.ts && s.close[static_cast<std::size_t>(it - s.ts.begin())] == a.close)
          return model.label + " was trained on this data (" + a.symbol + " at " + format_iso(a.ts) + " is a candle of its training window " + window + ")";
      }
    return "";
  }
  TimestampMs first = 0, last = 0;
  for (const CandleSeries& s : market)
    if (!s.empty()) first = first ? std::min(first, s.ts.front()) : s.ts.front(), last = std::max(last, s.ts.back());
  if (m.train_start > last || m.train_end < first) return "";
  return model.label + " was trained on " + window + ", which overlaps this data (" + format_iso(first) + " .. " + format_iso(last) + ")";
}


}  // namespace onepath
