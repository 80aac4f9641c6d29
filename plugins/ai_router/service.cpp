// ai_router: the service plugin. One service, "ai", whose functions take and give JSON:
//   submit  a task, {"tasks": [...]} or {"file": "tasks.jsonl"} -> {"first": H, "count": N}
//   poll    {"wait_ms": 200} -> {"results": [...], "unfinished": N}   (results in handle order)
//   cancel  -> {}   every unfinished task ends "cancelled"; reservations are released
//   quota   -> each provider's use today, reservations, cooldowns, cost
// Parameters ([[plugins]] params): `config`, the TOML file with the [ai] table (or an
// ai.toml); `record`, a file each answer is appended to (with the key of what was asked);
// `recorded`, such a file: in a backtest, answers come from it and no provider is called.
// The host adds `onepath.driver` (backtest, paper, cli). A backtest without `recorded` is
// refused: it must be reproducible.
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "config.hpp"
#include "onepath/plugin.hpp"
#include "router.hpp"

namespace {

using json = nlohmann::json;

// Answers recorded by an earlier session, by the key of what was asked.
std::map<std::string, json> read_recorded(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("recorded answers " + path + ": cannot read the file");
  std::map<std::string, json> answers;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("key") || !j["key"].is_string() || !j.contains("result"))
      throw std::invalid_argument(path + ":" + std::to_string(n) + ": not a recorded answer ({\"key\": ..., \"result\": {...}})");
    answers[j["key"].get<std::string>()] = j["result"];
  }
  return answers;
}

struct AiService {
  static constexpr const char* name = "ai";
  static constexpr const char* description = "routes LLM tasks across providers by quota and cost tier (docs/ai-router.md)";
  static constexpr const char* functions[] = {"submit", "poll", "cancel", "quota"};

  std::string config_path, driver, record_path, recorded_path;
  const onepath_host* host;
  std::unique_ptr<ai::Router> router;
  // A backtest's answers: from the recorded file, ready at once, handed over by the next poll.
  std::map<std::string, json> recorded;
  std::vector<std::string> replayed;
  std::int64_t next_handle = 1;
  std::map<std::int64_t, std::string> keys;  // handle -> answer key, for `record`

  AiService(const onepath::Params& p, const onepath_host* h) : host(h) {
    p.only({"config", "record", "recorded", "onepath.driver", "onepath.config"});
    // Paths are relative to the RUN.toml that loaded the plugin; without `config`, its [ai] table.
    const std::string run_toml = p.text("onepath.config", "");
    const std::filesystem::path dir = std::filesystem::path(run_toml).parent_path();
    auto resolve = [&](const std::string& s) { return s.empty() || s[0] == '/' || dir.empty() ? s : (dir / s).lexically_normal().string(); };
    config_path = resolve(p.text("config", run_toml));
    driver = p.text("onepath.driver", "cli");
    record_path = resolve(p.text("record", ""));
    recorded_path = resolve(p.text("recorded", ""));
    if (config_path.empty()) throw std::invalid_argument("parameter 'config' (the file with the [ai] table) is required");
  }

  bool replaying() const { return driver == "backtest"; }

  // A sandboxed script's call: the ms its callback may still run; -1 when the host called.
  static constexpr std::size_t kMaxScriptQueue = 1000;  // tasks unfinished or not yet polled
  std::int64_t script_time_left() const {
    const bool has = host->struct_size >= offsetof(onepath_host, script_time_left_ms) + sizeof host->script_time_left_ms;
    return has && host->script_time_left_ms ? host->script_time_left_ms(host->host_data) : -1;
  }

  void start() {
    if (replaying()) {
      if (!recorded_path.empty()) recorded = read_recorded(recorded_path);
      return;  // a backtest calls no provider
    }
    ai::Router::Hooks hooks;
    const onepath_host* h = host;
    hooks.event = [h](const std::string& n, const std::string& fields) { h->journal_event(h->host_data, "ai", n.c_str(), fields.c_str()); };
    hooks.log = [h](int level, const std::string& m) { h->log(h->host_data, level, "ai_router", m.c_str()); };
    hooks.now_ms = [h] { return h->now_ms(h->host_data); };
    router = std::make_unique<ai::Router>(ai::load_config(config_path), hooks);
  }

  void stop() { router.reset(); }

