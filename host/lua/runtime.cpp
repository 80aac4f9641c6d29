#include "lua/runtime.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <lua.hpp>
#include <pthread.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csetjmp>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "lua/json_lib.hpp"
#include "lua/sandbox.hpp"

namespace onepath {
namespace {

constexpr int kWatchdogSignal = SIGUSR2;

// Executable code of the process, as the watchdog saw it just before it signalled: LuaJIT's
// own (the interpreter, its library) or another object's. Code in no object is LuaJIT's
// compiled traces (the only anonymous executable memory the process has).
struct CodeRange {
  std::uintptr_t lo, hi;
  bool lua;
};
constexpr std::size_t kMaxRanges = 1024;

// What the signal handler and the allocator share with the calling thread.
struct CallGuard {
  sigjmp_buf jmp;
  volatile std::sig_atomic_t in_lua = 0;     // 1 while the thread executes Lua (not host code or the allocator)
  volatile std::sig_atomic_t timed_out = 0;  // the watchdog fired for the current call
  bool memory_refused = false;               // host memory for the script was refused in this call
  std::atomic<std::uint64_t> generation{0};  // one per call
  std::atomic<bool> busy{false};
  pthread_t thread{};
  std::size_t used = 0, cap = 0;  // allocator budget
  std::chrono::steady_clock::time_point deadline{};  // of the current call
  CodeRange ranges[kMaxRanges];   // written by the watchdog before it signals, read by the handler
  volatile std::sig_atomic_t range_count = 0;
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

std::uintptr_t luajit_base() {
  static const std::uintptr_t base = [] {
    Dl_info info{};
    return dladdr(reinterpret_cast<void*>(&lua_pcall), &info) ? reinterpret_cast<std::uintptr_t>(info.dli_fbase) : 0;
  }();
  return base;
}

// Not in a signal handler: dl_iterate_phdr takes the loader's lock.
void map_code(CallGuard& g) {
  struct Out {
    CallGuard* g;
    std::size_t n;
    std::uintptr_t lua_base;
  } out{&g, 0, luajit_base()};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto* o = static_cast<Out*>(data);
        for (int i = 0; i < info->dlpi_phnum && o->n < kMaxRanges; ++i) {
          const auto& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
          const std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
          o->g->ranges[o->n++] = {lo, lo + ph.p_memsz, info->dlpi_addr == o->lua_base};
        }
        return 0;
      },
      &out);
  g.range_count = static_cast<std::sig_atomic_t>(out.n);
}

bool executing_lua(const CallGuard& g, std::uintptr_t pc) {
  for (std::sig_atomic_t i = 0; i < g.range_count; ++i)
    if (pc >= g.ranges[i].lo && pc < g.ranges[i].hi) return g.ranges[i].lua;
  return true;  // compiled trace code
}

std::uintptr_t interrupted_pc(void* context) {
  const auto* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.pc);
#else
#error "the watchdog needs the interrupted program counter on this architecture"
#endif
}

void on_watchdog_signal(int, siginfo_t*, void* context) {
  CallGuard* g = t_guard;
  if (!g) return;
  g->timed_out = 1;
  if (g->in_lua && executing_lua(*g, interrupted_pc(context))) {
    g->in_lua = 0;
    siglongjmp(g->jmp, 1);
  }
  // Host code, libc, the unwinder: never jumped out of. A host function stops the script
  // at its boundary; otherwise a signal a millisecond later finds the thread in Lua.
}

