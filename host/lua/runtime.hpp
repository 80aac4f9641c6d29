#pragma once
// One sandboxed LuaJIT state per script. Scripts see a safe standard library (no io,
// os.execute, load*, dofile, debug or ffi; `require` only inside the scripts tree); every
// call runs under lua_pcall with a traceback and comes back as "script.lua:LINE: message".
// Two limits keep a bad script from taking the host with it:
//  - memory: the allocator refuses past the limit; Lua raises "not enough memory", the
//    call fails cleanly and the state stays usable;
//  - time: a watchdog thread signals the script's thread when one call runs too long.
//    LuaJIT runs no hooks inside compiled traces, so the signal handler jumps out of the
//    call, but only when the interrupted instruction is LuaJIT's own code or compiled
//    trace code, and never inside a host region (a host function called from Lua, the
//    allocator). Anywhere else (libc, the unwinder, host code) it leaves a flag and the
//    watchdog signals again a millisecond later; a host function entered or ending after
//    the limit jumps out from its boundary, where nothing of the host's is live. A state a
//    call was jumped out of is abandoned (never touched again, not even closed).
// Host memory allocated on a script's behalf (json's buffers) counts against its limit
// through charge_script_memory.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct lua_State;

namespace onepath {

// A script failed: a Lua error, a time-out, the memory limit. The work fails (exit 1).
class ScriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What Lua's service(name, function, request) calls: the running session's services
// (native plugins). Unset, service() raises "no services".
using ServiceCaller = std::function<std::string(const std::string& service, const std::string& function, const std::string& request)>;
void set_service_caller(ServiceCaller caller);

// A script file larger than this is refused before it is read (a strategy is kilobytes).
constexpr std::size_t kMaxScriptBytes = 16u << 20;

// Script files by path, as read once (a hot reload validates these bytes and swaps in the
// same bytes, whatever the disk holds meanwhile).
using SourceMap = std::map<std::string, std::string>;

// A file's bytes, refused unless a regular file of at most kMaxScriptBytes. ScriptError.
std::string read_script_file(const std::string& path);

struct ScriptLimits {
  std::size_t memory_bytes = 256u << 20;
  std::int64_t timeout_ms = 2000;  // for any one call into the script
  std::shared_ptr<const SourceMap> sources;  // files named here are loaded from these bytes
};

// Every C function a script can call is a host function: host_function<F> runs F as a region
// the watchdog never jumps out of. F must not call back into Lua (no lua_call, no lua_getfield
// on a script's table: metamethods are Lua); it may raise Lua errors.
int run_host_function(lua_State* L, int (*f)(lua_State*));
template <int (*F)(lua_State*)>
int host_function(lua_State* L) {
  return run_host_function(L, F);
}

// The script running on this thread pays for host memory allocated on its behalf: false
// when that would pass its memory limit (nothing charged). No script running: always true.
bool charge_script_memory(std::size_t bytes);
void release_script_memory(std::size_t bytes);

// How long the script running on this thread may still run (ms, at least 0), for a host
// function that waits on its behalf (a service's poll); -1: no script is running here.
std::int64_t script_time_left_ms();

class LuaRuntime {
 public:
  LuaRuntime(std::string scripts_root, ScriptLimits limits);
  ~LuaRuntime();
  LuaRuntime(const LuaRuntime&) = delete;
  LuaRuntime& operator=(const LuaRuntime&) = delete;

  lua_State* state() const { return L_; }
  const std::string& scripts_root() const { return root_; }

  // Runs a file as a chunk in the sandbox; leaves its one result on the stack.
  void run_file(const std::string& path);
  // Runs code with the full standard library (the host's own glue, e.g. FFI setup);
  // leaves its one result on the stack.
  void run_privileged(const std::string& code, const std::string& name);
  // Calls the function below nargs arguments on the stack; leaves nresults. `what` names
  // the callback in errors ("on_bar"); `script` the file.
  void call(int nargs, int nresults, const char* script, const char* what);

  // The sandbox environment table, pushed on the stack.
  void push_env();
  // Every file this state has run: scripts, then modules as they were required.
  const std::vector<std::string>& files() const { return files_; }
  const std::vector<std::string>& files_sha256() const { return files_sha256_; }  // of the bytes loaded
  // The bytes of every file this state has run, as loaded: what reloads a version as it was
  // (a paper session reverting a hot reload), whatever the disk holds now.
  std::shared_ptr<const SourceMap> loaded_sources() const { return loaded_; }
  // Pushes a file's chunk (its pinned bytes, else the file) and notes it in files(); "" or
  // the error (the script's file and line for a syntax error).
  std::string load_chunk(const std::string& path);

 private:
  struct Guard;
  std::string timed_out_message(const char* script, const char* what, std::size_t used, std::size_t grown) const;
  std::string root_;
  ScriptLimits limits_;
  std::unique_ptr<Guard> guard_;
  lua_State* L_ = nullptr;
  int env_ref_ = 0;
  std::vector<std::string> files_, files_sha256_;
  std::shared_ptr<SourceMap> loaded_ = std::make_shared<SourceMap>();
  bool stopped_ = false;    // a call timed out: the script takes no more calls
  bool abandoned_ = false;  // ...and was jumped out of: the state is not even closed
};

}  // namespace onepath
