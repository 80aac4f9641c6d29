#include "lua/json_lib.hpp"

#include <lua.hpp>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

namespace onepath {
namespace {

using json = nlohmann::json;
constexpr int kMaxDepth = 64;

// json.null: a light userdata no other value equals.
int null_marker;
void* null_value() { return &null_marker; }

json to_json(lua_State* L, int index, int depth) {
  if (depth > kMaxDepth) throw std::runtime_error("json.encode: nested deeper than 64 levels (a cycle?)");
  switch (lua_type(L, index)) {
    case LUA_TNIL: return nullptr;
    case LUA_TBOOLEAN: return lua_toboolean(L, index) != 0;
    case LUA_TNUMBER: {
      const double d = lua_tonumber(L, index);
      if (!std::isfinite(d)) throw std::runtime_error("json.encode: " + std::to_string(d) + " is not a JSON number");
      if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) return static_cast<std::int64_t>(d);
      return d;
    }
    case LUA_TSTRING: {
      std::size_t n = 0;
      const char* s = lua_tolstring(L, index, &n);
      return std::string(s, n);
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == null_value()) return nullptr;
      break;
    case LUA_TTABLE: {
      const int t = index < 0 ? lua_gettop(L) + index + 1 : index;
      const std::size_t n = lua_objlen(L, t);
      std::size_t count = 0;
      bool string_keys = true;
      lua_pushnil(L);
      while (lua_next(L, t)) {
        ++count;
        string_keys = string_keys && lua_type(L, -2) == LUA_TSTRING;
        lua_pop(L, 1);
      }
      if (count == 0) return json::object();
      if (count == n) {  // exactly 1..n
        json a = json::array();
        for (std::size_t i = 1; i <= n; ++i) {
          lua_rawgeti(L, t, static_cast<int>(i));
          a.push_back(to_json(L, -1, depth + 1));
          lua_pop(L, 1);
        }
        return a;
      }
      if (!string_keys) throw std::runtime_error("json.encode: a table must be a list (keys 1..n) or have only string keys");
      json o = json::object();
      lua_pushnil(L);
      while (lua_next(L, t)) {
        o[lua_tostring(L, -2)] = to_json(L, -1, depth + 1);
        lua_pop(L, 1);
      }
      return o;
    }
    default: break;
  }
  throw std::runtime_error(std::string("json.encode: a ") + lua_typename(L, lua_type(L, index)) + " has no JSON form");
}

void push_json(lua_State* L, const json& j, int depth) {
  if (depth > kMaxDepth) throw std::runtime_error("json.decode: nested deeper than 64 levels");
  luaL_checkstack(L, 4, "json.decode");
  switch (j.type()) {
    case json::value_t::null: lua_pushlightuserdata(L, null_value()); return;
    case json::value_t::boolean: lua_pushboolean(L, j.get<bool>()); return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: lua_pushnumber(L, j.get<double>()); return;
    case json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case json::value_t::array: {
      lua_createtable(L, static_cast<int>(j.size()), 0);
      int i = 1;
      for (const auto& x : j) {
        push_json(L, x, depth + 1);
        lua_rawseti(L, -2, i++);
      }
      return;
    }
    case json::value_t::object: {
      lua_createtable(L, 0, static_cast<int>(j.size()));
      for (const auto& [k, v] : j.items()) {
        push_json(L, v, depth + 1);
        lua_setfield(L, -2, k.c_str());
      }
      return;
    }
    default: lua_pushnil(L); return;
  }
}

// Errors become Lua errors after the C++ objects are gone (lua_error longjmps).
int encode(lua_State* L) {
  std::string out, error;
  try {
    out = to_json(L, 1, 0).dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty()) return luaL_error(L, "%s", error.c_str());
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int decode(lua_State* L) {
  std::size_t n = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  std::string error;
  {
    json j = json::parse(s, s + n, nullptr, false);
    if (j.is_discarded()) {
      error = "json.decode: not JSON";
    } else {
      try {
        push_json(L, j, 0);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
  }
  if (!error.empty()) return luaL_error(L, "%s", error.c_str());
  return 1;
}

}  // namespace

void add_json_library(lua_State* L) {
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, encode);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, decode);
  lua_setfield(L, -2, "decode");
  lua_pushlightuserdata(L, null_value());
  lua_setfield(L, -2, "null");
  lua_setfield(L, -2, "json");
}

}  // namespace onepath
