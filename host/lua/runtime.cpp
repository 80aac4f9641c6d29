#include "lua/runtime.hpp"

#include <lua.hpp>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csetjmp>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "lua/json_lib.hpp"
#include "lua/sandbox.hpp"

namespace onepath {
namespace {

constexpr int kWatchdogSignal = SIGUSR2;

// What the signal handler and the allocator share with the calling thread.
struct CallGuard {
  sigjmp_buf jmp;
  volatile std::sig_atomic_t in_lua = 0;     // 1 while the thread executes Lua (jumping out is safe)
  volatile std::sig_atomic_t timed_out = 0;  // the watchdog fired for the current call
  std::atomic<std::uint64_t> generation{0};  // one per call
  std::atomic<bool> busy{false};
  pthread_t thread{};
  std::size_t used = 0, cap = 0;  // allocator budget
};

thread_local CallGuard* t_guard = nullptr;

// States a call was jumped out of: never closed (they may be mid-operation), kept here so
// that they stay reachable, and deliberately, for the rest of the process.
struct AbandonedState {
  lua_State* L;
  void* guard;
};
std::vector<AbandonedState>& abandoned_states() {
  static auto* list = new std::vector<AbandonedState>();
  return *list;
}
std::mutex g_abandoned_mutex;

void on_watchdog_signal(int) {
  CallGuard* g = t_guard;
  if (!g) return;
  g->timed_out = 1;
  if (g->in_lua) {
    g->in_lua = 0;
    siglongjmp(g->jmp, 1);
  }
  // In host code or the allocator: they turn timed_out into an error on their way out.
}

void install_signal_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = on_watchdog_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(kWatchdogSignal, &sa, nullptr);
  });
}

void* capped_alloc(void* ud, void* ptr, std::size_t old_size, std::size_t new_size) {
  auto* g = static_cast<CallGuard*>(ud);
  std::sig_atomic_t was_in_lua = g->in_lua;
  g->in_lua = 0;  // never jump out of malloc
  void* result = nullptr;
  std::size_t old = ptr ? old_size : 0;
  if (new_size == 0) {
    std::free(ptr);
    g->used -= old;
  } else if (new_size > old && (g->used + (new_size - old) > g->cap || (g->timed_out && was_in_lua))) {
    result = nullptr;  // Lua raises "not enough memory"; a pending time-out is reported as such
  } else {
    result = std::realloc(ptr, new_size);
    if (result) g->used = g->used - old + new_size;
  }
  g->in_lua = was_in_lua;
  return result;
}

ServiceCaller& service_caller() {
  static ServiceCaller caller;
  return caller;
}

// service(name, function, request): a native service's answer, as a string.
int lua_service(lua_State* L) {
  std::string service = luaL_checkstring(L, 1), function = luaL_checkstring(L, 2);
  std::string request = luaL_optstring(L, 3, "");
  std::string answer, error;
  {
    CallGuard* g = t_guard;
    const std::sig_atomic_t was = g ? g->in_lua : 0;
    if (g) g->in_lua = 0;  // host code: the watchdog must not jump over it
    try {
      if (!service_caller()) throw std::runtime_error("service(): no services are running (a plugin with services loads them)");
      answer = service_caller()(service, function, request);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (g) g->in_lua = was;
  }
  if (!error.empty()) return luaL_error(L, "%s", error.c_str());
  lua_pushlstring(L, answer.data(), answer.size());
  return 1;
}

int traceback(lua_State* L) {
  const char* msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  return 1;
}

// require(name) inside the scripts tree: "lib.util" -> ROOT/lib/util.lua, run once, cached.
int sandbox_require(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  std::string n = name;
  if (n.empty() || n.find("..") != std::string::npos || n.find('/') != std::string::npos || n.front() == '.')
    return luaL_error(L, "require: '%s' is not a module name inside the scripts folder", name);
  lua_pushvalue(L, lua_upvalueindex(2));  // cache
  lua_getfield(L, -1, name);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  for (char& c : n)
    if (c == '.') c = '/';
  std::string path = std::string(lua_tostring(L, lua_upvalueindex(1))) + "/" + n + ".lua";
  if (luaL_loadfile(L, path.c_str()) != 0) return lua_error(L);
  static_cast<std::vector<std::string>*>(lua_touserdata(L, lua_upvalueindex(4)))->push_back(path);
  lua_pushvalue(L, lua_upvalueindex(3));  // env
  lua_setfenv(L, -2);
  lua_call(L, 0, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, name);  // cache[name] = module
  return 1;
}

}  // namespace

void set_service_caller(ServiceCaller caller) { service_caller() = std::move(caller); }

struct LuaRuntime::Guard : CallGuard {
  std::thread watchdog;
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false, running = false;
};

