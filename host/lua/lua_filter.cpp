#include "lua/lua_filter.hpp"

#include <lua.hpp>

#include <filesystem>

#include "core/error.hpp"
#include "core/state_archive.hpp"
#include "lua/intent_table.hpp"
#include "lua/sandbox.hpp"
#include "lua/table_state.hpp"

namespace onepath {
namespace {

// Calls self:apply(intent, ctx) with both tables made in Lua from plain numbers: the host
// pushes no strings, so nothing is interned per call, and the tables are built the way the
// JIT builds them. The intent's fields use the option names of docs/lua-api.md.
constexpr const char* kApplyGlue = R"(
local ACTION, TYPE = { 'buy', 'sell', 'close' }, { 'market', 'limit', 'stop' }
local SIZE = { [0] = 'qty', 'size', 'risk' }
local STOP, TAKE = { 'stop_loss', 'sl_pct', 'sl_atr' }, { 'take_profit', 'tp_pct', 'tp_atr' }
return function(self, symbols, a, ty, sm, sv, maxf, price, slm, slv, tpm, tpv, atr, exit_after, valid, close_qty,
                sym, bar, time, open_positions, has_position)
  local intent
  if a == 3 then
    intent = { action = 'close' }
    if close_qty == close_qty then intent.qty = close_qty end
  else
    intent = { action = ACTION[a], type = TYPE[ty], valid_bars = valid }
    if sv == sv then intent[SIZE[sm]] = sv end
    if maxf == maxf then intent.max_fraction = maxf end
    if price == price then intent.price = price end
    if slm > 0 then intent[STOP[slm]] = slv end
    if tpm > 0 then intent[TAKE[tpm]] = tpv end
    if atr == atr then intent.atr = atr end
    if exit_after ~= 0 then intent.exit_after = exit_after end
  end
  local ctx = { symbol = symbols[sym], bar = bar, time = time, open_positions = open_positions, has_position = has_position }
  return self:apply(intent, ctx)
end
)";

// A method of the object, looked up in a timed call: an object may find its methods through
// a metatable, and a metamethod is the script's code. Called as glue(self, name[, ...]):
// with arguments, calls the method when there is one; without, returns its type.
constexpr const char* kMethodGlue = R"(
return function(self, name, ...)
  local f = self[name]
  if select('#', ...) == 0 then return type(f) end
  if f ~= nil then return f(self, ...) end
end
)";

}  // namespace

LuaFilter::LuaFilter(const std::string& path, const std::string& scripts_root, const ScriptParams& params, ScriptLimits limits,
                     std::vector<std::string> symbols)
    : rt_(scripts_root, limits), path_(path), name_(std::filesystem::path(path).stem().string()), symbols_(std::move(symbols)) {
  lua_State* L = rt_.state();
  rt_.run_file(path);  // module
  if (lua_type(L, -1) != LUA_TTABLE) throw InputError(path + ": a filter returns a table with new(params)");
  raw_getfield(L, -1, "new");
  if (lua_type(L, -1) != LUA_TFUNCTION) throw InputError(path + ": a filter needs new(params) returning an object with apply");
  lua_newtable(L);  // params
  for (const auto& [key, value] : params) {
    push_script_value(L, value);
    lua_setfield(L, -2, key.c_str());
  }
  rt_.call(1, 1, path.c_str(), "new");  // module, object
  if (lua_type(L, -1) != LUA_TTABLE) throw InputError(path + ": new(params) must return an object (a table)");
  self_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  rt_.run_privileged(kApplyGlue, "onepath filter glue");
  glue_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  rt_.run_privileged(kMethodGlue, "onepath method glue");
  method_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_rawgeti(L, LUA_REGISTRYINDEX, method_ref_);
  lua_rawgeti(L, LUA_REGISTRYINDEX, self_ref_);
  lua_pushliteral(L, "apply");
  rt_.call(2, 1, path.c_str(), "new");
  const bool has_apply = lua_type(L, -1) == LUA_TSTRING && std::string_view(lua_tostring(L, -1)) == "function";
  lua_pop(L, 1);
  if (!has_apply) throw InputError(path + ": the object needs apply(self, intent, ctx)");
  lua_createtable(L, static_cast<int>(symbols_.size()), 0);
  for (std::size_t s = 0; s < symbols_.size(); ++s) {
    lua_pushstring(L, symbols_[s].c_str());
    lua_rawseti(L, -2, static_cast<int>(s) + 1);
  }
  symbols_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
}

std::string LuaFilter::apply(Intent& intent, const FilterContext& ctx) {
  lua_State* L = rt_.state();
  lua_rawgeti(L, LUA_REGISTRYINDEX, glue_ref_);
  lua_rawgeti(L, LUA_REGISTRYINDEX, self_ref_);
  lua_rawgeti(L, LUA_REGISTRYINDEX, symbols_ref_);
  const bool close = intent.action == IntentAction::close;
  for (double v : {static_cast<double>(intent.action) + 1, static_cast<double>(intent.type) + 1, static_cast<double>(intent.size.mode),
                   close ? kNaN : intent.size.value, intent.size.max_fraction, intent.price,
                   static_cast<double>(intent.stop_loss.mode), intent.stop_loss.value, static_cast<double>(intent.take_profit.mode),
                   intent.take_profit.value, intent.atr, static_cast<double>(intent.exit_after_bars), static_cast<double>(intent.valid_bars),
                   intent.close_quantity, static_cast<double>(ctx.symbol) + 1, static_cast<double>(ctx.bar), static_cast<double>(ctx.ts),
                   static_cast<double>(ctx.open_positions)})
    lua_pushnumber(L, v);
  lua_pushboolean(L, ctx.has_position);
  rt_.call(21, 2, path_.c_str(), "apply");  // result, reason
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
  lua_rawgeti(L, LUA_REGISTRYINDEX, method_ref_);
  lua_rawgeti(L, LUA_REGISTRYINDEX, self_ref_);
  lua_pushstring(L, method);
  lua_pushstring(L, symbols_[symbol].c_str());
  lua_pushnumber(L, static_cast<double>(bar));
  rt_.call(4, 0, path_.c_str(), method);
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
    raw_setfield(L, -2, k.c_str());
  }
  lua_pushnil(L);
  while (lua_next(L, -3) != 0) {  // saved, self, key, value
    lua_pushvalue(L, -2);
    lua_insert(L, -2);   // saved, self, key, key, value
    lua_rawset(L, -4);   // self[key] = value
  }
  lua_settop(L, top);
}

}  // namespace onepath
