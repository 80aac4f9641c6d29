#pragma once
// One builder for the sandboxes scripts run in, with a profile per kind of script, so that
// a script is always checked (a hot reload's candidate included) under exactly the rules it
// runs under. Never in any profile: io, os.execute and the rest of os, load / loadstring /
// loadfile / dofile, debug, ffi, string.dump.
struct lua_State;

namespace onepath {

enum class SandboxProfile {
  feature_file,  // builds data: pure functions only
  script,        // strategies and filters: also metatables, xpcall, bit, os.time/clock/date/difftime
};

// Opens the standard libraries in L (if not yet) and pushes a fresh global table holding
// the profile's safe parts. The caller adds what its scripts get beyond them (require,
// service, _G).
void push_sandbox_env(lua_State* L, SandboxProfile profile);

// t[key] without metamethods, for the host's reads and writes of a script's tables outside a
// timed call: a script's __index or __newindex is Lua code, and only a timed call runs Lua.
void raw_getfield(lua_State* L, int index, const char* key);
void raw_setfield(lua_State* L, int index, const char* key);  // pops the value

}  // namespace onepath
