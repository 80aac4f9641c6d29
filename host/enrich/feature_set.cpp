#include "enrich/feature_set.hpp"

#include "core/number_format.hpp"
#include "core/sha256.hpp"
#include "infer/model_feature.hpp"

namespace onepath {

std::string canonical_text(const FeatureSet& set) {
  std::string out;
  for (const auto& f : set.features) out += canonical_text(f);
  return out;
}

std::string canonical_text(const FeatureSpec& f) {
  std::string out;
  {
    out += "name=" + f.name + ";kind=" + f.indicator.kind;
    for (const auto& [key, value] : f.indicator.params) {  // std::map: sorted keys
      out += ";" + key + "=";
      if (const double* d = std::get_if<double>(&value))
        out += format_double(*d);
      else
        out += "'" + std::get<std::string>(value) + "'";
    }
    if (!f.input.empty()) out += ";input_feature=" + f.input;
    if (!f.input2.empty()) out += ";input2_feature=" + f.input2;
    if (!f.inputs.empty()) {  // a model: its inputs, and what it is (its file's content), not only where
      out += ";inputs=";
      for (std::size_t i = 0; i < f.inputs.size(); ++i) out += (i ? "," : "") + f.inputs[i];
      out += ";model_sha256=" + resolve_model(f).loaded.sha256;
    }
    if (f.timeframe) out += ";timeframe=" + std::string(f.timeframe->name());
    if (!f.symbol.empty()) out += ";symbol=" + f.symbol + ";lag=" + std::to_string(f.lag);
    out += "\n";
  }
  return out;
}

std::string feature_set_version(const FeatureSet& set) { return version_of_canonical_text(canonical_text(set)); }

std::string version_of_canonical_text(const std::string& text) {
  return sha256_hex("onepath-enrichment-" + std::to_string(kEnrichmentEngineVersion) + "\n" + text).substr(0, 16);
}

}  // namespace onepath
