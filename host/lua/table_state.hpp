#pragma once
// Plain Lua values (numbers, strings, booleans, tables of them) as state bytes: a Lua
// filter's object, a strategy's ctx.state. Functions and userdata are not state: skipped.
#include "core/state_archive.hpp"

struct lua_State;

namespace onepath {

void save_lua_value(lua_State* L, int index, StateWriter& w);
// Pushes the value read; throws InputError when the bytes are not such a value.
void load_lua_value(lua_State* L, StateReader& r);

}  // namespace onepath