LuaRuntime::LuaRuntime(std::string scripts_root, ScriptLimits limits)
    : root_(std::move(scripts_root)), limits_(limits), guard_(std::make_unique<Guard>()) {
  install_signal_handler();
  guard_->cap = limits.memory_bytes;
  L_ = lua_newstate(capped_alloc, static_cast<CallGuard*>(guard_.get()));
  if (!L_) throw std::runtime_error("cannot create a Lua state");
  push_sandbox_env(L_, SandboxProfile::script);  // env
  lua_pushcfunction(L_, lua_service);
  lua_setfield(L_, -2, "service");
  add_json_library(L_);
  lua_pushvalue(L_, -1);
  lua_setfield(L_, -2, "_G");
  lua_pushstring(L_, root_.c_str());  // env, root
  lua_newtable(L_);                   // env, root, cache
  lua_pushvalue(L_, -3);              // env, root, cache, env
  lua_pushlightuserdata(L_, &files_);  // where loaded modules are noted
  lua_pushcclosure(L_, sandbox_require, 4);
  lua_setfield(L_, -2, "require");
  env_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_settop(L_, 0);
  lua_pushcfunction(L_, traceback);  // stays at stack slot 1: every call's error handler

  Guard* g = guard_.get();
  const auto poll = std::chrono::milliseconds(std::clamp<std::int64_t>(limits.timeout_ms / 10, 1, 100));
  const std::int64_t timeout_ms = limits.timeout_ms;
  g->watchdog = std::thread([g, poll, timeout_ms] {
    std::uint64_t seen = ~0ULL;
    auto since = std::chrono::steady_clock::now();
    std::unique_lock lock(g->mutex);
    g->running = true;
    g->wake.notify_all();
    while (!g->wake.wait_for(lock, poll, [g] { return g->stop; })) {
      if (!g->busy.load(std::memory_order_acquire)) {
        seen = ~0ULL;
        continue;
      }
      std::uint64_t gen = g->generation.load(std::memory_order_relaxed);
      auto now = std::chrono::steady_clock::now();
      if (gen != seen) {
        seen = gen, since = now;
      } else if (now - since >= std::chrono::milliseconds(timeout_ms)) {
        pthread_kill(g->thread, kWatchdogSignal);  // again on every poll until the call ends
      }
    }
  });
  // Returns once the thread runs: a thread still starting may hold a runtime library's
  // locks, and a hot reload forks a validator right after (a child can inherit them held).
  std::unique_lock lock(g->mutex);
  g->wake.wait(lock, [g] { return g->running; });
}

LuaRuntime::~LuaRuntime() {
  {
    std::lock_guard lock(guard_->mutex);
    guard_->stop = true;
  }
  guard_->wake.notify_all();
  guard_->watchdog.join();
  if (abandoned_) {
    // A call was jumped out of: the state may be mid-operation. It is left as it is; the
    // allocator's user data (the guard) must outlive it.
    log::warn("lua_state_abandoned", {{"scripts", root_}});
    std::lock_guard lock(g_abandoned_mutex);
    abandoned_states().push_back({L_, guard_.release()});
    return;
  }
  lua_close(L_);
}

void LuaRuntime::push_env() { lua_rawgeti(L_, LUA_REGISTRYINDEX, env_ref_); }

void LuaRuntime::run_file(const std::string& path) {
  files_.push_back(path);
  if (luaL_loadfile(L_, path.c_str()) != 0) {
    std::string msg = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    throw ScriptError(msg.starts_with(path) ? msg : path + ": " + msg);
  }
  push_env();
  lua_setfenv(L_, -2);
  call(0, 1, path.c_str(), "loading");
}

void LuaRuntime::run_privileged(const std::string& code, const std::string& name) {
  if (luaL_loadbuffer(L_, code.data(), code.size(), ("=" + name).c_str()) != 0) {
    std::string msg = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    throw std::logic_error(msg);
  }
  call(0, 1, name.c_str(), "setup");
}

void LuaRuntime::enter_host() { guard_->in_lua = 0; }

void LuaRuntime::resume_lua() { guard_->in_lua = 1; }

void LuaRuntime::call(int nargs, int nresults, const char* script, const char* what) {
  if (stopped_) throw ScriptError(std::string(script) + ": the script was stopped earlier; its state is no longer usable");
  Guard& g = *guard_;
  constexpr int kHandler = 1;  // the traceback handler, pushed once
  CallGuard* previous = t_guard;
  t_guard = &g;
  g.thread = pthread_self();
  g.timed_out = 0;
  g.generation.store(g.generation.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer
  g.busy.store(true, std::memory_order_release);
  int rc = 0;
  if (sigsetjmp(g.jmp, 0) == 0) {
    g.in_lua = 1;
    rc = lua_pcall(L_, nargs, nresults, kHandler);
    g.in_lua = 0;
  } else {  // jumped out of the script by the watchdog: abandon the state
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, kWatchdogSignal);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    g.busy.store(false, std::memory_order_release);
    t_guard = previous;
    stopped_ = abandoned_ = true;
    throw ScriptError(std::string(script) + ": " + what + " ran longer than " + std::to_string(limits_.timeout_ms) +
                      " ms (an endless loop?); the script was stopped");
  }
  g.busy.store(false, std::memory_order_release);
  t_guard = previous;
  if (rc != 0) {
    const char* m = lua_tostring(L_, -1);
    std::string msg = m ? m : "(error object is not a string)";
    lua_pop(L_, 1);  // the message
    if (g.timed_out) {
      g.timed_out = 0;
      stopped_ = true;
      throw ScriptError(std::string(script) + ": " + what + " ran longer than " + std::to_string(limits_.timeout_ms) +
                        " ms (an endless loop?); the script was stopped");
    }
    if (rc == LUA_ERRMEM)
      throw ScriptError(std::string(script) + ": " + what + " reached the script memory limit of " +
                        std::to_string(limits_.memory_bytes >> 20) + " MB");
    throw ScriptError(msg + "\n(in " + what + ")");
  }
}

}  // namespace onepath
