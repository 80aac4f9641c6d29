#pragma once
// Building any indicator kind by name from loosely typed parameters (what a feature-set
// file or a command line gives), behind the type-erased Indicator.
#include <map>
#include <memory>
#include <span>
#include <string>
#include <variant>

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
  std::string_view kind;
  IndicatorConfig example;  // a typical configuration, used by benchmarks and docs
};
std::span<const IndicatorKind> indicator_kinds();

}  // namespace onepath