  std::string submit(const std::string& request) {
    const bool script = script_time_left() >= 0;
    if (script) {  // a sandboxed script reads no files, not even through the router
      const json r = json::parse(request, nullptr, false);
      if (r.is_object() && r.contains("file"))
        throw std::invalid_argument("ai.submit: a script cannot submit a file; give the tasks in the request ({\"tasks\": [...]})");
    }
    ai::TaskBatch b = ai::parse_tasks(request);
    const std::size_t n = b.tasks.size();
    if (script) {
      const std::size_t queued = replaying() ? replayed.size() : router->unfinished();
      if (queued + n > kMaxScriptQueue)
        throw std::invalid_argument("ai.submit: refused, " + std::to_string(queued) + " tasks are queued and a script may queue at most " +
                                    std::to_string(kMaxScriptQueue) + "; poll for results before submitting more");
    }
    if (replaying()) {
      if (recorded_path.empty())
        throw std::invalid_argument(
            "ai.submit is refused in a backtest: a backtest must be reproducible. Record a paper session's answers "
            "([[plugins]] params.record = FILE) and give them to the backtest (params.recorded = FILE)");
      const std::int64_t first = next_handle;
      for (const auto& t : b.tasks) {
        auto it = recorded.find(ai::answer_key(t));
        json r = it != recorded.end() ? it->second
                                      : json{{"ok", false}, {"error", "no recorded answer for this task in " + recorded_path}};
        r["index"] = next_handle++;
        r["recorded"] = true;
        replayed.push_back(r.dump());
      }
      return json{{"first", first}, {"count", n}}.dump();
    }
    std::vector<std::string> task_keys;
    for (const auto& t : b.tasks) task_keys.push_back(ai::answer_key(t));
    const std::int64_t first = router->submit(std::move(b.tasks), b.fresh);
    if (!record_path.empty())
      for (std::size_t i = 0; i < n; ++i) keys[first + static_cast<std::int64_t>(i)] = task_keys[i];
    return json{{"first", first}, {"count", n}}.dump();
  }

  std::string poll(const std::string& request) {
    const json r = json::parse(request.empty() ? std::string("{}") : request, nullptr, false);
    int wait = r.is_object() && r.contains("wait_ms") && r["wait_ms"].is_number_integer() ? std::clamp(r["wait_ms"].get<int>(), 0, 60000) : 0;
    // A script waits within its own time limit (less a margin for the answer), never past it.
    if (const std::int64_t left = script_time_left(); left >= 0) wait = static_cast<int>(std::min<std::int64_t>(wait, left / 2));
    std::vector<std::string> results;
    std::size_t unfinished = 0;
    if (replaying()) {
      results.swap(replayed);
    } else {
      results = router->poll(wait);
      unfinished = router->unfinished();
      if (!record_path.empty()) record(results);
    }
    std::string out = "{\"results\":[";
    for (std::size_t i = 0; i < results.size(); ++i) out += (i ? "," : "") + results[i];
    return out + "],\"unfinished\":" + std::to_string(unfinished) + "}";
  }

  // Answers appended to `record` as they are handed over: a later backtest replays them.
  void record(const std::vector<std::string>& results) {
    std::ofstream out(record_path, std::ios::app);
    for (const auto& s : results) {
      json r = json::parse(s, nullptr, false);
      if (!r.is_object() || !r.value("ok", false)) continue;
      auto it = keys.find(r["index"].get<std::int64_t>());
      if (it == keys.end()) continue;
      r.erase("index");
      out << json{{"key", it->second}, {"result", r}}.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      keys.erase(it);
    }
    if (!out) throw std::runtime_error("record " + record_path + ": cannot append");
  }

  std::string call(std::string_view fn, std::string_view request) {
    if (fn == "submit") return submit(std::string(request));
    if (fn == "poll") return poll(std::string(request));
    if (fn == "cancel") {
      if (router) router->cancel();
      return "{}";
    }
    if (fn == "quota") {
      if (!router) throw std::runtime_error("no quota in a backtest: it calls no provider");
      return router->quota_report();
    }
    throw std::invalid_argument("no function '" + std::string(fn) + "' (known: submit, poll, cancel, quota)");
  }
};

const onepath_service_kind ai_service = onepath::service_kind<AiService>();
const onepath_service_kind* const services[] = {&ai_service};

const onepath_manifest manifest = [] {
  onepath_manifest m{};
  m.struct_size = sizeof m;
  m.abi_major = ONEPATH_ABI_MAJOR;
  m.abi_minor = ONEPATH_ABI_MINOR;
  m.name = "ai_router";
  m.version = "0.1.0";
  m.build_id = ONEPATH_BUILD_ID;
  m.services = services;
  m.service_count = 1;
  return m;
}();

}  // namespace

extern "C" ONEPATH_EXPORT const onepath_manifest* onepath_plugin_manifest(void) { return &manifest; }
