// ai_router: the service plugin. One service, "ai", whose functions take and give JSON:
//   submit  a task, {"tasks": [...]} or {"file": "tasks.jsonl"} -> {"first": H, "count": N}
//   poll    {"wait_ms": 200} -> {"results": [...], "unfinished": N}   (results in handle order)
//   cancel  -> {}   every unfinished task ends "cancelled"; reservations are released
//   quota   -> each provider's use today, reservations, cooldowns, cost
// Its one parameter, `config`, names the TOML file with the [ai] table (or an ai.toml).
#include <memory>
#include <nlohmann/json.hpp>

#include "config.hpp"
#include "onepath/plugin.hpp"
#include "router.hpp"

namespace {

using json = nlohmann::json;

struct AiService {
  static constexpr const char* name = "ai";
  static constexpr const char* description = "routes LLM tasks across providers by quota and cost tier (docs/ai-router.md)";
  static constexpr const char* functions[] = {"submit", "poll", "cancel", "quota"};

  std::string config_path;
  const onepath_host* host;
  std::unique_ptr<ai::Router> router;

  AiService(const onepath::Params& p, const onepath_host* h) : host(h) {
    p.only({"config"});
    config_path = p.text("config", "");
    if (config_path.empty()) throw std::invalid_argument("parameter 'config' (the file with the [ai] table) is required");
  }

  void start() {
    ai::Router::Hooks hooks;
    const onepath_host* h = host;
    hooks.event = [h](const std::string& n, const std::string& fields) { h->journal_event(h->host_data, "ai", n.c_str(), fields.c_str()); };
    hooks.log = [h](int level, const std::string& m) { h->log(h->host_data, level, "ai_router", m.c_str()); };
    hooks.now_ms = [h] { return h->now_ms(h->host_data); };
    router = std::make_unique<ai::Router>(ai::load_config(config_path), hooks);
  }

  void stop() { router.reset(); }

  std::string call(std::string_view fn, std::string_view request) {
    if (!router) throw std::runtime_error("the ai service is not started");
    if (fn == "submit") {
      ai::TaskBatch b = ai::parse_tasks(std::string(request));
      const std::size_t n = b.tasks.size();
      const std::int64_t first = router->submit(std::move(b.tasks), b.fresh);
      return json{{"first", first}, {"count", n}}.dump();
    }
    if (fn == "poll") {
      const json r = json::parse(request.empty() ? std::string_view("{}") : request, nullptr, false);
      const int wait = r.is_object() && r.contains("wait_ms") && r["wait_ms"].is_number_integer()
                           ? std::clamp(r["wait_ms"].get<int>(), 0, 60000)
                           : 0;
      std::string out = "{\"results\":[";
      bool first = true;
      for (const auto& x : router->poll(wait)) {
        out += (first ? "" : ",") + x;
        first = false;
      }
      return out + "],\"unfinished\":" + std::to_string(router->unfinished()) + "}";
    }
    if (fn == "cancel") {
      router->cancel();
      return "{}";
    }
    if (fn == "quota") return router->quota_report();
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
