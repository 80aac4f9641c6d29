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
  std::size_t trees() const { return group_.size(); }
  int depth() const { return depth_; }  // the deepest tree's
  // The input names the model was trained with (XGBoost's feature_names), when it has them.
  const std::vector<std::string>& feature_names() const { return feature_names_; }

  // One row of features() values -> outputs() scores.
  void predict(const float* row, float* out) const;
  // rows: n rows of features() values, row-major -> n * outputs() scores.
  void predict_batch(const float* rows, std::size_t n, float* out) const;

 private:
  // A split: go right when the input >= threshold. `input` indexes the row as prepared by
  // predict: 2 * feature, + 1 when a missing value goes right; a missing value becomes -inf
  // at 2f and +inf at 2f + 1, so that one comparison also decides the missing direction.
  struct Node {
    std::uint32_t input;
    float threshold;
  };
  enum class Transform { none, sigmoid, softmax };
  void prepare(const float* row, float* inputs) const;
  float walk_deep(std::size_t tree, const float* inputs) const;
  void finish(float* margins) const;

  // Padded (every tree at most 10 deep): each tree a perfect binary tree of depth_ levels,
  // node i's children at 2i+1 and 2i+2, a leaf above the last level copied down to it;
  // all trees' nodes in one array. Deeper models keep XGBoost's own node numbering.
  bool padded_ = true;
  int depth_ = 0;
  std::vector<Node> nodes_;     // padded: blocks of 8 trees, nodes interleaved; deep: every tree's nodes (leaves: value as threshold)
  std::vector<float> leaves_;   // padded: trees x 2^depth
  std::vector<int> left_, right_;               // deep: children, global indices (< 0: a leaf)
  std::vector<std::size_t> root_;               // deep: each tree's first node
  std::vector<int> group_;                      // per tree: the output it adds to
  std::string objective_;
  std::vector<std::string> feature_names_;
  Transform transform_ = Transform::none;
  int features_ = 0, groups_ = 1;
  float base_margin_ = 0;
};

}  // namespace onepath
