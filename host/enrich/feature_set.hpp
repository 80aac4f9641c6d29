#pragma once
// A feature set: an ordered list of features; its order is the column order.
#include <optional>
#include <string>
#include <vector>

#include "core/timeframe.hpp"
#include "indicators/registry.hpp"

namespace onepath {

struct FeatureSpec {
  std::string name;
  IndicatorConfig indicator;           // kind and parameters, `input` / `input2` only when they name candle sources
  std::string input, input2;           // names of earlier features' columns feeding this one, if any
  std::vector<std::string> inputs;     // kind "model": the columns it scores, in the model's input order
  std::optional<Timeframe> timeframe;  // a higher timeframe (aligned-close policy)
  std::string symbol;                  // another symbol's feature, joined as-of on close time (enrich/cross_symbol.hpp)
  std::size_t lag = 0;                 // with `symbol`: that many bars earlier still
  std::string origin;                  // where it was written, for errors: "file.lua: entry 3"
};

struct FeatureSet {
  std::vector<FeatureSpec> features;
  std::string origin;  // the file, for errors
};

// The engine's numeric version: part of every feature_set_version, so that a change of
// engine semantics changes the version of every set.
constexpr int kEnrichmentEngineVersion = 1;

// The canonical text of a set (layout-independent: the same features give the same text):
// its features' texts in order. A model's text names its file's SHA-256, as resolved now.
std::string canonical_text(const FeatureSet& set);
std::string canonical_text(const FeatureSpec& feature);
// Short SHA-256 (16 hex) of the canonical text and the engine version.
std::string feature_set_version(const FeatureSet& set);
std::string version_of_canonical_text(const std::string& text);

}  // namespace onepath
