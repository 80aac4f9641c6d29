#pragma once
// Native plugins (sdk/include/onepath/plugin.h): loading a shared object, checking its
// manifest, giving it the host's services, and adding its kinds where the host looks for
// kinds: indicators to the indicator registry, filters to the filter kinds, feeds and
// services here. A plugin is loaded once per process and never unloaded.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/params.hpp"

struct onepath_feed_kind;

namespace onepath {

struct PluginInfo {
  std::string path, name, version, build_id;
  std::uint32_t abi_major = 0, abi_minor = 0;
  std::vector<std::string> indicators, filters, feeds, services;
  std::size_t reloads = 0;
};

// Loads the shared object at `path` (a second call with the same file returns the first
// load), checks its manifest, calls its init, and registers its kinds. InputError naming
// the file for a file that is not a plugin of this ABI, a refused init, a registration
// smaller than any known version, or a name another kind has; nothing is registered then.
const PluginInfo& load_plugin(const std::string& path, const ScriptParams& params = {});
std::vector<PluginInfo> loaded_plugins();
// A plugin's file from its name ("ai_router"): the folders of $ONEPATH_PLUGIN_PATH, then
// plugins/ beside the program (a build tree), then the installed plugins folder. A path (a
// '/' or ".so") is returned as given. InputError listing where it looked.
std::string find_plugin(const std::string& name);

// Hot reload: a new build of a loaded plugin's file. A copy of it is opened (dlopen would
// hand back the old handle for the same path), checked to be the same plugin with the same
// kinds, and its kinds' names are pointed at the new code; then `move_state` rebuilds
// what uses them from saved state (Session::rebuild_native). When that throws, the names
// point at the old code again and the error goes on. The old copy is retired, never
// unloaded. Running service and feed instances keep the code they started with.
const PluginInfo& reload_plugin(const std::string& path, const std::function<void()>& move_state);

// A loaded plugin's feed kind by name (nullptr: none), and the file it came from.
const onepath_feed_kind* find_feed_kind(const std::string& name, std::string* origin = nullptr);
std::vector<std::string> feed_kind_names();

// Parameters as the C ABI passes them; `storage` keeps the texts alive.
struct CParams {
  explicit CParams(const ScriptParams& params);
  struct Impl;
  std::shared_ptr<Impl> impl;
  const void* get() const;  // const onepath_params*
};

// The services of every loaded plugin, created and started for one session and stopped
// with it. While one exists, Lua's service(name, fn, request) and onepath_host's
// call_service reach it.
class Services {
 public:
  // `driver` (backtest, paper, cli) reaches each service as its `onepath.driver` parameter.
  explicit Services(const std::string& driver);  // InputError when a service cannot be created or started
  ~Services();
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;
  // A service's answer; InputError for an unknown service or function, std::runtime_error
  // for a call that failed.
  std::string call(const std::string& service, const std::string& function, const std::string& request);

 private:
  struct Instance;
  std::vector<std::unique_ptr<Instance>> instances_;
};
std::string call_service(const std::string& service, const std::string& function, const std::string& request);

// What plugins post back (onepath_host.post) runs here, on the session's thread; drivers
// call it between time slices. `wake` (e.g. a post to an event loop) is told when work arrives.
void run_plugin_work();
void set_plugin_wake(std::function<void()> wake);
// Journal events plugins send (onepath_host.journal_event) go here; unset, to the log.
void set_plugin_event_sink(std::function<void(const std::string& plugin, const std::string& name, const std::string& fields)> sink);
// The correlation id of a plugin's event: its fields' "correlation_id", else `fallback`.
std::string event_correlation(const std::string& fields_json, const std::string& fallback);
// Counters plugins keep (onepath_host.counter_add).
std::map<std::string, double> plugin_counters();

}  // namespace onepath
