#pragma once
// A gradient-boosted tree model from XGBoost's JSON format, scored natively. Inputs are
// float32 (as XGBoost sees them; NaN is missing and follows each split's default
// direction); the margin is base_score + the trees' leaves summed in tree order in
// float32, then the objective's transform (sigmoid, softmax or none), as libxgboost does.
#include <cstdint>
#include <string>
#include <vector>

namespace onepath {

class TreeModel {
 public:
  // InputError naming the file for anything this scorer does not support (categorical
  // splits, linear boosters, dart, other objectives) or a malformed model.
  static TreeModel load(const std::string& path);
  static TreeModel parse(const std::string& json_text, const std::string& origin);

  const std::string& objective() const { return objective_; }
  int features() const { return features_; }
  int outputs() const { return groups_; }  // 1, or the number of classes for multi:softprob
  std::size_t trees() const { return trees_.size(); }

  // One row of features() values -> outputs() scores.
  void predict(const float* row, float* out) const;
  // rows: n rows of features() values, row-major -> n * outputs() scores.
  void predict_batch(const float* rows, std::size_t n, float* out) const;

 private:
  // Padded (the model's depth <= 10): a perfect binary tree of depth_ levels, node i's
  // children at 2i+1 and 2i+2, a leaf above the last level copied down to it. Otherwise
  // the nodes as XGBoost wrote them (left < 0: a leaf, its value in threshold).
  struct Tree {
    int group = 0;
    std::vector<std::uint32_t> feature;  // per node: the feature's index; top bit: a missing value goes right
    std::vector<float> threshold;        // per node: go right when x >= threshold
    std::vector<float> leaf;             // padded: 2^depth_ leaf values
    std::vector<int> left, right;        // not padded: children
  };
  enum class Transform { none, sigmoid, softmax };
  float leaf_of(const Tree& t, const float* row) const;
  void finish(float* margins) const;

  std::string objective_;
  Transform transform_ = Transform::none;
  int features_ = 0, groups_ = 1;
  float base_margin_ = 0;
  bool padded_ = true;
  int depth_ = 0;
  std::vector<Tree> trees_;
};

}  // namespace onepath
