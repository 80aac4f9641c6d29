#include "lua/signal_config.hpp"

#include <lua.hpp>

#include <filesystem>

#include "core/error.hpp"
#include "lua/sandbox.hpp"

namespace onepath {

SignalConfig load_signal_config(const std::string& path, const std::string& scripts_root) {
  ScriptLimits limits;
  limits.memory_bytes = 16u << 20;
  limits.timeout_ms = 1000;
  LuaRuntime rt(scripts_root, limits);
  lua_State* L = rt.state();
  rt.run_file(path);
  auto fail = [&](const std::string& why) -> SignalConfig {
    throw InputError(path + ": " + why + " (a signal config returns { type = \"ema_crossover\", params = { ... } })");
  };
  if (lua_type(L, -1) != LUA_TTABLE) return fail("must return a table");
  SignalConfig sc;
  raw_getfield(L, -1, "type");
  if (lua_type(L, -1) != LUA_TSTRING) return fail("'type' must name a signal type");
  sc.type = lua_tostring(L, -1);
  lua_pop(L, 1);
  for (char ch : sc.type)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return fail("'type' is a name like ema_crossover");
  sc.strategy = (std::filesystem::path(scripts_root) / "strategies" / (sc.type + ".lua")).string();
  if (!std::filesystem::exists(sc.strategy)) return fail("no signal type '" + sc.type + "' (" + sc.strategy + " does not exist)");
  raw_getfield(L, -1, "params");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TTABLE) return fail("'params' must be a table");
    sc.params = read_script_params(L, lua_gettop(L), path);
  }
  lua_pop(L, 2);
  return sc;
}

}  // namespace onepath
