#pragma once
// A model as a feature: `{ name = "p_up", kind = "model", path = "models/up.json",
// inputs = { "rsi", "atr", ... } }` in a feature set. To the enricher it is one more node:
// its inputs are other features' columns (in the model's input order, rounded to float32
// as XGBoost reads them), its outputs the model's scores, so streaming and batch compute
// it with the same code after its inputs.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "enrich/feature_set.hpp"
#include "indicators/indicator.hpp"

namespace onepath {

class TreeModel;

// A model file, loaded once per content: its model and SHA-256. InputError naming the file.
struct LoadedModel {
  std::shared_ptr<const TreeModel> model;
  std::string sha256;
};
LoadedModel load_model_file(const std::string& path);
LoadedModel load_model_text(const std::string& json_text, const std::string& origin);

// A model's manifest (written by `onepath train` beside it: models/x.json ->
// models/x.manifest.json): what a feature set must give it.
struct ModelManifest {
  std::vector<std::string> inputs;
  std::string inputs_config_sha256;  // the SHA-256 of the canonical text of the features the inputs come from
  std::map<std::string, std::string> inputs_config;  // per input, that canonical text (newer manifests)
  std::string feature_set_version;
  TimestampMs train_start = 0, train_end = 0;  // the training window's first and last rows (0: not given)
  struct Anchor {
    std::string symbol;
    TimestampMs ts = 0;
    double close = 0;
  };
  std::vector<Anchor> anchors;  // candles of the training data (newer manifests)
};
std::string model_manifest_path(const std::string& model_path);
ModelManifest parse_model_manifest(const std::string& json_text, const std::string& origin);

// A model named by registry name (`model = "up"` or "up@3") comes from here: the commands
// that have a journal set it (store/model_registry.hpp). Unset, such a feature is an error.
struct RegisteredModel {
  std::string label, model_json, manifest_json;  // label: "up@3", for messages and versions
};
void set_model_source(std::function<RegisteredModel(const std::string& reference)> source);

// A relative model `path` is the run's: beside its RUN.toml (the config loader sets the
// folder), never the current folder. Unset (a command without a RUN.toml), as given.
void set_model_folder(std::string folder);

// A feature's model, from its `path` or its registry `model`, with its manifest when it has one.
struct ModelRef {
  std::string label;  // the path, or "registry up@3"
  LoadedModel loaded;
  std::string model_json;  // its text (libxgboost reads it: certify's Eq. 2)
  std::optional<ModelManifest> manifest;
  std::string manifest_json;  // its text, when it has one (drift reads the distributions)
};
ModelRef resolve_model(const FeatureSpec& f);

// "" when the model never saw this data, else why its scores on it are in sample: the data
// has the manifest's anchor candles, or (an older manifest) it overlaps the training window.
std::string in_sample(const ModelRef& model, const std::vector<CandleSeries>& market);

// The feature's node. InputError naming the feature when the model cannot be loaded, or
// when `inputs` does not match what the model was trained on (count, or names and order).
std::unique_ptr<Indicator> make_model_feature(const FeatureSpec& f);

}  // namespace onepath