void install_signal_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_watchdog_signal;
    sa.sa_flags = SA_SIGINFO;
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
  } else if (new_size > old && (g->used + (new_size - old) > g->cap)) {
    result = nullptr;  // Lua raises "not enough memory"
    // (A pending time-out refuses nothing: LuaJIT crashed on some refusals then, e.g. inside
    // string.rep; the watchdog's next signal finds the thread in Lua within a millisecond.)
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
  try {
    if (!service_caller()) throw std::runtime_error("service(): no services are running (a plugin with services loads them)");
    answer = service_caller()(service, function, request);
  } catch (const std::exception& e) {
    error = e.what();
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
  if (std::string error = static_cast<LuaRuntime*>(lua_touserdata(L, lua_upvalueindex(4)))->load_chunk(path); !error.empty())
    return luaL_error(L, "require '%s': %s", name, error.c_str());
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

std::string read_script_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw ScriptError(path + ": cannot open: " + std::strerror(errno));
  std::string error;
  struct stat st {};
  std::string bytes;
  if (::fstat(fd, &st) != 0) {
    error = path + ": cannot read: " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file; a script is a .lua file";
  } else if (static_cast<std::uint64_t>(st.st_size) > kMaxScriptBytes) {
    error = path + ": " + std::to_string(st.st_size >> 20) + " MB; a script may be at most " + std::to_string(kMaxScriptBytes >> 20) + " MB";
  } else {
    bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);  // a file that shrank meanwhile: what was there
  }
  ::close(fd);
  if (!error.empty()) throw ScriptError(error);
  return bytes;
}

// A time-out met at a host function's boundary jumps out of the call from there: nothing of
// the host's is live then (no lock, no object), and an error would be caught by pcall.
[[noreturn]] static void stop_at_boundary(CallGuard* g) {
  g->in_lua = 0;
  siglongjmp(g->jmp, 1);
}

int run_host_function(lua_State* L, int (*f)(lua_State*)) {
  CallGuard* g = t_guard;
  if (!g) return f(L);  // the host's own setup, outside any timed call
  if (g->timed_out) stop_at_boundary(g);
  struct Region {  // restored on a normal return and when f raises a Lua error
    CallGuard* g;
    std::sig_atomic_t was;
    explicit Region(CallGuard* guard) : g(guard), was(guard->in_lua) { g->in_lua = 0; }
    ~Region() { g->in_lua = was; }
  };
  int results = 0;
  {
    Region region(g);
    results = f(L);
  }
  if (g->timed_out) stop_at_boundary(g);
  return results;
}

bool charge_script_memory(std::size_t bytes) {
  CallGuard* g = t_guard;
  if (!g) return true;
  if (g->used + bytes > g->cap) {
    g->memory_refused = true;
    return false;
  }
  g->used += bytes;
  return true;
}

std::int64_t script_time_left_ms() {
  CallGuard* g = t_guard;
  if (!g) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(g->deadline - std::chrono::steady_clock::now()).count();
  return std::max<std::int64_t>(0, left);
}

