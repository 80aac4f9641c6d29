#include "infer/model.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"

namespace onepath {
namespace {

using json = nlohmann::json;

// Trees up to this depth are padded to perfect trees (2^depth leaves); deeper ones would
// cost too much memory padded and are walked node by node instead.
constexpr int kMaxPaddedDepth = 10;
constexpr std::uint32_t kMissingRight = 0x80000000u;

[[noreturn]] void bad(const std::string& origin, const std::string& why) { throw InputError(origin + ": " + why); }

const json& field(const json& j, const char* key, const std::string& origin, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) bad(origin, "not an XGBoost JSON model (no " + where + key + ")");
  return j[key];
}

// XGBoost writes parameters as text ("5E-1").
float text_float(const json& j, const std::string& origin, const char* what) {
  const std::string s = j.is_string() ? j.get<std::string>() : j.dump();
  char* end = nullptr;
  const float v = std::strtof(s.c_str(), &end);
  if (end == s.c_str() || *end) bad(origin, std::string(what) + " '" + s + "' is not a number");
  return v;
}

// An XGBoost tree as written: children, split feature and condition (the leaf value at
// leaves), missing direction.
struct RawTree {
  std::vector<int> left, right;
  std::vector<std::uint32_t> feature;
  std::vector<float> value;
  std::vector<bool> default_left;
  int depth(int node = 0) const { return left[static_cast<std::size_t>(node)] < 0 ? 0 : 1 + std::max(depth(left[static_cast<std::size_t>(node)]), depth(right[static_cast<std::size_t>(node)])); }
};

RawTree read_tree(const json& t, int features, const std::string& origin, std::size_t index) {
  const std::string at = "tree " + std::to_string(index);
  RawTree r;
  for (int v : field(t, "left_children", origin, at + ": ")) r.left.push_back(v);
  for (int v : field(t, "right_children", origin, at + ": ")) r.right.push_back(v);
  for (std::uint32_t v : field(t, "split_indices", origin, at + ": ")) r.feature.push_back(v);
  for (double v : field(t, "split_conditions", origin, at + ": ")) r.value.push_back(static_cast<float>(v));
  for (int v : field(t, "default_left", origin, at + ": ")) r.default_left.push_back(v != 0);
  const std::size_t n = r.left.size();
  if (n == 0 || r.right.size() != n || r.feature.size() != n || r.value.size() != n || r.default_left.size() != n)
    bad(origin, at + ": its node arrays differ in length");
  if (t.contains("split_type"))
    for (int v : t["split_type"])
      if (v != 0) bad(origin, at + " has categorical splits, which this scorer does not support");
  for (std::size_t i = 0; i < n; ++i) {
    const bool leaf = r.left[i] < 0;
    if (leaf != (r.right[i] < 0)) bad(origin, at + ": node " + std::to_string(i) + " has one child");
    if (!leaf && (r.left[i] >= static_cast<int>(n) || r.right[i] >= static_cast<int>(n) || r.left[i] <= static_cast<int>(i) ||
                  r.right[i] <= static_cast<int>(i)))
      bad(origin, at + ": node " + std::to_string(i) + " has children out of order");
    if (!leaf && r.feature[i] >= static_cast<std::uint32_t>(features))
      bad(origin, at + ": node " + std::to_string(i) + " splits on feature " + std::to_string(r.feature[i]) + " of " + std::to_string(features));
  }
  return r;
}

}  // namespace

TreeModel TreeModel::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read the model");
  std::ostringstream s;
  s << in.rdbuf();
  return parse(s.str(), path);
}

