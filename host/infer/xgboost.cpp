#include "infer/xgboost.hpp"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace onepath {
namespace {

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("libxgboost ") + what + ": " + XGBGetLastError());
}

}  // namespace

XgbBooster::XgbBooster() { check(XGBoosterCreate(nullptr, 0, &handle_), "create"); }
XgbBooster::~XgbBooster() {
  if (handle_) XGBoosterFree(handle_);
}
XgbBooster::XgbBooster(XgbBooster&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }

XgbBooster XgbBooster::load(const std::string& path) {
  XgbBooster b;
  check(XGBoosterLoadModel(b.handle_, path.c_str()), "load");
  return b;
}

XgbBooster XgbBooster::from_json(const std::string& text) {
  XgbBooster b;
  check(XGBoosterLoadModelFromBuffer(b.handle_, text.data(), static_cast<bst_ulong>(text.size())), "load");
  return b;
}

void XgbBooster::train(const float* x, const float* labels, std::size_t n, int features,
                       const std::vector<std::pair<std::string, std::string>>& params, int rounds, const std::vector<std::string>& names) {
  DMatrixHandle d = nullptr;
  check(XGDMatrixCreateFromMat(x, n, static_cast<bst_ulong>(features), NAN, &d), "matrix");
  struct Free {
    DMatrixHandle d;
    ~Free() { XGDMatrixFree(d); }
  } free_d{d};
  check(XGDMatrixSetFloatInfo(d, "label", labels, n), "labels");
  if (!names.empty()) {
    std::vector<const char*> c;
    for (const auto& s : names) c.push_back(s.c_str());
    check(XGDMatrixSetStrFeatureInfo(d, "feature_name", c.data(), c.size()), "feature names");
  }
  XGBoosterFree(handle_);
  handle_ = nullptr;
  check(XGBoosterCreate(&d, 1, &handle_), "create");
  for (const auto& [k, v] : params) check(XGBoosterSetParam(handle_, k.c_str(), v.c_str()), ("parameter " + k).c_str());
  for (int i = 0; i < rounds; ++i) check(XGBoosterUpdateOneIter(handle_, i, d), "train");
  if (!names.empty()) {  // the booster keeps them only when told (as XGBoost's Python package does)
    std::vector<const char*> c;
    for (const auto& s : names) c.push_back(s.c_str());
    check(XGBoosterSetStrFeatureInfo(handle_, "feature_name", c.data(), c.size()), "feature names");
  }
}

void XgbBooster::set_param(const std::string& name, const std::string& value) {
  check(XGBoosterSetParam(handle_, name.c_str(), value.c_str()), ("parameter " + name).c_str());
}

void XgbBooster::save(const std::string& path) const { check(XGBoosterSaveModel(handle_, path.c_str()), "save"); }

std::vector<float> XgbBooster::predict(const float* x, std::size_t n, int features) const {
  const std::string array = "{\"data\": [" + std::to_string(reinterpret_cast<std::uintptr_t>(x)) + ", true], \"shape\": [" + std::to_string(n) +
                            ", " + std::to_string(features) + "], \"typestr\": \"<f4\", \"version\": 3}";
  // cache_id is required by 1.7's in-place prediction, although it is not documented.
  const char* config = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "missing": NaN, "cache_id": 0})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  check(XGBoosterPredictFromDense(handle_, array.c_str(), config, nullptr, &shape, &dim, &out), "predict");
  std::size_t size = 1;
  for (bst_ulong i = 0; i < dim; ++i) size *= shape[i];
  return std::vector<float>(out, out + size);
}

std::string xgboost_version() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace onepath
