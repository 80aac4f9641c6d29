#include "lua/feature_file.hpp"
#include "lua/sandbox.hpp"

#include <algorithm>
#include <cmath>
#include <lua.hpp>

#include <cstdlib>
#include <memory>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "data/candle_io.hpp"

namespace onepath {
namespace {

constexpr std::size_t kMemoryCap = 64u << 20;      // bytes a feature file may allocate
constexpr int kHookEvery = 10'000;                   // instructions between hook calls
constexpr long kInstructionCap = 50'000'000;         // a feature file is data: this is an endless loop

struct Budget {
  std::size_t used = 0;
  long instructions = 0;
};

void* capped_alloc(void* ud, void* ptr, std::size_t old_size, std::size_t new_size) {
  auto* b = static_cast<Budget*>(ud);
  if (new_size == 0) {
    b->used -= ptr ? old_size : 0;
    std::free(ptr);
    return nullptr;
  }
  std::size_t grow = new_size > (ptr ? old_size : 0) ? new_size - (ptr ? old_size : 0) : 0;
  if (b->used + grow > kMemoryCap) return nullptr;  // Lua raises "not enough memory"
  void* p = std::realloc(ptr, new_size);
  if (p) b->used = b->used - (ptr ? old_size : 0) + new_size;
  return p;
}

Budget* budget_of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<Budget*>(ud);
}

void count_hook(lua_State* L, lua_Debug*) {
  if ((budget_of(L)->instructions += kHookEvery) > kInstructionCap)
    luaL_error(L, "the feature file ran too long (an endless loop?); it should only build a table");
}

struct StateCloser {
  void operator()(lua_State* L) const { lua_close(L); }
};

std::string entry_origin(const std::string& name, int index, const std::string& feature) {
  return name + ": entry " + std::to_string(index) + (feature.empty() ? "" : " ('" + feature + "')");
}

bool is_source(const std::string& s) {
  for (const char* n : {"open", "high", "low", "close", "volume", "hl2", "hlc3", "ohlc4"})
    if (s == n) return true;
  return false;
}

// The table at the top of the stack, as one feature.
FeatureSpec read_entry(lua_State* L, const std::string& name, int index) {
  FeatureSpec f;
  lua_getfield(L, -1, "name");
  if (lua_type(L, -1) == LUA_TSTRING) f.name = lua_tostring(L, -1);
  lua_pop(L, 1);
  f.origin = entry_origin(name, index, f.name);
  auto fail = [&](const std::string& why) { throw InputError(f.origin + ": " + why); };
  if (f.name.empty()) fail("needs a name (a string)");

  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {  // entry, key, value
    if (lua_type(L, -2) != LUA_TSTRING) fail("keys must be names (found an array item)");
    std::string key = lua_tostring(L, -2);
    int type = lua_type(L, -1);
    if (key == "inputs") {  // a model's inputs: a list of column names
      if (type != LUA_TTABLE) fail("'inputs' must be a list of feature names, e.g. inputs = { \"rsi\", \"atr\" }");
      const int n = static_cast<int>(lua_objlen(L, -1));
      for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        if (lua_type(L, -1) != LUA_TSTRING) fail("'inputs' item " + std::to_string(i) + " must be a feature name (a string)");
        f.inputs.emplace_back(lua_tostring(L, -1));
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
      continue;
    }
    if (type != LUA_TSTRING && type != LUA_TNUMBER) fail("'" + key + "' must be a number or a string");
    std::string text = type == LUA_TSTRING ? lua_tostring(L, -1) : "";
    double number = type == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    if (key == "name") continue;
    if (key == "symbol") {  // another symbol's feature
      if (type != LUA_TSTRING || text.empty()) fail("'symbol' must name a symbol of the run, e.g. symbol = \"BTC\"");
      f.symbol = text;
      continue;
    }
    if (key == "lag") {
      if (type != LUA_TNUMBER || number < 0 || number != static_cast<double>(static_cast<std::size_t>(number)) || number > 100000)
        fail("'lag' must be a whole number of bars, 0 or more");
      f.lag = static_cast<std::size_t>(number);
      continue;
    }
    if (key == "kind" || key == "timeframe" || key == "input" || key == "input2") {
      if (type != LUA_TSTRING) fail("'" + key + "' must be a string");
      if (key == "kind") f.indicator.kind = text;
      else if (key == "timeframe") {
        try {
          f.timeframe = Timeframe::parse(text);
        } catch (const InputError& e) {
          fail(e.what());
        }
      } else if (is_source(text)) {
        f.indicator.params[key] = text;  // a candle source: the indicator reads it itself
      } else {
        (key == "input" ? f.input : f.input2) = text;  // another feature's column
      }
      continue;
    }
    if (type == LUA_TNUMBER) f.indicator.params[key] = number; else f.indicator.params[key] = text;
  }
  if (f.indicator.kind.empty()) fail("needs a kind (see docs/indicators.md)");
  return f;
}

}  // namespace