TreeModel TreeModel::parse(const std::string& text, const std::string& origin) {
  const json root = json::parse(text, nullptr, false);
  if (root.is_discarded()) bad(origin, "not JSON (an XGBoost model saved as .json is expected)");
  const json& learner = field(root, "learner", origin, "");
  const json& param = field(learner, "learner_model_param", origin, "learner.");
  const json& booster = field(learner, "gradient_booster", origin, "learner.");
  if (field(booster, "name", origin, "gradient_booster.") != "gbtree")
    bad(origin, "booster '" + booster["name"].get<std::string>() + "': only gbtree models are supported");
  TreeModel m;
  m.objective_ = field(field(learner, "objective", origin, "learner."), "name", origin, "objective.").get<std::string>();
  m.features_ = static_cast<int>(text_float(field(param, "num_feature", origin, "learner_model_param."), origin, "num_feature"));
  const int num_class = static_cast<int>(text_float(param.value("num_class", json("0")), origin, "num_class"));
  const float base_score = text_float(field(param, "base_score", origin, "learner_model_param."), origin, "base_score");
  if (m.objective_ == "binary:logistic" || m.objective_ == "reg:logistic") {
    m.transform_ = Transform::sigmoid;
    if (!(base_score > 0 && base_score < 1)) bad(origin, "base_score must be in (0, 1) for " + m.objective_);
    m.base_margin_ = -std::log(1.0f / base_score - 1.0f);  // XGBoost's ProbToMargin, in float
  } else if (m.objective_ == "binary:logitraw" || m.objective_ == "reg:squarederror") {
    m.base_margin_ = base_score;
  } else if (m.objective_ == "multi:softprob") {
    m.transform_ = Transform::softmax;
    m.groups_ = std::max(num_class, 1);
    m.base_margin_ = base_score;
  } else {
    bad(origin, "objective '" + m.objective_ + "': supported are binary:logistic, reg:logistic, binary:logitraw, reg:squarederror, multi:softprob");
  }
  const json& model = field(booster, "model", origin, "gradient_booster.");
  const json& trees = field(model, "trees", origin, "model.");
  const json& info = field(model, "tree_info", origin, "model.");
  if (!trees.is_array() || !info.is_array() || trees.size() != info.size()) bad(origin, "model.trees and model.tree_info differ in length");

  std::vector<RawTree> raw;
  int depth = 0;
  for (std::size_t i = 0; i < trees.size(); ++i) {
    raw.push_back(read_tree(trees[i], m.features_, origin, i));
    depth = std::max(depth, raw.back().depth());
  }
  m.padded_ = depth <= kMaxPaddedDepth;
  m.depth_ = depth;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const RawTree& r = raw[i];
    Tree t;
    t.group = info[i].get<int>();
    if (t.group < 0 || t.group >= m.groups_) bad(origin, "tree " + std::to_string(i) + " belongs to class " + std::to_string(t.group));
    if (m.padded_) {
      // Breadth-first into the perfect layout; a leaf above the last level is copied down.
      const std::size_t internal = (std::size_t{1} << depth) - 1;
      t.feature.assign(internal, 0);
      t.threshold.assign(internal, 0.0f);
      t.leaf.assign(std::size_t{1} << depth, 0.0f);
      std::vector<int> at(internal + t.leaf.size(), -1);  // padded slot -> raw node
      at[0] = 0;
      for (std::size_t slot = 0; slot < at.size(); ++slot) {
        const int node = at[slot];
        const auto n = static_cast<std::size_t>(node);
        if (slot >= internal) {
          t.leaf[slot - internal] = r.value[n];
          continue;
        }
        const bool leaf = r.left[n] < 0;
        if (!leaf) {
          t.feature[slot] = r.feature[n] | (r.default_left[n] ? 0u : kMissingRight);
          t.threshold[slot] = r.value[n];
        }
        at[2 * slot + 1] = leaf ? node : r.left[n];
        at[2 * slot + 2] = leaf ? node : r.right[n];
      }
    } else {
      t.left = r.left;
      t.right = r.right;
      t.threshold = r.value;
      for (std::size_t n = 0; n < r.feature.size(); ++n) t.feature.push_back(r.feature[n] | (r.default_left[n] ? 0u : kMissingRight));
    }
    m.trees_.push_back(std::move(t));
  }
  return m;
}

// Right when x >= threshold; a missing x (NaN) goes where the split's default says.
static inline std::uint32_t goes_right(float x, float threshold, std::uint32_t feature) {
  return static_cast<std::uint32_t>(x >= threshold) | ((feature >> 31) & static_cast<std::uint32_t>(x != x));
}

float TreeModel::leaf_of(const Tree& t, const float* row) const {
  if (padded_) {
    std::uint32_t i = 0;
    for (int d = 0; d < depth_; ++d) {
      const std::uint32_t f = t.feature[i];
      i = 2 * i + 1 + goes_right(row[f & ~kMissingRight], t.threshold[i], f);
    }
    return t.leaf[i - ((1u << depth_) - 1)];
  }
  int i = 0;
  while (t.left[static_cast<std::size_t>(i)] >= 0) {
    const auto n = static_cast<std::size_t>(i);
    i = goes_right(row[t.feature[n] & ~kMissingRight], t.threshold[n], t.feature[n]) ? t.right[n] : t.left[n];
  }
  return t.threshold[static_cast<std::size_t>(i)];
}

void TreeModel::predict(const float* row, float* out) const {
  for (int g = 0; g < groups_; ++g) out[g] = base_margin_;
  std::size_t k = 0;
  if (padded_) {
    // Eight trees at a time: eight independent walks keep the core busy; their leaves are
    // then added in tree order, as XGBoost adds them.
    constexpr std::size_t kLanes = 8;
    const std::uint32_t first_leaf = (1u << depth_) - 1;
    for (; k + kLanes <= trees_.size(); k += kLanes) {
      std::uint32_t at[kLanes] = {};
      for (int d = 0; d < depth_; ++d)
        for (std::size_t l = 0; l < kLanes; ++l) {
          const Tree& t = trees_[k + l];
          const std::uint32_t f = t.feature[at[l]];
          at[l] = 2 * at[l] + 1 + goes_right(row[f & ~kMissingRight], t.threshold[at[l]], f);
        }
      for (std::size_t l = 0; l < kLanes; ++l) out[trees_[k + l].group] += trees_[k + l].leaf[at[l] - first_leaf];
    }
  }
  for (; k < trees_.size(); ++k) out[trees_[k].group] += leaf_of(trees_[k], row);
  finish(out);
}

void TreeModel::predict_batch(const float* rows, std::size_t n, float* out) const {
  for (std::size_t r = 0; r < n; ++r)
    predict(rows + r * static_cast<std::size_t>(features_), out + r * static_cast<std::size_t>(groups_));
}

void TreeModel::finish(float* m) const {
  switch (transform_) {
    case Transform::none: return;
    case Transform::sigmoid: m[0] = 1.0f / (1.0f + std::exp(-m[0])); return;
    case Transform::softmax: {  // as XGBoost's common::Softmax: float max, double sum of floats
      float wmax = m[0];
      for (int g = 1; g < groups_; ++g) wmax = std::fmax(m[g], wmax);
      double wsum = 0.0;
      for (int g = 0; g < groups_; ++g) {
        m[g] = std::exp(m[g] - wmax);
        wsum += m[g];
      }
      for (int g = 0; g < groups_; ++g) m[g] /= static_cast<float>(wsum);
      return;
    }
  }
}

}  // namespace onepath
