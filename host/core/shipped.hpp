#pragma once
// Where the files onepath ships with live (scripts/, sdk/lua/, examples/): $ONEPATH_HOME,
// the source tree this binary was built from, or <prefix>/share/onepath when installed.
#include <filesystem>

namespace onepath {

// The first of those holding scripts/strategies; InputError naming where it looked.
std::filesystem::path shipped_dir();
// `relative` (scripts/strategies/x.lua) among those files, or empty: no such shipped file.
std::filesystem::path shipped_file(const std::filesystem::path& relative);

}  // namespace onepath
