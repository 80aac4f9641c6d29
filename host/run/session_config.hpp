#pragma once
// What a Session runs, whoever drives it: the strategy, its filters, execution and risk.
// The data (files, a generator, a live feed) and the outputs belong to the driver.
#include <string>
#include <vector>

#include "exec/kernel.hpp"
#include "exec/risk.hpp"
#include "lua/runtime.hpp"
#include "lua/strategy.hpp"

namespace onepath {

struct FilterSpec {
  std::string kind, script;  // a native kind (built-in or a plugin's), or a Lua script
  int value = 0;             // a built-in kind's bars or limit
  ScriptParams params;
};

struct PluginSpec {
  std::string path;  // the shared object
  ScriptParams params;
};

struct SessionConfig {
  std::vector<PluginSpec> plugins;  // loaded with the config; their services run with the session
  std::vector<std::string> symbols;
  std::string strategy, signal;  // the script, and the signal config that named it (if any)
  ScriptParams params;
  std::string scripts_root = "scripts";
  ScriptLimits limits;
  std::vector<FilterSpec> filters;  // in chain order
  ExecConfig execution;
  RiskLimits risk;
};

}  // namespace onepath
