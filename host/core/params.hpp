#pragma once
// Named parameters as a config or a script gives them: numbers, text, booleans. Strategies,
// filters and plugins take them in this one form.
#include <map>
#include <string>
#include <variant>

namespace onepath {

using ScriptParams = std::map<std::string, std::variant<double, std::string, bool>>;

}  // namespace onepath
