#include "infer/model.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"

namespace onepath {
namespace {

using json = nlohmann::json;

// Trees up to this depth are padded to perfect trees (2^depth leaves); deeper ones would
// cost too much memory padded and are walked node by node instead.
constexpr int kMaxPaddedDepth = 10;
constexpr std::size_t kLanes = 8;  // trees walked together

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
  if (learner.contains("feature_names") && learner["feature_names"].is_array())
    for (const auto& n : learner["feature_names"])
      if (n.is_string()) m.feature_names_.push_back(n.get<std::string>());
  if (!m.feature_names_.empty() && m.feature_names_.size() != static_cast<std::size_t>(m.features_))
    bad(origin, "it names " + std::to_string(m.feature_names_.size()) + " features but has " + std::to_string(m.features_));
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
  auto input_of = [](const RawTree& r, std::size_t n) { return 2 * r.feature[n] + (r.default_left[n] ? 0u : 1u); };
  const std::size_t internal = (std::size_t{1} << depth) - 1;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const RawTree& r = raw[i];
    const int group = info[i].get<int>();
    if (group < 0 || group >= m.groups_) bad(origin, "tree " + std::to_string(i) + " belongs to class " + std::to_string(group));
    m.group_.push_back(group);
    if (m.padded_) {
      // Breadth-first into the perfect layout; a leaf above the last level is copied down
      // (the splits above its copies do not matter: every path ends at the same value).
      // Trees go in blocks of kLanes, their nodes interleaved: node j of lane l at j * kLanes + l.
      const std::size_t block = i / kLanes, lane = i % kLanes;
      if (lane == 0) {
        m.nodes_.resize((block + 1) * internal * kLanes, Node{0, 0.0f});
        m.leaves_.resize((block + 1) * (internal + 1) * kLanes, 0.0f);
      }
      Node* nodes = m.nodes_.data() + block * internal * kLanes;
      float* leaves = m.leaves_.data() + block * (internal + 1) * kLanes;
      std::vector<int> at(2 * internal + 1, -1);  // padded slot -> XGBoost node
      at[0] = 0;
      for (std::size_t slot = 0; slot < at.size(); ++slot) {
        const auto n = static_cast<std::size_t>(at[slot]);
        if (slot >= internal) {
          leaves[(slot - internal) * kLanes + lane] = r.value[n];
          continue;
        }
        const bool leaf = r.left[n] < 0;
        if (!leaf) nodes[slot * kLanes + lane] = Node{input_of(r, n), r.value[n]};
        at[2 * slot + 1] = leaf ? at[slot] : r.left[n];
        at[2 * slot + 2] = leaf ? at[slot] : r.right[n];
      }
    } else {
      const int base = static_cast<int>(m.nodes_.size());
      m.root_.push_back(m.nodes_.size());
      for (std::size_t n = 0; n < r.left.size(); ++n) {
        const bool leaf = r.left[n] < 0;
        m.nodes_.push_back(leaf ? Node{0, r.value[n]} : Node{input_of(r, n), r.value[n]});
        m.left_.push_back(leaf ? -1 : base + r.left[n]);
        m.right_.push_back(leaf ? -1 : base + r.right[n]);
      }
    }
  }
  return m;
}

// Each feature twice: as it is (a missing value, NaN, compares false: left), and with a
// missing value as +inf (compares true: right).
void TreeModel::prepare(const float* row, float* inputs) const {
  for (int j = 0; j < features_; ++j) {
    const float x = row[j];
    inputs[2 * j] = x;
    inputs[2 * j + 1] = x != x ? std::numeric_limits<float>::infinity() : x;
  }
}

float TreeModel::walk_deep(std::size_t tree, const float* in) const {
  auto i = static_cast<std::size_t>(root_[tree]);
  while (left_[i] >= 0) i = static_cast<std::size_t>(in[nodes_[i].input] >= nodes_[i].threshold ? right_[i] : left_[i]);
  return nodes_[i].threshold;
}

void TreeModel::predict(const float* row, float* out) const {
  constexpr int kStackFeatures = 256;
  float stack[2 * kStackFeatures];
  std::vector<float> heap;
  float* in = stack;
  if (features_ > kStackFeatures) {
    heap.resize(2 * static_cast<std::size_t>(features_));
    in = heap.data();
  }
  prepare(row, in);
  for (int g = 0; g < groups_; ++g) out[g] = base_margin_;
  const std::size_t trees = group_.size();
  if (!padded_) {
    for (std::size_t t = 0; t < trees; ++t) out[group_[t]] += walk_deep(t, in);
    finish(out);
    return;
  }
  // A block of kLanes trees at a time: independent walks keep the core busy (their nodes
  // are interleaved, one base address for all); the leaves are then added in tree order,
  // as XGBoost adds them. A last, partial block walks padding lanes it does not add.
  const std::size_t internal = (std::size_t{1} << depth_) - 1, leaves = internal + 1;
  for (std::size_t first = 0; first < trees; first += kLanes) {
    const Node* nodes = nodes_.data() + first * internal;
    const float* leaf = leaves_.data() + first * leaves;
    std::uint32_t at[kLanes] = {};
    for (int d = 0; d < depth_; ++d) {
#pragma GCC unroll 8
      for (std::size_t l = 0; l < kLanes; ++l) {
        const Node& n = nodes[at[l] * kLanes + l];
        at[l] = 2 * at[l] + 1 + static_cast<std::uint32_t>(in[n.input] >= n.threshold);
      }
    }
    const std::size_t lanes = std::min(kLanes, trees - first);
    for (std::size_t l = 0; l < lanes; ++l) out[group_[first + l]] += leaf[(at[l] - internal) * kLanes + l];
  }
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
