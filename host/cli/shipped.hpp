#pragma once
// Where the files onepath ships with live (scripts/, sdk/lua/, examples/): $ONEPATH_HOME,
// the source tree this binary was built from, or <prefix>/share/onepath when installed.
#include <filesystem>

namespace onepath::cli {

// The first of those holding scripts/strategies; InputError naming where it looked.
std::filesystem::path shipped_dir();

}  // namespace onepath::cli
