#pragma once
// A model as a feature: `{ name = "p_up", kind = "model", path = "models/up.json",
// inputs = { "rsi", "atr", ... } }` in a feature set. To the enricher it is one more node:
// its inputs are other features' columns (in the model's input order, rounded to float32
// as XGBoost reads them), its outputs the model's scores, so streaming and batch compute
// it with the same code after its inputs.
#include <memory>
#include <string>

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

// The feature's node. InputError naming the feature when the model cannot be loaded, or
// when `inputs` does not match what the model was trained on (count, or names and order).
std::unique_ptr<Indicator> make_model_feature(const FeatureSpec& f);

}  // namespace onepath
