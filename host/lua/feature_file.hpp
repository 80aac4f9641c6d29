#pragma once
// Feature-set files: a Lua chunk returning an ordered list of feature tables.
#include <string>
#include <string_view>

#include "enrich/feature_set.hpp"

struct lua_State;

namespace onepath {

// Throws InputError with "file:line: message" for Lua errors, and "file: entry N
// ('name'): message" for entries that do not make a feature.
FeatureSet load_feature_file(const std::string& path);
FeatureSet parse_feature_source(std::string_view code, const std::string& name);
// The list at `index` of a Lua stack (any state), as a feature set; errors name `origin`.
FeatureSet feature_set_from_table(lua_State* L, int index, const std::string& origin);

}  // namespace onepath
