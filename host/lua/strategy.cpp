#include "lua/strategy.hpp"

#include <lua.hpp>

#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"
#include "lua/feature_file.hpp"
#include "lua/intent_table.hpp"
#include "lua/sandbox.hpp"
#include "lua/table_state.hpp"

namespace onepath {

// Host memory the FFI views point at, one per symbol. Doubles only: LuaJIT gives int64_t
// fields as boxed 64-bit cdata, doubles as plain numbers (exact up to 2^53 ms).
struct LuaStrategy::View {
  struct Bar {
    double ts, open, high, low, close, volume, index;
  } bar{};
  struct Ctx {
    double time, bar, position, equity, cash;
  } ctx{};
  int bar_ref = 0, row_ref = 0, ctx_ref = 0;
};

struct LuaStrategy::Binding {
  LuaStrategy* self;
};

namespace {

bool is_identifier(const std::string& s) {
  static const char* keywords[] = {"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
                                   "enum", "extern", "float", "for", "goto", "if", "int", "long", "register", "return",
                                   "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
                                   "unsigned", "void", "volatile", "while"};
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (const char* k : keywords)
    if (s == k) return false;
  return true;
}

LuaStrategy& self_of(lua_State* L) {
  return *static_cast<LuaStrategy::Binding*>(lua_touserdata(L, lua_upvalueindex(1)))->self;
}

// ctx:buy{...} / ctx:sell{...} / ctx:close{...}: upvalues (binding, action). A host function.
int l_order(lua_State* L) {
  std::string error;
  try {
    const auto action = static_cast<IntentAction>(lua_tointeger(L, lua_upvalueindex(2)));
    const char* method = action == IntentAction::buy ? "ctx:buy" : action == IntentAction::sell ? "ctx:sell" : "ctx:close";
    self_of(L).on_intent(intent_from_table(L, 2, action, method));
    return 0;
  } catch (const InputError& e) {
    error = e.what();
  }
  return luaL_error(L, "%s", error.c_str());  // with the script's file and line
}

// ctx:log(...): upvalues (binding, symbol name). A host function: values are shown without
// calling back into the script (no __tostring), tables and functions by their type.
int l_log(lua_State* L) {
  std::string msg;
  for (int i = 2; i <= lua_gettop(L); ++i) {
    if (i > 2) msg += ' ';
    switch (lua_type(L, i)) {
      case LUA_TNIL: msg += "nil"; break;
      case LUA_TBOOLEAN: msg += lua_toboolean(L, i) ? "true" : "false"; break;
      case LUA_TNUMBER:
      case LUA_TSTRING: {
        lua_pushvalue(L, i);  // a number is converted in a copy, not in the caller's slot
        std::size_t n = 0;
        const char* s = lua_tolstring(L, -1, &n);
        msg.append(s, n);
        lua_pop(L, 1);
        break;
      }
      default: msg += luaL_typename(L, i);
    }
  }
  self_of(L).log_line(lua_tostring(L, lua_upvalueindex(2)), msg);
  return 0;
}

}  // namespace

void push_script_value(lua_State* L, const std::variant<double, std::string, bool>& value) {
  std::visit([&](const auto& v) {
    using V = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<V, double>) lua_pushnumber(L, v);
    else if constexpr (std::is_same_v<V, bool>) lua_pushboolean(L, v);
    else lua_pushstring(L, v.c_str());
  }, value);
}

ScriptParams read_script_params(lua_State* L, int index, const std::string& origin) {
  ScriptParams params;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) throw InputError(origin + ": params are named");
    std::string key = lua_tostring(L, -2);
    switch (lua_type(L, -1)) {
      case LUA_TNUMBER: params[key] = lua_tonumber(L, -1); break;
      case LUA_TSTRING: params[key] = std::string(lua_tostring(L, -1)); break;
      case LUA_TBOOLEAN: params[key] = static_cast<bool>(lua_toboolean(L, -1)); break;
      default: throw InputError(origin + ": param '" + key + "' must be a number, a string or a boolean");
    }
    lua_pop(L, 1);
  }
  return params;
}

