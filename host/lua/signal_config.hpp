#pragma once
// Signal configs (scripts/signals/*.lua): data naming a signal type, which is a strategy
// under scripts/strategies/<type>.lua, and its params (seed 004's dim_signals).
#include <string>

#include "lua/strategy.hpp"

namespace onepath {

struct SignalConfig {
  std::string type, strategy;  // strategy: the script's path
  ScriptParams params;
};

// Runs the file in the data-only sandbox. Throws InputError naming the file.
SignalConfig load_signal_config(const std::string& path, const std::string& scripts_root);

}  // namespace onepath
