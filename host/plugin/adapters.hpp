#pragma once
// The host's interfaces over a plugin's C kinds (inside host/plugin).
#include <memory>
#include <string>

#include "exec/filter.hpp"
#include "indicators/registry.hpp"
#include "onepath/plugin.h"

namespace onepath {

// A buffer that appends into a std::string, for save and service answers.
struct StringBuffer {
  std::string bytes;
  onepath_buffer c;
  StringBuffer();
};

std::unique_ptr<Indicator> make_plugin_indicator(const onepath_indicator_kind* kind, const IndicatorConfig& config,
                                                 const std::string& file);
std::unique_ptr<Filter> make_plugin_filter(const onepath_filter_kind* kind, const FilterArgs& args, const std::string& file);

}  // namespace onepath