void release_script_memory(std::size_t bytes) {
  if (CallGuard* g = t_guard) g->used -= std::min(bytes, g->used);
}

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
  lua_pushcfunction(L_, host_function<lua_service>);
  lua_setfield(L_, -2, "service");
  add_json_library(L_);
  lua_pushvalue(L_, -1);
  lua_setfield(L_, -2, "_G");
  lua_pushstring(L_, root_.c_str());  // env, root
  lua_newtable(L_);                   // env, root, cache
  lua_pushvalue(L_, -3);              // env, root, cache, env
  lua_pushlightuserdata(L_, this);  // loads modules (pinned bytes or the file) and notes them
  lua_pushcclosure(L_, sandbox_require, 4);
  lua_setfield(L_, -2, "require");
  env_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_settop(L_, 0);
  lua_pushcfunction(L_, traceback);  // stays at stack slot 1: every call's error handler

  Guard* g = guard_.get();
  const auto poll = std::chrono::milliseconds(std::clamp<std::int64_t>(limits.timeout_ms / 10, 1, 100));
  const std::int64_t timeout_ms = limits.timeout_ms;
  g->watchdog = std::thread([g, poll, timeout_ms] {
    std::uint64_t seen = ~0ULL, fired = ~0ULL;
    auto since = std::chrono::steady_clock::now();
    std::unique_lock lock(g->mutex);
    g->running = true;
    g->wake.notify_all();
    while (!g->wake.wait_for(lock, fired == seen ? std::chrono::milliseconds(1) : poll, [g] { return g->stop; })) {
      if (!g->busy.load(std::memory_order_acquire)) {
        seen = ~0ULL;
        continue;
      }
      std::uint64_t gen = g->generation.load(std::memory_order_relaxed);
      auto now = std::chrono::steady_clock::now();
      if (gen != seen) {
        seen = gen, since = now;
      } else if (now - since >= std::chrono::milliseconds(timeout_ms)) {
        if (fired != gen) map_code(*g), fired = gen;  // plugins may have been loaded since
        pthread_kill(g->thread, kWatchdogSignal);   // again every millisecond until the call ends
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
  if (std::string msg = load_chunk(path); !msg.empty()) throw ScriptError(msg.starts_with(path) ? msg : path + ": " + msg);
  push_env();
  lua_setfenv(L_, -2);
  call(0, 1, path.c_str(), "loading");
}

std::string LuaRuntime::load_chunk(const std::string& path) {
  std::string bytes;
  if (limits_.sources && limits_.sources->count(path)) {
    bytes = limits_.sources->at(path);
  } else {
    try {
      bytes = read_script_file(path);
    } catch (const ScriptError& e) {
      return e.what();
    }
  }
  files_.push_back(path);
  files_sha256_.push_back(sha256_hex(bytes));
  loaded_->emplace(path, bytes);
  if (luaL_loadbuffer(L_, bytes.data(), bytes.size(), ("@" + path).c_str()) != 0) {
    const char* m = lua_tostring(L_, -1);
    std::string error = m ? m : path + ": cannot load";
    lua_pop(L_, 1);
    return error;
  }
  return "";
}

void LuaRuntime::run_privileged(const std::string& code, const std::string& name) {
  if (luaL_loadbuffer(L_, code.data(), code.size(), ("=" + name).c_str()) != 0) {
    std::string msg = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    throw std::logic_error(msg);
  }
  call(0, 1, name.c_str(), "setup");
}

// A script that grows its memory slowly (the GC's work grows with the heap) meets the time
// limit before the memory limit: said as what it is when it held most of its memory.
std::string LuaRuntime::timed_out_message(const char* script, const char* what, std::size_t used, std::size_t grown) const {
  const std::string head = std::string(script) + ": " + what;
  if (grown >= limits_.memory_bytes / 4)
    return head + " was heading for the script memory limit: it held " + std::to_string(used >> 20) + " MB of its " +
           std::to_string(limits_.memory_bytes >> 20) + " MB (" + std::to_string(grown >> 20) + " MB more than when the call began) when its time limit of " +
           std::to_string(limits_.timeout_ms) + " ms stopped it (a memory hog?)";
  return head + " ran longer than " + std::to_string(limits_.timeout_ms) + " ms (an endless loop?); the script was stopped";
}

void LuaRuntime::call(int nargs, int nresults, const char* script, const char* what) {
  if (stopped_) throw ScriptError(std::string(script) + ": the script was stopped earlier; its state is no longer usable");
  Guard& g = *guard_;
  constexpr int kHandler = 1;  // the traceback handler, pushed once
  CallGuard* previous = t_guard;
  t_guard = &g;
  g.thread = pthread_self();
  g.timed_out = 0;
  g.memory_refused = false;
  g.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits_.timeout_ms);
  const std::size_t used_at_start = g.used;
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
    throw ScriptError(timed_out_message(script, what, g.used, g.used - std::min(g.used, used_at_start)));
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
      throw ScriptError(timed_out_message(script, what, g.used, g.used - std::min(g.used, used_at_start)));
    }
    if (rc == LUA_ERRMEM || g.memory_refused)
      throw ScriptError(std::string(script) + ": " + what + " reached the script memory limit of " +
                        std::to_string(limits_.memory_bytes >> 20) + " MB");
    throw ScriptError(msg + "\n(in " + what + ")");
  }
}

}  // namespace onepath
