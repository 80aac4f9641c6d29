#pragma once
// Drift of a model's inputs: how far today's values have moved from the training
// distributions its manifest keeps (deciles and a sorted sample per input).
//   PSI: sum over the training deciles of (a - e) ln(a / e), e the training share of the
//        decile (about 0.1), a today's (shares floored at 1e-4); < 0.1 stable, 0.1-0.25
//        moderate, > 0.25 drifted.
//   KS:  the largest gap between the two empirical CDFs (training from its sample).
#include <deque>
#include <string>
#include <vector>

#include "enrich/feature_set.hpp"

namespace onepath {

struct InputDrift {
  std::string input;
  std::size_t count = 0;  // today's finite values
  double psi = 0, ks = 0;
  std::string verdict;  // stable | moderate | drifted
};

// `manifest_json`: a model manifest; `columns[k]`: today's values of input k, in the
// manifest's input order. InputError when the manifest has no distributions.
std::vector<InputDrift> input_drift(const std::string& manifest_json, const std::vector<std::vector<double>>& columns);

// A session's watch on its models: the last `window` rows of each model feature's inputs
// (every symbol's), against the model's manifest. Empty when no model feature has one.
class DriftMonitor {
 public:
  DriftMonitor(const FeatureSet& set, const std::vector<std::string>& columns, std::size_t window = 2000);
  bool empty() const { return models_.empty(); }
  void add(const double* row);  // a row of `columns`
  struct Entry {
    std::string model;
    InputDrift drift;
  };
  std::vector<Entry> report() const;

 private:
  struct Watched {
    std::string name, manifest_json;
    std::vector<std::size_t> inputs;       // their columns
    std::vector<std::deque<double>> last;  // per input, the last `window` values
  };
  std::vector<Watched> models_;
  std::size_t window_;
};

}  // namespace onepath
