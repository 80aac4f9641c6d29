#include "lua/sandbox.hpp"

#include <lua.hpp>

#include <string_view>

namespace onepath {
namespace {

// env[lib] = a copy of the library, less `string.dump` (bytecode is not for scripts).
void copy_library(lua_State* L, const char* lib) {
  lua_newtable(L);       // env, copy
  lua_getglobal(L, lib);  // env, copy, lib
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {  // env, copy, lib, key, value
    const bool dump = std::string_view(lib) == "string" && lua_type(L, -2) == LUA_TSTRING && std::string_view(lua_tostring(L, -2)) == "dump";
    if (dump) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -2);  // env, copy, lib, key, value, key
    lua_insert(L, -2);     // env, copy, lib, key, key, value
    lua_settable(L, -5);   // env, copy, lib, key
  }
  lua_pop(L, 1);             // env, copy
  lua_setfield(L, -2, lib);  // env
}

}  // namespace

void push_sandbox_env(lua_State* L, SandboxProfile profile) {
  lua_getglobal(L, "string");
  const bool opened = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (!opened) luaL_openlibs(L);
  lua_newtable(L);  // env
  for (const char* name : {"assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring", "type", "unpack",
                           "rawequal", "rawget"}) {
    lua_getglobal(L, name);
    lua_setfield(L, -2, name);
  }
  for (const char* lib : {"math", "string", "table"}) copy_library(L, lib);
  if (profile == SandboxProfile::feature_file) return;

  for (const char* name : {"xpcall", "rawset", "setmetatable", "getmetatable"}) {
    lua_getglobal(L, name);
    lua_setfield(L, -2, name);
  }
  copy_library(L, "bit");
  lua_newtable(L);  // env, os: time only, nothing that touches the system
  for (const char* name : {"time", "clock", "date", "difftime"}) {
    lua_getglobal(L, "os");
    lua_getfield(L, -1, name);
    lua_setfield(L, -3, name);
    lua_pop(L, 1);
  }
  lua_setfield(L, -2, "os");
}

void raw_getfield(lua_State* L, int index, const char* key) {
  index = index < 0 ? lua_gettop(L) + index + 1 : index;
  lua_pushstring(L, key);
  lua_rawget(L, index);
}

void raw_setfield(lua_State* L, int index, const char* key) {
  index = index < 0 ? lua_gettop(L) + index + 1 : index;
  lua_pushstring(L, key);
  lua_insert(L, -2);
  lua_rawset(L, index);
}

}  // namespace onepath
