#include "plugin/loader.hpp"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "data/candle_io.hpp"
#include "lua/runtime.hpp"
#include "plugin/adapters.hpp"

namespace onepath {

// ---- parameters over the C ABI ----

struct CParams::Impl {
  std::vector<std::string> names, texts;
  std::vector<onepath_param> items;
  onepath_params params{};
};

CParams::CParams(const ScriptParams& params) : impl(std::make_shared<Impl>()) {
  for (const auto& [k, v] : params) {
    impl->names.push_back(k);
    std::visit([&](const auto& x) {
      using V = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<V, double>) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", x);
        impl->texts.emplace_back(buf);
      } else if constexpr (std::is_same_v<V, bool>) {
        impl->texts.emplace_back(x ? "true" : "false");
      } else {
        impl->texts.push_back(x);
      }
    }, v);
  }
  std::size_t i = 0;
  for (const auto& [k, v] : params) {
    const double* d = std::get_if<double>(&v);
    impl->items.push_back({impl->names[i].c_str(), impl->texts[i].c_str(), d ? *d : 0.0, d ? 1 : 0});
    ++i;
  }
  impl->params = {impl->items.data(), impl->items.size()};
}

const void* CParams::get() const { return &impl->params; }

namespace {

constexpr std::size_t kErrSize = 512;

// ---- what the process has loaded ----

struct Loaded {
  PluginInfo info;
  const onepath_manifest* manifest = nullptr;
  std::map<std::string, std::string> params;  // as text, for config_value
};

struct State {
  std::mutex mutex;  // loading, and the lists below
  std::vector<std::unique_ptr<Loaded>> plugins;
  std::vector<std::pair<const onepath_feed_kind*, std::string>> feeds;
  std::vector<std::pair<const onepath_service_kind*, const Loaded*>> services;
  std::map<std::string, double> counters;
  std::vector<std::pair<void (*)(void*), void*>> posted;
  struct Event {
    std::string plugin, name, fields;
  };
  std::vector<Event> events;  // journal events waiting for the session's thread
  std::atomic<bool> has_posted{false};
  std::function<void()> wake;
  std::function<void(const std::string&, const std::string&, const std::string&)> event_sink;
  Services* current = nullptr;  // the running session's services
};

State& state() {
  static auto* s = new State();  // plugins are never unloaded: neither is what knows them
  return *s;
}

// ---- the host's services table ----

void host_log(void*, std::int32_t level, const char* plugin, const char* message) {
  const log::Level l = level <= ONEPATH_LOG_DEBUG ? log::Level::debug
                       : level == ONEPATH_LOG_INFO ? log::Level::info
                       : level == ONEPATH_LOG_WARN ? log::Level::warn
                                                   : log::Level::error;
  log::event(l, "plugin_log", {{"plugin", plugin ? plugin : "?"}, {"message", message ? message : ""}});
}

std::int64_t host_now_ms(void*) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* host_config_value(void*, const char* plugin, const char* key) {
  if (!plugin || !key) return nullptr;
  std::lock_guard lock(state().mutex);
  for (const auto& p : state().plugins)
    if (p->info.name == plugin) {
      auto it = p->params.find(key);
      return it == p->params.end() ? nullptr : it->second.c_str();  // stable: params never change after loading
    }
  return nullptr;
}

// From any thread: queued, and written by the session's thread in run_plugin_work (the
// journal has one writer).
void host_journal_event(void*, const char* plugin, const char* name, const char* fields) {
  auto& s = state();
  std::string p = plugin ? plugin : "?", n = name ? name : "event", f = fields ? fields : "{}";
  std::function<void()> wake;
  {
    std::lock_guard lock(s.mutex);
    if (!s.event_sink) {
      log::debug("plugin_event", {{"plugin", p}, {"name", n}, {"fields", f}});
      return;
    }
    s.events.push_back({std::move(p), std::move(n), std::move(f)});
    s.has_posted.store(true, std::memory_order_release);
    wake = s.wake;
  }
  if (wake) wake();
}

void host_counter_add(void*, const char* name, double delta) {
  if (!name) return;
  std::lock_guard lock(state().mutex);
  state().counters[name] += delta;
}

onepath_status host_post(void*, void (*fn)(void*), void* arg) {
  if (!fn) return ONEPATH_ERROR;
  std::function<void()> wake;
  {
    std::lock_guard lock(state().mutex);
    state().posted.emplace_back(fn, arg);
    state().has_posted.store(true, std::memory_order_release);
    wake = state().wake;
  }
  if (wake) wake();
  return ONEPATH_OK;
}

onepath_status host_call_service(void*, const char* service, const char* function, const char* request, onepath_buffer* response,
                                 char* err, std::size_t err_size) {
  auto fail = [&](const std::string& m) {
    if (err && err_size) std::snprintf(err, err_size, "%s", m.c_str());
    return ONEPATH_ERROR;
  };
  if (!service || !function || !response) return fail("call_service: service, function and response are required");
  try {
    std::string answer = call_service(service, function, request ? request : "");
    return response->append(response->ctx, answer.data(), answer.size());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

std::int64_t host_script_time_left_ms(void*) { return script_time_left_ms(); }

const onepath_host& host_table() {
  static const onepath_host h{sizeof(onepath_host), ONEPATH_ABI_MAJOR, ONEPATH_ABI_MINOR, nullptr, host_log, host_now_ms,
                              host_config_value, host_journal_event, host_counter_add, host_post, host_call_service,
                              host_script_time_left_ms};
  return h;
}

// ---- loading ----

// The size of a kind's struct in ABI 1.0: fields past it are read only when struct_size covers them.
template <class Kind>
constexpr std::size_t size_v1() {
  if constexpr (std::is_same_v<Kind, onepath_indicator_kind>) return offsetof(onepath_indicator_kind, last_error);
  else return sizeof(Kind);
}

// The function pointers plugin.h does not mark "may be NULL", by name.
std::vector<std::pair<const char*, bool>> required_pointers(const onepath_indicator_kind& k) {
  return {{"create", k.create}, {"destroy", k.destroy}, {"clone", k.clone}, {"update", k.update}, {"emit", k.emit},
          {"warmup", k.warmup}, {"reset", k.reset}, {"save", k.save}, {"load", k.load}};
}
std::vector<std::pair<const char*, bool>> required_pointers(const onepath_filter_kind& k) {
  return {{"create", k.create}, {"destroy", k.destroy}, {"apply", k.apply}, {"save", k.save}, {"load", k.load}};
}
std::vector<std::pair<const char*, bool>> required_pointers(const onepath_feed_kind& k) {
  return {{"create", k.create}, {"destroy", k.destroy}, {"next", k.next}, {"save", k.save}, {"load", k.load}};
}
std::vector<std::pair<const char*, bool>> required_pointers(const onepath_service_kind& k) {
  return {{"create", k.create}, {"destroy", k.destroy}, {"call", k.call}};
}

// A declared tolerance is a number a certificate can print and a reason it can quote.
void check_tolerance(const std::string& file, const onepath_indicator_kind& k) {
  if (k.struct_size < offsetof(onepath_indicator_kind, tolerance_why) + sizeof(k.tolerance_why)) return;  // before minor 3
  const std::string kind = file + ": indicator kind '" + k.name + "'";
  if (!(k.tolerance >= 0 && k.tolerance <= 1e-3))
    throw InputError(kind + " declares a tolerance of " + std::to_string(k.tolerance) + ": it must be 0 (exact) or a relative difference up to 1e-3");
  if (k.tolerance > 0 && !(k.tolerance_why && *k.tolerance_why))
    throw InputError(kind + " declares a tolerance without saying why (tolerance_why): a certificate quotes it");
}

template <class Kind>
void check_kinds(const std::string& file, const char* what, const Kind* const* kinds, std::uint32_t count) {
  if (count && !kinds) throw InputError(file + ": the manifest lists " + std::to_string(count) + " " + what + " kinds but gives none");
  for (std::uint32_t i = 0; i < count; ++i) {
    const Kind* k = kinds[i];
    if (!k || k->struct_size < size_v1<Kind>())
      throw InputError(file + ": " + what + " kind #" + std::to_string(i + 1) + " has struct_size " + std::to_string(k ? k->struct_size : 0) +
                       ", smaller than any version of this ABI (" + std::to_string(size_v1<Kind>()) + ")");
    if (!k->name || !*k->name) throw InputError(file + ": " + what + " kind #" + std::to_string(i + 1) + " has no name");
    for (const auto& [name, given] : required_pointers(*k))
      if (!given)
        throw InputError(file + ": " + what + " kind '" + k->name + "' has no '" + name + "' function (NULL); plugin.h says which may be NULL");
    if constexpr (std::is_same_v<Kind, onepath_indicator_kind>) check_tolerance(file, *k);
  }
}

std::string hex_id(const char* s) { return s && *s ? s : "-"; }

// dlopen `file` and check its manifest; errors name `path` (what the user gave).
const onepath_manifest* open_manifest(const std::string& path, const std::string& file) {
  // RTLD_LOCAL: plugins do not see each other's symbols; RTLD_NOW: a missing symbol is
  // found now, not in the middle of a session.
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw InputError(path + ": not a loadable plugin: " + std::string(::dlerror()));
  auto entry = reinterpret_cast<onepath_manifest_fn>(::dlsym(handle, ONEPATH_MANIFEST_SYMBOL));
  if (!entry) throw InputError(path + ": not an onepath plugin (it exports no " + std::string(ONEPATH_MANIFEST_SYMBOL) + "())");
  const onepath_manifest* m = entry();
  if (!m) throw InputError(path + ": " + ONEPATH_MANIFEST_SYMBOL + "() returned no manifest");
  if (m->struct_size < sizeof(onepath_manifest))
    throw InputError(path + ": its manifest has struct_size " + std::to_string(m->struct_size) + ", smaller than any version of this ABI (" +
                     std::to_string(sizeof(onepath_manifest)) + ")");
  const std::string versions = "the plugin is built for ABI " + std::to_string(m->abi_major) + "." + std::to_string(m->abi_minor) +
                               ", this onepath has ABI " + std::to_string(ONEPATH_ABI_MAJOR) + "." + std::to_string(ONEPATH_ABI_MINOR);
  if (m->abi_major != ONEPATH_ABI_MAJOR) throw InputError(path + ": another ABI major version: " + versions);
  if (m->abi_minor > ONEPATH_ABI_MINOR) throw InputError(path + ": a newer ABI than this onepath's: " + versions + "; use a newer onepath");
  if (!m->name || !*m->name) throw InputError(path + ": the manifest has no plugin name");
  check_kinds(path, "indicator", m->indicators, m->indicator_count);
  check_kinds(path, "filter", m->filters, m->filter_count);
  check_kinds(path, "feed", m->feeds, m->feed_count);
  check_kinds(path, "service", m->services, m->service_count);
  return m;
}

template <class Kind>
std::vector<std::string> names_of(const Kind* const* kinds, std::uint32_t count) {
  std::vector<std::string> v;
  for (std::uint32_t i = 0; i < count; ++i) v.push_back(kinds[i]->name);
  return v;
}

}  // namespace

const PluginInfo& load_plugin(const std::string& path, const ScriptParams& params) {
  namespace fs = std::filesystem;
  auto& s = state();
  std::error_code ec;
  const std::string canonical = fs::weakly_canonical(path, ec).string();
  {
    std::lock_guard lock(s.mutex);
    for (const auto& p : s.plugins)
      if (p->info.path == canonical) return p->info;
  }
  if (!fs::exists(canonical)) throw InputError(path + ": no such plugin file");
  const onepath_manifest* m = open_manifest(path, canonical);

  auto loaded = std::make_unique<Loaded>();
  PluginInfo& info = loaded->info;
  info.path = canonical;
  info.name = m->name;
  info.version = m->version ? m->version : "";
  info.build_id = hex_id(m->build_id);
  info.abi_major = m->abi_major;
  info.abi_minor = m->abi_minor;
  loaded->manifest = m;
  for (const auto& [k, v] : params) {
    const std::string* text = std::get_if<std::string>(&v);
    const double* d = std::get_if<double>(&v);
    char buf[32] = "";
    if (d) std::snprintf(buf, sizeof buf, "%.17g", *d);
    loaded->params[k] = text ? *text : d ? std::string(buf) : (std::get<bool>(v) ? "true" : "false");
  }

  // Names must be free before anything is registered: all or nothing.
  {
    std::lock_guard lock(s.mutex);
    for (const auto& p : s.plugins)
      if (p->info.name == info.name) throw InputError(path + ": a plugin named '" + info.name + "' is already loaded from " + p->info.path);
  }
  for (std::uint32_t i = 0; i < m->indicator_count; ++i)
    for (const auto& k : indicator_kinds())
      if (k.kind == m->indicators[i]->name)
        throw InputError(path + ": indicator kind '" + k.kind + "' is already defined (" + k.origin + ")");
  for (std::uint32_t i = 0; i < m->filter_count; ++i)
    if (const FilterKind* k = find_filter_kind(m->filters[i]->name))
      throw InputError(path + ": filter kind '" + k->name + "' is already defined (" + k->origin + ")");
  for (std::uint32_t i = 0; i < m->feed_count; ++i) {
    const std::string n = m->feeds[i]->name;
    if (n == "replay" || n == "generated" || find_feed_kind(n)) throw InputError(path + ": feed '" + n + "' is already defined");
  }

  if (m->init) {
    char err[kErrSize] = "";
    if (m->init(&host_table(), err, sizeof err) != ONEPATH_OK)
      throw InputError(path + ": the plugin's init failed: " + (err[0] ? err : "(no message)"));
  }
  for (std::uint32_t i = 0; i < m->indicator_count; ++i) {
    const onepath_indicator_kind* k = m->indicators[i];
    if (k->output_count < 1 || k->output_count > 4 || !k->outputs)
      throw InputError(path + ": indicator kind '" + std::string(k->name) + "' must have 1 to 4 outputs");
    info.indicators.push_back(k->name);
    IndicatorConfig example{k->name, {}};
    add_indicator_kind({k->name, example, canonical, k->description ? k->description : ""},
                       [k, canonical](const IndicatorConfig& c) { return make_plugin_indicator(k, c, canonical); });
  }
  for (std::uint32_t i = 0; i < m->filter_count; ++i) {
    const onepath_filter_kind* k = m->filters[i];
    info.filters.push_back(k->name);
    add_filter_kind({k->name, canonical, ""}, [k, canonical](const FilterArgs& a) { return make_plugin_filter(k, a, canonical); });
  }
  std::lock_guard lock(s.mutex);
  for (std::uint32_t i = 0; i < m->feed_count; ++i) {
    info.feeds.push_back(m->feeds[i]->name);
    s.feeds.emplace_back(m->feeds[i], canonical);
  }
  for (std::uint32_t i = 0; i < m->service_count; ++i) {
    info.services.push_back(m->services[i]->name);
    s.services.emplace_back(m->services[i], loaded.get());
  }
  log::debug("plugin_loaded", {{"path", canonical}, {"name", info.name}, {"version", info.version}});
  s.plugins.push_back(std::move(loaded));
  return s.plugins.back()->info;
}

const PluginInfo& reload_plugin(const std::string& path, const std::function<void()>& move_state) {
  namespace fs = std::filesystem;
  auto& s = state();
  std::error_code ec;
  const std::string canonical = fs::weakly_canonical(path, ec).string();
  Loaded* loaded = nullptr;
  {
    std::lock_guard lock(s.mutex);
    for (const auto& p : s.plugins)
      if (p->info.path == canonical) loaded = p.get();
  }
  if (!loaded) throw InputError(path + ": not a loaded plugin");
  // dlopen hands back the handle it has for a path it knows: the new build is opened from a
  // copy of its own, an anonymous file of this process (memfd) read once from the build, so
  // nobody can redirect the copy or swap it before dlopen maps it.
  const int fd = ::memfd_create(("onepath-plugin-" + fs::path(canonical).filename().string()).c_str(), MFD_CLOEXEC);
  if (fd < 0) throw InputError(path + ": cannot copy the new build: " + std::strerror(errno));
  const onepath_manifest* m = nullptr;
  try {
    const std::string bytes = read_file(canonical);
    for (std::size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw InputError(path + ": cannot copy the new build: " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
    m = open_manifest(path, "/proc/self/fd/" + std::to_string(fd));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);  // mapped: the file is no longer needed
  const onepath_manifest* old = loaded->manifest;
  if (std::string(m->name) != loaded->info.name)
    throw InputError(path + ": the new build is plugin '" + m->name + "', the session has '" + loaded->info.name + "'");
  if (names_of(m->indicators, m->indicator_count) != names_of(old->indicators, old->indicator_count) ||
      names_of(m->filters, m->filter_count) != names_of(old->filters, old->filter_count) ||
      names_of(m->feeds, m->feed_count) != names_of(old->feeds, old->feed_count) ||
      names_of(m->services, m->service_count) != names_of(old->services, old->service_count))
    throw InputError(path + ": the new build registers other kinds than the running one; restart the session to change them");
  if (m->init) {
    char err[kErrSize] = "";
    if (m->init(&host_table(), err, sizeof err) != ONEPATH_OK) throw InputError(path + ": the new build's init failed: " + err);
  }
  // Point the kinds' names at the new code, move the state; undo both if the state cannot move.
  std::vector<IndicatorFactory> old_indicators;
  std::vector<FilterFactory> old_filters;
  for (std::uint32_t i = 0; i < m->indicator_count; ++i) {
    const onepath_indicator_kind* k = m->indicators[i];
    old_indicators.push_back(replace_indicator_kind(k->name, [k, canonical](const IndicatorConfig& c) { return make_plugin_indicator(k, c, canonical); }));
  }
  for (std::uint32_t i = 0; i < m->filter_count; ++i) {
    const onepath_filter_kind* k = m->filters[i];
    old_filters.push_back(replace_filter_kind(k->name, [k, canonical](const FilterArgs& a) { return make_plugin_filter(k, a, canonical); }));
  }
  try {
    if (move_state) move_state();
  } catch (...) {
    for (std::uint32_t i = 0; i < m->indicator_count; ++i) replace_indicator_kind(m->indicators[i]->name, old_indicators[i]);
    for (std::uint32_t i = 0; i < m->filter_count; ++i) replace_filter_kind(m->filters[i]->name, old_filters[i]);
    throw;
  }
  std::lock_guard lock(s.mutex);
  for (auto& [k, file] : s.feeds)
    for (std::uint32_t i = 0; i < m->feed_count; ++i)
      if (std::string(k->name) == m->feeds[i]->name) k = m->feeds[i];  // for sessions started from now on
  for (auto& [k, plugin] : s.services)
    for (std::uint32_t i = 0; i < m->service_count; ++i)
      if (plugin == loaded && std::string(k->name) == m->services[i]->name) k = m->services[i];
  loaded->manifest = m;  // the old copy stays mapped: nothing of a plugin is ever unloaded
  loaded->info.version = m->version ? m->version : "";
  loaded->info.build_id = hex_id(m->build_id);
  ++loaded->info.reloads;
  return loaded->info;
}

std::string find_plugin(const std::string& name) {
  namespace fs = std::filesystem;
  if (name.find('/') != std::string::npos || name.ends_with(".so")) return name;
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("ONEPATH_PLUGIN_PATH")) {
    std::string list = env;
    for (std::size_t at = 0; at <= list.size();) {
      const std::size_t end = std::min(list.find(':', at), list.size());
      if (end > at) dirs.emplace_back(list.substr(at, end - at));
      at = end + 1;
    }
  }
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    const fs::path exe_dir = fs::path(std::string(self, static_cast<std::size_t>(n))).parent_path();
    dirs.push_back(exe_dir / "plugins");                         // a build tree: build/onepath, build/plugins/
    dirs.push_back(exe_dir.parent_path() / ONEPATH_PLUGIN_RELDIR);  // installed: bin/onepath, lib/.../onepath/plugins/
  }
  std::string looked;
  for (const auto& d : dirs) {
    const fs::path candidate = d / (name + ".so");
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    looked += "\n  " + candidate.string();
  }
  throw InputError("plugin '" + name + "' not found; looked at:" + looked + "\n(set ONEPATH_PLUGIN_PATH, or give the .so file's path)");
}

std::vector<PluginInfo> loaded_plugins() {
  std::lock_guard lock(state().mutex);
  std::vector<PluginInfo> out;
  for (const auto& p : state().plugins) out.push_back(p->info);
  return out;
}

const onepath_feed_kind* find_feed_kind(const std::string& name, std::string* origin) {
  for (const auto& [k, file] : state().feeds)
    if (name == k->name) {
      if (origin) *origin = file;
      return k;
    }
  return nullptr;
}

std::vector<std::string> feed_kind_names() {
  std::vector<std::string> v;
  for (const auto& [k, file] : state().feeds) v.push_back(k->name);
  return v;
}

// ---- services ----

struct Services::Instance {
  const onepath_service_kind* kind;
  std::string file;
  void* p = nullptr;
  bool started = false;
  ~Instance() {
    if (started && kind->stop) kind->stop(p);
    if (p) kind->destroy(p);
  }
};

Services::Services(const std::string& driver) {
  std::vector<std::pair<const onepath_service_kind*, const Loaded*>> kinds;
  {
    std::lock_guard lock(state().mutex);
    kinds = state().services;
  }
  for (const auto& [k, plugin] : kinds) {
    auto inst = std::make_unique<Instance>();
    inst->kind = k;
    inst->file = plugin->info.path;
    ScriptParams params;
    for (const auto& [key, text] : plugin->params) params[key] = text;
    params["onepath.driver"] = driver;
    CParams c(params);
    char err[kErrSize] = "";
    if (k->create(static_cast<const onepath_params*>(c.get()), &host_table(), &inst->p, err, sizeof err) != ONEPATH_OK)
      throw InputError(inst->file + ": service '" + k->name + "' cannot be created: " + err);
    if (k->start && k->start(inst->p, err, sizeof err) != ONEPATH_OK)
      throw InputError(inst->file + ": service '" + k->name + "' did not start: " + err);
    inst->started = true;
    instances_.push_back(std::move(inst));
  }
  std::lock_guard lock(state().mutex);
  state().current = this;
  set_service_caller(call_service);
}

Services::~Services() {
  {
    std::lock_guard lock(state().mutex);
    if (state().current == this) {
      state().current = nullptr;
      set_service_caller({});
    }
  }
  while (!instances_.empty()) instances_.pop_back();  // stopped in the reverse order of starting
}

std::string Services::call(const std::string& service, const std::string& function, const std::string& request) {
  for (const auto& i : instances_) {
    if (service != i->kind->name) continue;
    bool known = false;
    for (std::uint32_t f = 0; f < i->kind->function_count; ++f) known = known || function == i->kind->functions[f];
    if (!known) {
      std::string names;
      for (std::uint32_t f = 0; f < i->kind->function_count; ++f) names += (names.empty() ? "" : ", ") + std::string(i->kind->functions[f]);
      throw InputError("service '" + service + "' has no function '" + function + "' (it has: " + names + ")");
    }
    StringBuffer answer;
    char err[kErrSize] = "";
    if (i->kind->call(i->p, function.c_str(), request.c_str(), &answer.c, err, sizeof err) != ONEPATH_OK)
      throw std::runtime_error(service + "." + function + ": " + (err[0] ? err : "failed"));
    return answer.bytes;
  }
  std::string names;
  for (const auto& i : instances_) names += (names.empty() ? "" : ", ") + std::string(i->kind->name);
  throw InputError("no service '" + service + "' (running: " + (names.empty() ? "none" : names) + ")");
}

std::string call_service(const std::string& service, const std::string& function, const std::string& request) {
  Services* current = nullptr;
  {
    std::lock_guard lock(state().mutex);
    current = state().current;
  }
  if (!current) throw InputError("no service '" + service + "': no session with services is running");
  return current->call(service, function, request);
}

// ---- posted work, events, counters ----

void run_plugin_work() {
  auto& s = state();
  if (!s.has_posted.load(std::memory_order_acquire)) return;
  std::vector<std::pair<void (*)(void*), void*>> work;
  std::vector<State::Event> events;
  std::function<void(const std::string&, const std::string&, const std::string&)> sink;
  {
    std::lock_guard lock(s.mutex);
    work.swap(s.posted);
    events.swap(s.events);
    sink = s.event_sink;
    s.has_posted.store(false, std::memory_order_release);
  }
  for (const auto& e : events)
    if (sink) sink(e.plugin, e.name, e.fields);
  for (const auto& [fn, arg] : work) fn(arg);
}

void set_plugin_wake(std::function<void()> wake) {
  std::lock_guard lock(state().mutex);
  state().wake = std::move(wake);
}

void set_plugin_event_sink(std::function<void(const std::string&, const std::string&, const std::string&)> sink) {
  std::lock_guard lock(state().mutex);
  state().event_sink = std::move(sink);
}

std::string event_correlation(const std::string& fields_json, const std::string& fallback) {
  const auto j = nlohmann::json::parse(fields_json, nullptr, false);
  if (j.is_object() && j.contains("correlation_id") && j["correlation_id"].is_string()) return j["correlation_id"].get<std::string>();
  return fallback;
}

std::map<std::string, double> plugin_counters() {
  std::lock_guard lock(state().mutex);
  return state().counters;
}

}  // namespace onepath
