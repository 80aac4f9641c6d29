#pragma once
// Drift of a model's inputs: how far today's values have moved from the training
// distributions its manifest keeps (deciles and a sorted sample per input).
//   PSI: sum over the training deciles of (a - e) ln(a / e), e the training share of the
//        decile (about 0.1), a today's (shares floored at 1e-4); < 0.1 stable, 0.1-0.25
//        moderate, > 0.25 drifted.
//   KS:  the largest gap between the two empirical CDFs (training from its sample).
#include <string>
#include <vector>

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

}  // namespace onepath
