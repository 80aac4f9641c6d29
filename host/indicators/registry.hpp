#pragma once
// Building any indicator kind by name from loosely typed parameters (what a feature-set
// file or a command line gives), behind the type-erased Indicator. The built-in kinds are
// registered first; native plugins add theirs (add_indicator_kind) before any is built.
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "indicators/indicator.hpp"

namespace onepath {

struct IndicatorConfig {
  std::string kind;
  std::map<std::string, std::variant<double, std::string>> params;
};

// Throws InputError naming the kind and the parameter for an unknown kind, an unknown or
// missing parameter, or a bad value.
std::unique_ptr<Indicator> make_indicator(const IndicatorConfig& config);

struct IndicatorKind {
  std::string kind;
  IndicatorConfig example;          // a typical configuration, used by benchmarks and docs
  std::string origin = "built-in";  // or the plugin file that added it
  std::string summary = "";         // a plugin kind's description
};
// Every kind: the built-in ones, then those plugins added, in the order they came.
std::vector<IndicatorKind> indicator_kinds();

// What `onepath indicators` shows of a kind: its parameters (a default, or required), its
// outputs and the warm-up of its example configuration (the defaults where there are any).
struct IndicatorParam {
  std::string name;
  std::string fallback;  // the default as text; "" when the parameter is required
  std::string example;   // the value the example configuration gives, if any
};
struct IndicatorDescription {
  IndicatorKind kind;
  std::string summary;                 // one line: what it computes
  bool reads_candles = false;          // whole candles (high, low, volume...), not one series
  std::vector<IndicatorParam> params;  // empty for a plugin's kind (its parameters are its own)
  std::vector<std::string> outputs;
  int warmup = 0;  // candles before the first value, with the example config
};
// InputError (with the known kinds) for an unknown kind.
IndicatorDescription describe_indicator_kind(const std::string& kind);

using IndicatorFactory = std::function<std::unique_ptr<Indicator>(const IndicatorConfig&)>;
// Adds a kind. InputError when the name is taken (by a built-in kind or another plugin).
// Not thread-safe against make_indicator: plugins load before any indicator is built.
void add_indicator_kind(IndicatorKind info, IndicatorFactory make);
// Hot reload of a plugin: the kind's name now builds with `make`; returns the factory it had.
IndicatorFactory replace_indicator_kind(const std::string& kind, IndicatorFactory make);

}  // namespace onepath
