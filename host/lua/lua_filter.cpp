#include "lua/lua_filter.hpp"

#include <lua.hpp>

#include <filesystem>

#include "core/error.hpp"
#include "core/state_archive.hpp"
#include "lua/intent_table.hpp"
#include "lua/table_state.hpp"

namespace onepath {

LuaFilter::LuaFilter(const std::string& path, const std::string& scripts_root, const ScriptParams& params, ScriptLimits limits,
                     std::vector<std::string> symbols)
    : rt_(scripts_root, limits), path_(path), name_(std::filesystem::path(path).stem().string()), symbols_(std::move(symbols)) {
  lua_State* L = rt_.state();
  rt_.run_file(path);  // module
  if (lua_type(L, -1) != LUA_TTABLE) throw InputError(path + ": a filter returns a table with new(params)");
  lua_getfield(L, -1, "new");
  if (lua_type(L, -1) != LUA_TFUNCTION) throw InputError(path + ": a filter needs new(params) returning an object with apply");
  lua_newtable(L);  // params
  for (const auto& [key, value] : params) {
    push_script_value(L, value);
    lua_setfield(L, -2, key.c_str());
  }
  rt_.call(1, 1, path.c_str(), "new");  // module, object
  if (lua_type(L, -1) != LUA_TTABLE) throw InputError(path + ": new(params) must return an object (a table)");
  lua_getfield(L, -1, "apply");
  if (lua_type(L, -1) != LUA_TFUNCTION) throw InputError(path + ": the object needs apply(self, intent, ctx)");
  lua_pop(L, 1);
  self_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
}

std::string LuaFilter::apply(Intent& intent, const FilterContext& ctx) {
  lua_State* L = rt_.state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, self_ref_);  // self
  lua_getfield(L, -1, "apply");                  // self, apply
  lua_insert(L, -2);                             // apply, self
  push_intent(L, intent);
  lua_createtable(L, 0, 5);
  lua_pushstring(L, symbols_[ctx.symbol].c_str());
  lua_setfield(L, -2, "symbol");
  for (auto [key, value] : {std::pair{"bar", static_cast<double>(ctx.bar)}, std::pair{"time", static_cast<double>(ctx.ts)},
                            std::pair{"open_positions", static_cast<double>(ctx.open_positions)}}) {
    lua_pushnumber(L, value);
    lua_setfield(L, -2, key);
  }
  lua_pushboolean(L, ctx.has_position);
  lua_setfield(L, -2, "has_position");
  rt_.call(3, 2, path_.c_str(), "apply");  // result, reason
  std::string reason;
  if (lua_isnil(L, -2)) {
    reason = name_ + ": " + (lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "dropped");
  } else if (lua_type(L, -2) == LUA_TTABLE) {
    try {
      intent = intent_from_table(L, -2, intent.action, "apply's intent", true);
    } catch (const InputError& e) {
      lua_pop(L, 2);
      throw ScriptError(path_ + ": " + e.what());
    }
  } else {
    lua_pop(L, 2);
    throw ScriptError(path_ + ": apply must return the intent (a table) or nil");
  }
  lua_pop(L, 2);
  return reason;
}

void LuaFilter::notify(const char* method, int symbol, std::int64_t bar) {
  lua_State* L = rt_.state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, self_ref_);
  lua_getfield(L, -1, method);
  if (lua_type(L, -1) != LUA_TFUNCTION) {
    lua_pop(L, 2);
    return;
  }
  lua_insert(L, -2);  // fn, self
  lua_pushstring(L, symbols_[symbol].c_str());
  lua_pushnumber(L, static_cast<double>(bar));
  rt_.call(3, 0, path_.c_str(), method);
}

std::string LuaFilter::save() const {
  lua_State* L = rt_.state();
  StateWriter w;
  lua_rawgeti(L, LUA_REGISTRYINDEX, self_ref_);
  save_lua_value(L, -1, w);
  lua_pop(L, 1);
  return w.bytes();
}

void LuaFilter::load(std::string_view bytes) {
  lua_State* L = rt_.state();
  StateReader r(bytes);
  int top = lua_gettop(L);
  try {
    load_lua_value(L, r);  // the saved fields
    if (!r.at_end() || lua_type(L, -1) != LUA_TTABLE) throw InputError("filter state is corrupt");
  } catch (...) {
    lua_settop(L, top);
    throw;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, self_ref_);  // saved, self
  // Clear the object's plain fields, then copy the saved ones in; methods stay.
  std::vector<std::string> plain;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_type(L, -1) != LUA_TFUNCTION && lua_type(L, -2) == LUA_TSTRING) plain.push_back(lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  for (const auto& k : plain) {
    lua_pushnil(L);
    lua_setfield(L, -2, k.c_str());
  }
  lua_pushnil(L);
  while (lua_next(L, -3) != 0) {  // saved, self, key, value
    lua_pushvalue(L, -2);
    lua_insert(L, -2);     // saved, self, key, key, value
    lua_settable(L, -4);   // self[key] = value
  }
  lua_settop(L, top);
}

}  // namespace onepath
