#pragma once
// libxgboost (Debian's 1.7), for what the native scorer does not do: training, and the
// reference predictions the scorer is measured and tested against. Kept behind this header
// so that only xgboost.cpp sees the C API.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace onepath {

class XgbBooster {
 public:
  XgbBooster();  // std::runtime_error with libxgboost's message
  ~XgbBooster();
  XgbBooster(const XgbBooster&) = delete;
  XgbBooster& operator=(const XgbBooster&) = delete;
  XgbBooster(XgbBooster&& other) noexcept;

  static XgbBooster load(const std::string& path);
  static XgbBooster from_json(const std::string& text);  // XGBoost's JSON model, in memory
  // Rounds of boosting on n rows of `features` floats (NaN missing) and their labels.
  // `names`, when given, are kept in the model (XGBoost's feature_names).
  void train(const float* x, const float* labels, std::size_t n, int features, const std::vector<std::pair<std::string, std::string>>& params,
             int rounds, const std::vector<std::string>& names = {});
  void save(const std::string& path) const;  // .json: XGBoost's JSON model
  void set_param(const std::string& name, const std::string& value);
  // In-place prediction of a dense row-major matrix, NaN missing (XGBoosterPredictFromDense).
  std::vector<float> predict(const float* x, std::size_t n, int features) const;

 private:
  void* handle_ = nullptr;
};

std::string xgboost_version();  // "1.7.4"

}  // namespace onepath