LuaStrategy::LuaStrategy(const std::string& path, const std::string& scripts_root, std::vector<std::string> symbols,
                         const ScriptParams& overrides, ScriptLimits limits)
    : rt_(std::make_unique<LuaRuntime>(scripts_root, limits)), path_(path), symbols_(std::move(symbols)),
      binding_(std::make_unique<Binding>(Binding{this})) {
  lua_State* L = rt_->state();
  rt_->run_file(path);  // module
  if (lua_type(L, -1) != LUA_TTABLE)
    throw InputError(path + ": a strategy returns a table with params, features and on_bar (see docs/lua-api.md)");

  // params: declared defaults, then the overrides (only of declared names).
  raw_getfield(L, -1, "params");  // module, params
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    raw_setfield(L, -3, "params");
  }
  if (lua_type(L, -1) != LUA_TTABLE) throw InputError(path + ": 'params' must be a table of defaults");
  params_ = read_script_params(L, lua_gettop(L), path);
  for (const auto& [key, value] : overrides) {
    if (!params_.count(key)) {
      std::string known;
      for (const auto& [k, v] : params_) known += (known.empty() ? "" : ", ") + k;
      throw InputError(path + ": no param '" + key + "' to set (declared: " + (known.empty() ? "none" : known) + ")");
    }
    params_[key] = value;
    push_script_value(L, value);
    raw_setfield(L, -2, key.c_str());
  }
  lua_pop(L, 1);  // module

  // features: a list, or a function of the params returning one.
  raw_getfield(L, -1, "features");  // module, features
  if (lua_type(L, -1) == LUA_TFUNCTION) {
    raw_getfield(L, -2, "params");
    rt_->call(1, 1, path.c_str(), "features");
  }
  // None (or an empty list): a strategy on price action alone.
  bool none = lua_isnil(L, -1);
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushnil(L);
    if (lua_next(L, -2) == 0) none = true;  // an empty list
    else lua_pop(L, 2);                      // its first key and value
  }
  if (!none && lua_type(L, -1) != LUA_TTABLE) throw InputError(path + ": 'features' must be a feature list or a function returning one");
  if (none) features_ = FeatureSet{{}, path + ": features"};
  else features_ = feature_set_from_table(L, lua_gettop(L), path + ": features");
  lua_pop(L, 1);

  raw_getfield(L, -1, "gate");
  if (lua_type(L, -1) == LUA_TSTRING) gate_ = lua_tostring(L, -1);
  else if (!lua_isnil(L, -1)) throw InputError(path + ": 'gate' must be the name of a feature column");
  lua_pop(L, 1);

  raw_getfield(L, -1, "on_bar");
  if (lua_type(L, -1) != LUA_TFUNCTION) throw InputError(path + ": a strategy needs on_bar(ctx, bar, f)");
  on_bar_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  for (auto [name, flag] : {std::pair{"on_start", &has_on_start_}, std::pair{"on_fill", &has_on_fill_}, std::pair{"on_stop", &has_on_stop_}}) {
    raw_getfield(L, -1, name);
    *flag = lua_type(L, -1) == LUA_TFUNCTION;
    if (!*flag && !lua_isnil(L, -1)) throw InputError(path + ": '" + std::string(name) + "' must be a function");
    lua_pop(L, 1);
  }
  module_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
}

LuaStrategy::~LuaStrategy() = default;

