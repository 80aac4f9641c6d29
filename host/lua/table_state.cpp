#include "lua/table_state.hpp"

#include <lua.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace onepath {
namespace {
constexpr int kMaxDepth = 16;

// Plain Lua values as bytes: 'n' number, 's' string, 'b' boolean, 't' table (pairs, then
// 'e'); functions and other values are not state and are skipped. A table's pairs go in
// the order of their keys' bytes, not Lua's traversal order (which depends on how the
// table grew): equal states are equal bytes, so a restored run's state can be compared.
bool write_value_at(lua_State* L, int index, StateWriter& w, int depth) {
  index = index < 0 ? lua_gettop(L) + index + 1 : index;
  switch (lua_type(L, index)) {
    case LUA_TNUMBER: w.all('n', lua_tonumber(L, index)); return true;
    case LUA_TSTRING: w.all('s', std::string(lua_tostring(L, index))); return true;
    case LUA_TBOOLEAN: w.all('b', static_cast<bool>(lua_toboolean(L, index))); return true;
    case LUA_TTABLE: {
      if (depth > kMaxDepth) throw InputError("filter state is nested too deeply to save");
      w('t');
      std::vector<std::pair<std::string, std::string>> pairs;  // key bytes, value bytes
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        int kt = lua_type(L, -2), vt = lua_type(L, -1);
        bool plain_key = kt == LUA_TNUMBER || kt == LUA_TSTRING;
        bool plain_value = vt == LUA_TNUMBER || vt == LUA_TSTRING || vt == LUA_TBOOLEAN || vt == LUA_TTABLE;
        if (plain_key && plain_value) {
          StateWriter key, value;
          write_value_at(L, -2, key, depth + 1);
          write_value_at(L, -1, value, depth + 1);
          pairs.emplace_back(key.bytes(), value.bytes());
        }
        lua_pop(L, 1);
      }
      std::sort(pairs.begin(), pairs.end());
      for (const auto& [key, value] : pairs) w.append(key), w.append(value);
      w('e');
      return true;
    }
    default: return false;
  }
}

void read_value_at(lua_State* L, StateReader& r, int depth) {
  char tag = 0;
  r(tag);
  switch (tag) {
    case 'n': { double d; r(d); lua_pushnumber(L, d); return; }
    case 's': { std::string s; r(s); lua_pushlstring(L, s.data(), s.size()); return; }
    case 'b': { bool b; r(b); lua_pushboolean(L, b); return; }
    case 't': {
      if (depth > kMaxDepth) throw InputError("filter state is corrupt");
      lua_newtable(L);
      for (;;) {
        char next = 0;
        StateReader probe = r;
        probe(next);
        if (next == 'e') {
          r(next);
          return;
        }
        read_value_at(L, r, depth + 1);
        read_value_at(L, r, depth + 1);
        lua_settable(L, -3);
      }
    }
    default: throw InputError("filter state is corrupt");
  }
}

}  // namespace

void save_lua_value(lua_State* L, int index, StateWriter& w) { write_value_at(L, index, w, 0); }
void load_lua_value(lua_State* L, StateReader& r) { read_value_at(L, r, 0); }

}  // namespace onepath