FeatureSet parse_feature_source(std::string_view code, const std::string& name) {
  Budget budget;
  std::unique_ptr<lua_State, StateCloser> owner(lua_newstate(capped_alloc, &budget));
  lua_State* L = owner.get();
  if (!L) throw std::runtime_error("cannot create a Lua state");
  push_sandbox_env(L, SandboxProfile::feature_file);           // env
  // After the libraries (opening `jit` turns the compiler on): hooks do not run in traces.
  luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  if (luaL_loadbuffer(L, code.data(), code.size(), ("@" + name).c_str()) != 0)  // env, chunk | env, err
    throw InputError(std::string(lua_tostring(L, -1)));
  lua_pushvalue(L, -2);  // env, chunk, env
  lua_setfenv(L, -2);    // env, chunk
  lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookEvery);
  if (lua_pcall(L, 0, 1, 0) != 0) {  // env, result | env, err
    const char* msg = lua_tostring(L, -1);
    throw InputError(msg ? msg : name + ": error");
  }
  lua_sethook(L, nullptr, 0, 0);
  return feature_set_from_table(L, lua_gettop(L), name);
}

FeatureSet feature_set_from_table(lua_State* L, int index, const std::string& name) {
  if (lua_type(L, index) != LUA_TTABLE)
    throw InputError(name + ": must be a list of features, e.g. { {name = \"ema12\", kind = \"ema\", period = 12} }");
  FeatureSet set;
  set.origin = name;
  // A list: keys 1..n and nothing else. A hole ({[1] = a, [3] = b}) would drop an entry
  // silently (the length of such a table may stop at the hole).
  int n = 0, keys = 0;
  lua_pushnil(L);
  while (lua_next(L, index < 0 ? index - 1 : index) != 0) {
    lua_pop(L, 1);
    ++keys;
    if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) != std::floor(lua_tonumber(L, -1)) || lua_tonumber(L, -1) < 1) {
      const std::string key = lua_type(L, -1) == LUA_TSTRING ? "'" + std::string(lua_tostring(L, -1)) + "'" : "a non-index key";
      lua_pop(L, 1);
      throw InputError(name + ": the feature list has " + key + "; it must be a plain list { {...}, {...} }");
    }
    n = std::max(n, static_cast<int>(lua_tonumber(L, -1)));
  }
  if (n == 0) throw InputError(name + ": the list of features is empty");
  if (keys != n)
    for (int i = 1; i <= n; ++i) {
      lua_rawgeti(L, index, i);
      const bool hole = lua_isnil(L, -1);
      lua_pop(L, 1);
      if (hole) throw InputError(entry_origin(name, i, "") + ": missing: the list has a hole there (entries up to " + std::to_string(n) + ")");
    }
  for (int i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, i);
    if (lua_type(L, -1) != LUA_TTABLE) throw InputError(entry_origin(name, i, "") + ": must be a table");
    set.features.push_back(read_entry(L, name, i));
    lua_pop(L, 1);
  }
  return set;
}

FeatureSet load_feature_file(const std::string& path) { return parse_feature_source(read_file(path), path); }

}  // namespace onepath
