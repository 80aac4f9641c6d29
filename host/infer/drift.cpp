#include "infer/drift.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "infer/model_feature.hpp"

namespace onepath {

std::vector<InputDrift> input_drift(const std::string& manifest_json, const std::vector<std::vector<double>>& columns) {
  const auto m = nlohmann::json::parse(manifest_json, nullptr, false);
  if (!m.is_object() || !m.contains("inputs") || !m.contains("distributions"))
    throw InputError("the model's manifest has no training distributions (was it written by 'onepath train'?)");
  const auto& inputs = m["inputs"];
  if (inputs.size() != columns.size()) throw InputError("drift: " + std::to_string(columns.size()) + " columns for " + std::to_string(inputs.size()) + " inputs");
  std::vector<InputDrift> out;
  for (std::size_t k = 0; k < columns.size(); ++k) {
    InputDrift d;
    d.input = inputs[k].get<std::string>();
    const auto& dist = m["distributions"][d.input];
    std::vector<double> edges, sample, today;
    for (const auto& q : dist["quantiles"]) edges.push_back(q.is_number() ? q.get<double>() : NAN);
    for (const auto& s : dist["sample"]) sample.push_back(s.get<double>());
    for (double v : columns[k])
      if (std::isfinite(v)) today.push_back(v);
    std::sort(today.begin(), today.end());
    d.count = today.size();
    if (today.empty() || sample.empty() || edges.size() != 11) {
      d.psi = d.ks = NAN;
      d.verdict = "no data";
      out.push_back(d);
      continue;
    }
    // PSI over the training deciles: bin b holds (edge b, edge b+1], the outer bins open;
    // the training share of each bin from its sample (ties can make it other than 10 %).
    auto share = [](const std::vector<double>& v, double lo, double hi) {
      const auto n = std::upper_bound(v.begin(), v.end(), hi) - std::upper_bound(v.begin(), v.end(), lo);
      return std::max(static_cast<double>(n) / static_cast<double>(v.size()), 1e-4);
    };
    double psi = 0;
    for (int b = 0; b < 10; ++b) {
      const double lo = b == 0 ? -INFINITY : edges[static_cast<std::size_t>(b)], hi = b == 9 ? INFINITY : edges[static_cast<std::size_t>(b) + 1];
      if (b > 0 && b < 9 && !(hi > lo)) continue;  // an empty decile (a tie across it)
      const double a = share(today, lo, hi), e = share(sample, lo, hi);
      psi += (a - e) * std::log(a / e);
    }
    // KS: the largest CDF gap, checked at every point of either set.
    double ks = 0;
    auto cdf = [](const std::vector<double>& v, double x) {
      return static_cast<double>(std::upper_bound(v.begin(), v.end(), x) - v.begin()) / static_cast<double>(v.size());
    };
    for (double x : sample) ks = std::max(ks, std::fabs(cdf(sample, x) - cdf(today, x)));
    for (double x : today) ks = std::max(ks, std::fabs(cdf(sample, x) - cdf(today, x)));
    d.psi = psi;
    d.ks = ks;
    d.verdict = psi > 0.25 ? "drifted" : psi > 0.1 ? "moderate" : "stable";
    out.push_back(d);
  }
  return out;
}

DriftMonitor::DriftMonitor(const FeatureSet& set, const std::vector<std::string>& columns, std::size_t window) : window_(window) {
  for (const auto& f : set.features) {
    if (f.indicator.kind != "model") continue;
    ModelRef ref = resolve_model(f);
    if (ref.manifest_json.find("\"distributions\"") == std::string::npos) continue;
    Watched w;
    w.name = f.name;
    w.manifest_json = std::move(ref.manifest_json);
    for (const auto& input : f.inputs) {
      const auto it = std::find(columns.begin(), columns.end(), input);
      if (it == columns.end()) throw InputError("drift: '" + input + "' is not a column");
      w.inputs.push_back(static_cast<std::size_t>(it - columns.begin()));
    }
    w.last.resize(w.inputs.size());
    models_.push_back(std::move(w));
  }
}

void DriftMonitor::add(const double* row) {
  for (auto& w : models_)
    for (std::size_t k = 0; k < w.inputs.size(); ++k) {
      auto& q = w.last[k];
      q.push_back(row[w.inputs[k]]);
      if (q.size() > window_) q.pop_front();
    }
}

std::vector<DriftMonitor::Entry> DriftMonitor::report() const {
  std::vector<Entry> out;
  for (const auto& w : models_) {
    std::vector<std::vector<double>> columns;
    for (const auto& q : w.last) columns.emplace_back(q.begin(), q.end());
    for (auto& d : input_drift(w.manifest_json, columns)) out.push_back({w.name, std::move(d)});
  }
  return out;
}

}  // namespace onepath