void LuaStrategy::bind(const std::vector<std::string>& columns) {
  // Once: the script may keep the views, so the memory behind them lives as long as it does.
  if (!views_.empty()) throw std::logic_error(path_ + ": bound twice");
  for (const auto& c : columns)
    if (!is_identifier(c)) throw InputError(path_ + ": feature column '" + c + "' cannot be read as f." + c + "; rename it");
  // The views are struct references, not pointers: a script can read the named fields and
  // nothing else. A number or an unknown name as key, arithmetic, writes (the fields are
  // const) and tostring never reach the memory around them.
  std::string code = "local ffi = require('ffi')\nffi.cdef[[\ntypedef struct { const double ts, open, high, low, close, volume, index; } onepath_bar;\n";
  code += "typedef struct { ";
  for (const auto& c : columns) code += "const double " + c + "; ";
  if (columns.empty()) code += "const double _none; ";
  code += "} onepath_row;\n";
  for (std::size_t k = 0; k < symbols_.size(); ++k)
    code += "typedef struct { const double time, bar, position, equity, cash; } onepath_ctx_" + std::to_string(k) + ";\n";
  // A name that is not a field: an error naming it and what there is, at the script's line
  // (fields themselves resolve without the metatable, so reads stay compiled).
  std::string known;
  for (const auto& c : columns) known += (known.empty() ? "" : ", ") + c;
  code += "]]\n"
          "local function key(k) return type(k) == 'string' and \"'\" .. k .. \"'\" or '[' .. tostring(k) .. ']' end\n"
          "local function read_only(what) return function(_, k) error(what .. ' is read-only (cannot set ' .. key(k) .. ')', 2) end end\n";
  code += "ffi.metatype('onepath_row', { __index = function(_, k) error('unknown feature ' .. key(k) .. ' (known: " +
          (known.empty() ? std::string("none") : known) +
          ")', 2) end, __newindex = read_only('f'), __tostring = function() return 'features' end })\n";
  code += "ffi.metatype('onepath_bar', { __index = function(_, k) error('bar has no field ' .. key(k) .. "
          "' (it has: ts, open, high, low, close, volume, index)', 2) end, __newindex = read_only('bar'), "
          "__tostring = function() return 'bar' end })\n";
  code +=
      "return function(k, bar, row, ctx, methods)\n"
      "  local ct = 'onepath_ctx_' .. k\n"
      "  ffi.metatype(ct, { __index = function(_, name)\n"
      "      local m = methods[name]\n"
      "      if m == nil then error('ctx has no field ' .. key(name) .. ' (it has: time, bar, position, equity, cash, symbol, "
      "params, state, buy, sell, close, log)', 2) end\n"
      "      return m\n"
      "    end, __newindex = read_only('ctx'), __tostring = function() return 'ctx' end })\n"
      "  return ffi.cast('onepath_bar&', bar), ffi.cast('onepath_row&', row), ffi.cast(ct .. '&', ctx)\n"
      "end\n";
  lua_State* L = rt_->state();
  rt_->run_privileged(code, "onepath ffi views");  // binder
  rows_.assign(symbols_.size(), std::vector<double>(std::max<std::size_t>(columns.size(), 1), kNaN));
  for (std::size_t k = 0; k < symbols_.size(); ++k) {
    auto v = std::make_unique<View>();
    lua_pushvalue(L, -1);  // binder
    lua_pushinteger(L, static_cast<lua_Integer>(k));
    lua_pushlightuserdata(L, &v->bar);
    lua_pushlightuserdata(L, rows_[k].data());
    lua_pushlightuserdata(L, &v->ctx);
    lua_newtable(L);  // methods
    lua_pushvalue(L, -1);
    state_refs_.push_back(luaL_ref(L, LUA_REGISTRYINDEX));
    lua_pushstring(L, symbols_[k].c_str());
    raw_setfield(L, -2, "symbol");
    lua_newtable(L);
    raw_setfield(L, -2, "state");
    lua_rawgeti(L, LUA_REGISTRYINDEX, module_ref_);
    raw_getfield(L, -1, "params");
    raw_setfield(L, -3, "params");
    lua_pop(L, 1);
    for (auto [name, action] : {std::pair{"buy", IntentAction::buy}, std::pair{"sell", IntentAction::sell}, std::pair{"close", IntentAction::close}}) {
      lua_pushlightuserdata(L, binding_.get());
      lua_pushinteger(L, static_cast<lua_Integer>(action));
      lua_pushcclosure(L, host_function<l_order>, 2);
      raw_setfield(L, -2, name);
    }
    lua_pushlightuserdata(L, binding_.get());
    lua_pushstring(L, symbols_[k].c_str());
    lua_pushcclosure(L, host_function<l_log>, 2);
    raw_setfield(L, -2, "log");
    rt_->call(5, 3, path_.c_str(), "binding");  // binder, bar, row, ctx
    v->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    v->row_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    v->bar_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    views_.push_back(std::move(v));
  }
  lua_pop(L, 1);  // binder
}

void LuaStrategy::on_intent(const Intent& in) { intents_.push_back(in); }

std::string LuaStrategy::save_state() const {
  lua_State* L = rt_->state();
  StateWriter w;
  w(static_cast<std::uint64_t>(state_refs_.size()));
  for (int ref : state_refs_) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    raw_getfield(L, -1, "state");
    save_lua_value(L, -1, w);
    lua_pop(L, 2);
  }
  return w.bytes();
}

void LuaStrategy::load_state(std::string_view bytes) {
  lua_State* L = rt_->state();
  StateReader r(bytes);
  std::uint64_t n = 0;
  r(n);
  if (n != state_refs_.size()) throw InputError(path_ + ": saved state is for another set of symbols");
  const int top = lua_gettop(L);
  try {
    for (std::uint64_t k = 0; k < n; ++k) load_lua_value(L, r);
    if (!r.at_end()) throw InputError(path_ + ": saved state has trailing bytes");
  } catch (...) {
    lua_settop(L, top);
    throw;
  }
  for (std::uint64_t k = n; k-- > 0;) {  // all read: now replace each symbol's state
    lua_rawgeti(L, LUA_REGISTRYINDEX, state_refs_[k]);
    lua_insert(L, -2);
    raw_setfield(L, -2, "state");
    lua_pop(L, 1);
  }
}

void LuaStrategy::adopt_state(std::string_view bytes, const std::string& old_version) {
  load_state(bytes);
  lua_State* L = rt_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, module_ref_);
  raw_getfield(L, -1, "migrate");
  const bool has = lua_type(L, -1) == LUA_TFUNCTION;
  const bool bad = !has && !lua_isnil(L, -1);
  lua_pop(L, 2);
  if (bad) throw InputError(path_ + ": 'migrate' must be a function(old_state, old_version) returning the new state");
  if (!has) return;
  for (int ref : state_refs_) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);  // methods
    lua_rawgeti(L, LUA_REGISTRYINDEX, module_ref_);
    raw_getfield(L, -1, "migrate");
    lua_remove(L, -2);                       // methods, migrate
    raw_getfield(L, -2, "state");
    lua_pushstring(L, old_version.c_str());
    rt_->call(2, 1, path_.c_str(), "migrate");  // methods, new state
    if (lua_type(L, -1) != LUA_TTABLE) {
      lua_pop(L, 2);
      throw ScriptError(path_ + ": migrate must return the new state (a table)");
    }
    raw_setfield(L, -2, "state");
    lua_pop(L, 1);
  }
}

void LuaStrategy::log_line(const char* symbol, const std::string& message) {
  log::info("script_log", {{"script", path_}, {"symbol", symbol}, {"message", message}});
}

void LuaStrategy::call_hook(const char* name, int symbol) {
  lua_State* L = rt_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, module_ref_);
  raw_getfield(L, -1, name);
  lua_remove(L, -2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, views_[symbol]->ctx_ref);
  rt_->call(1, 0, path_.c_str(), name);
}

void LuaStrategy::on_start() {
  if (has_on_start_)
    for (std::size_t k = 0; k < views_.size(); ++k) call_hook("on_start", static_cast<int>(k));
}

void LuaStrategy::on_stop() {
  if (has_on_stop_)
    for (std::size_t k = 0; k < views_.size(); ++k) call_hook("on_stop", static_cast<int>(k));
}

const std::vector<Intent>& LuaStrategy::on_bar(int symbol, const Candle& c, std::int64_t bar_index, double position,
                                               double equity, double cash) {
  View& v = *views_[symbol];
  v.bar = {static_cast<double>(c.ts), c.open, c.high, c.low, c.close, c.volume, static_cast<double>(bar_index)};
  v.ctx = {static_cast<double>(c.ts), static_cast<double>(bar_index), position, equity, cash};
  intents_.clear();
  lua_State* L = rt_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, on_bar_ref_);
  lua_rawgeti(L, LUA_REGISTRYINDEX, v.ctx_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, v.bar_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, v.row_ref);
  rt_->call(3, 0, path_.c_str(), "on_bar");
  return intents_;
}

void LuaStrategy::on_fill(int symbol, const Trade& t) {
  if (!has_on_fill_) return;
  lua_State* L = rt_->state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, module_ref_);
  raw_getfield(L, -1, "on_fill");
  lua_remove(L, -2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, views_[symbol]->ctx_ref);
  lua_newtable(L);
  lua_pushstring(L, t.direction > 0 ? "long" : "short");
  raw_setfield(L, -2, "side");
  for (auto [name, value] : {std::pair{"qty", t.quantity}, std::pair{"entry_price", t.entry_price}, std::pair{"exit_price", t.exit_price},
                             std::pair{"pnl", t.pnl}, std::pair{"ret", t.ret}}) {
    lua_pushnumber(L, value);
    raw_setfield(L, -2, name);
  }
  lua_pushstring(L, exit_reason_name(t.reason));
  raw_setfield(L, -2, "reason");
  rt_->call(2, 0, path_.c_str(), "on_fill");
}

}  // namespace onepath
