// onepath ai run TASKS.jsonl | ai quota | explain RUN DECISION: the ai_router plugin's "ai"
// service from the command line. The host knows nothing of LLMs: it loads the plugin, starts its service,
// passes JSON both ways, draws the progress and journals the calls the plugin reports.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/console.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "core/time.hpp"
#include "data/candle_io.hpp"
#include "plugin/loader.hpp"
#include "store/journal.hpp"

namespace onepath::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Opts {
  std::string config = "ai.toml", plugin = "ai_router", tasks, out, db = kDefaultJournal;
  bool fresh = false, no_journal = false, no_progress = false, as_json = false, prompt_only = false;
  std::int64_t run = 0, decision = 0;
  int max_tokens = 600;
};

// While it lives, the plugin's journal events go to `journal` (if any) under `run_id`, with
// their own correlation id or `correlation`.
class EventsToJournal {
 public:
  EventsToJournal(Journal* journal, std::int64_t run_id, std::string correlation) {
    if (!journal) return;
    set_plugin_event_sink([journal, run_id, correlation = std::move(correlation)](const std::string& plugin, const std::string& name,
                                                                                const std::string& fields) {
      journal->event(run_id, event_correlation(fields, correlation), plugin + "." + name, fields);
    });
  }
  ~EventsToJournal() { set_plugin_event_sink({}); }
  EventsToJournal(const EventsToJournal&) = delete;
  EventsToJournal& operator=(const EventsToJournal&) = delete;
};

// The plugin loaded with the config, its service started.
std::unique_ptr<Services> start_ai(const Opts& o) {
  if (!fs::is_regular_file(o.config))
    throw InputError("no AI config at " + o.config + ": give --config FILE (an ai.toml, or a RUN.toml with an [ai] table); docs/ai-router.md");
  load_plugin(find_plugin(o.plugin), {{"config", fs::absolute(o.config).lexically_normal().string()}});
  return std::make_unique<Services>("cli");
}

class Progress {
 public:
  explicit Progress(bool on) : tty_(progress_wanted(!on)) {}
  void show(std::size_t done, std::size_t total, std::size_t failed, double cost) {
    const int pct = total ? static_cast<int>(100 * done / total) : 100;
    if (tty_) {
      std::string bar(static_cast<std::size_t>(pct / 4), '#');
      bar.resize(25, '.');
      fmt::print(stderr, "\r[{}] {}/{} tasks  {} failed  ${:.4f}   ", bar, done, total, failed, cost);
      if (done == total) fmt::print(stderr, "\n");
    } else if (pct / 10 != last_ / 10 || done == total) {
      log::info("ai_progress", {{"done", done}, {"total", total}, {"failed", failed}});
    }
    last_ = pct;
  }

 private:
  bool tty_;
  int last_ = -1;
};

int run_tasks(const Opts& o) {
  const std::string out = o.out.empty() ? (fs::path(o.tasks).parent_path() / (fs::path(o.tasks).stem().string() + ".results.jsonl")).string() : o.out;
  {
    const fs::path dir = fs::absolute(out).parent_path();
    if (!fs::is_directory(dir)) throw InputError("--out " + out + ": the folder " + dir.string() + " does not exist");
  }
  auto services = start_ai(o);

  std::unique_ptr<Journal> journal;
  std::int64_t run_id = 0;
  if (!o.no_journal) {
    journal = Journal::open(o.db);
    RunInfo info;
    info.kind = "ai";
    info.config_path = fs::absolute(o.config).lexically_normal().string();
    info.config_text = read_file(o.config);
    info.config_sha256 = sha256_hex(info.config_text);
    info.git_revision = ONEPATH_GIT_REV;
    info.files = sha256_hex(read_file(o.tasks)) + "  " + fs::absolute(o.tasks).lexically_normal().string() + "\n";
    run_id = journal->start_run(info);
  }
  const EventsToJournal events(journal.get(), run_id, "ai-" + std::to_string(run_id));

  json submitted;
  try {
    submitted = json::parse(services->call("ai", "submit", json{{"file", fs::absolute(o.tasks).string()}, {"fresh", o.fresh}}.dump()));
  } catch (const std::runtime_error& e) {  // the tasks file is wrong: nothing was asked
    if (journal) journal->delete_run(run_id);
    throw InputError(e.what());
  }
  const std::int64_t first = submitted["first"].get<std::int64_t>();
  const std::size_t total = submitted["count"].get<std::size_t>();

  install_interrupt_handler(true);  // Ctrl-C: cancel what is in flight, keep what is answered
  std::vector<std::string> lines(total);
  std::size_t done = 0, failed = 0, cached = 0;
  std::int64_t tokens_in = 0, tokens_out = 0;
  double cost = 0;
  std::map<std::string, int> by_provider;
  bool cancelled = false;
  Progress progress(!o.no_progress);
  while (done < total) {
    if (interrupted() && !cancelled) {
      services->call("ai", "cancel", "");
      cancelled = true;
    }
    const json polled = json::parse(services->call("ai", "poll", R"({"wait_ms":200})"));
    run_plugin_work();  // the calls' journal events
    for (const json& r : polled["results"]) {
      const std::int64_t i = r["index"].get<std::int64_t>() - first;
      if (i < 0 || static_cast<std::size_t>(i) >= total || !lines[static_cast<std::size_t>(i)].empty()) continue;
      json line = r;
      line["index"] = i;  // the task's place in the file, from 0
      lines[static_cast<std::size_t>(i)] = line.dump(-1, ' ', false, json::error_handler_t::replace);
      ++done;
      if (!r.value("ok", false)) {
        ++failed;
        continue;
      }
      cached += r.value("cached", false);
      if (!r.value("cached", false)) {
        tokens_in += r.value("input_tokens", std::int64_t{0});
        tokens_out += r.value("output_tokens", std::int64_t{0});
        cost += r.value("cost_usd", 0.0);
      }
      ++by_provider[r.value("provider", std::string("?"))];
    }
    progress.show(done, total, failed, cost);
  }
  services.reset();  // stops the router: nothing more arrives
  run_plugin_work();

  AtomicFile file(out);
  for (const auto& l : lines) file.write(l + "\n");
  file.commit();

  std::string providers;
  for (const auto& [p, n] : by_provider) providers += (providers.empty() ? "" : ", ") + p + " " + std::to_string(n);
  fmt::print("ai: {} tasks: {} answered ({} from earlier runs), {} failed; {} + {} tokens, ${:.6f}\n", total, total - failed, cached, failed,
             tokens_in, tokens_out, cost);
  if (!providers.empty()) fmt::print("  by provider: {}\n", providers);
  fmt::print("  results: {} (line i answers task i)\n", out);
  if (journal) {
    const json metrics = {{"tasks", total}, {"answered", total - failed}, {"cached", cached}, {"failed", failed},
                          {"input_tokens", tokens_in}, {"output_tokens", tokens_out}, {"cost_usd", cost}};
    journal->end_run(run_id, cancelled ? "interrupted" : "complete", {"", "", metrics.dump()});
    fmt::print("  journal: run {} in {} ('onepath runs show {}')\n", run_id, o.db, run_id);
  }
  if (cancelled) throw Interrupted();
  if (failed) fmt::print(stderr, "{} of {} tasks failed: their lines in {} say why\n", failed, total, out);
  return failed ? 1 : 0;
}

// One task through the service, waited for; the plugin's events go to `journal` under `run_id`.
json ask_one(Services& services, const json& task, Journal* journal, std::int64_t run_id, const std::string& correlation) {
  const EventsToJournal events(journal, run_id, correlation);
  services.call("ai", "submit", task.dump());
  for (;;) {
    const json polled = json::parse(services.call("ai", "poll", R"({"wait_ms":200})"));
    run_plugin_work();
    if (!polled["results"].empty()) return polled["results"][0];
  }
}

// The audit record of one decision, as text a model (and a person) can read.
std::string audit_record(const RunInfo& run, const DecisionRecord& d, std::int64_t number, std::size_t count) {
  std::vector<std::string> symbols;
  for (std::string rest = run.symbols; !rest.empty();) {
    const auto comma = rest.find(',');
    symbols.push_back(rest.substr(0, comma));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  const std::string symbol = d.symbol >= 0 && static_cast<std::size_t>(d.symbol) < symbols.size() ? symbols[static_cast<std::size_t>(d.symbol)] : "?";
  std::string s = fmt::format("Run {} ({}), config {}, feature set {}\n", run.id, run.kind, run.config_path, run.feature_set_version);
  s += fmt::format("Decision {} of {}: {} {} {} quantity {:.10g}, strategy version {}\n", number, count, format_iso(d.ts), symbol, d.action,
                   d.quantity, d.strategy_version.empty() ? "-" : d.strategy_version.substr(0, 16));
  s += "Outcome: " + d.outcome + "\n";
  if (!d.filter.empty() || !d.reason.empty()) s += "Filter: " + (d.filter.empty() ? "-" : d.filter) + (d.reason.empty() ? "" : ": " + d.reason) + "\n";
  if (!d.risk.empty()) s += "Risk manager's answer: " + d.risk + "\n";
  s += "Features at the decision:\n";
  for (std::size_t i = 0; i < d.features.size(); ++i)
    s += fmt::format("  {} = {:.10g}\n", i < run.feature_columns.size() ? run.feature_columns[i] : "feature " + std::to_string(i), d.features[i]);
  return s;
}

int explain(const Opts& o) {
  auto journal = Journal::open_existing(o.db);
  const auto run = journal->run(o.run);
  if (!run) throw InputError("no run " + std::to_string(o.run) + " in " + o.db + " ('onepath runs list' shows them)");
  const auto decisions = journal->decisions(o.run);
  if (o.decision < 1 || static_cast<std::size_t>(o.decision) > decisions.size())
    throw InputError(fmt::format("run {} has {} decisions: DECISION is a number from 1 to {}", o.run, decisions.size(), decisions.size()));
  const std::string record = audit_record(*run, decisions[static_cast<std::size_t>(o.decision - 1)], o.decision, decisions.size());
  const std::string system =
      "You are the forensics assistant of a systematic trading system. From the audit record alone, explain why this "
      "decision came out as it did: which features drove the strategy's signal, what the filters and the risk manager "
      "answered, and what would have changed the outcome. Be concise and concrete; say so where the record does not tell.";
  if (o.prompt_only) {
    fmt::print("{}\n\n{}", system, record);
    return 0;
  }
  auto services = start_ai(o);
  const std::string correlation = fmt::format("explain-{}-{}", o.run, o.decision);
  const json r = ask_one(*services, {{"system", system}, {"prompt", record}, {"max_tokens", o.max_tokens}}, journal.get(), o.run, correlation);
  journal->event(o.run, correlation, "explain", json{{"decision", o.decision}, {"ok", r.value("ok", false)}, {"provider", r.value("provider", "")}}.dump());
  fmt::print("{}\n", record);
  if (!r.value("ok", false)) {
    fmt::print(stderr, "no explanation: {}\n", r.value("error", std::string("?")));
    return 1;
  }
  fmt::print("{}\n\n({} {}, {} + {} tokens, ${:.6f}{})\n", r["text"].get<std::string>(), r.value("provider", ""), r.value("model", ""),
             r.value("input_tokens", 0), r.value("output_tokens", 0), r.value("cost_usd", 0.0), r.value("cached", false) ? ", from the ledger" : "");
  return 0;
}

std::string limit(std::int64_t used, std::int64_t lim) { return lim > 0 ? fmt::format("{}/{}", used, lim) : fmt::format("{}", used); }

int show_quota(const Opts& o) {
  auto services = start_ai(o);
  const json q = json::parse(services->call("ai", "quota", ""));
  if (o.as_json) {
    fmt::print("{}\n", q.dump(2));
    return 0;
  }
  fmt::print("quota ledger {} ({} UTC), reservations in flight: {}\n", q["ledger"].get<std::string>(), q["day"].get<std::string>(),
             q["reservations"].get<std::int64_t>());
  fmt::print("{:<16} {:>4} {:<18} {:>14} {:>18} {:>10} {:>12} {:>12}  {}\n", "provider", "tier", "wire", "requests today", "tokens today",
             "reserved", "cost today", "cost total", "status");
  for (const json& p : q["providers"]) {
    std::string status = p["key"].get<std::string>();
    if (p.value("disabled", false)) status = "disabled (key refused)";
    if (p.contains("cooldown_until")) status = "cooling down until " + p["cooldown_until"].get<std::string>() + ": " + p["cooldown_reason"].get<std::string>();
    fmt::print("{:<16} {:>4} {:<18} {:>14} {:>18} {:>10} {:>12} {:>12}  {}\n", p["name"].get<std::string>(), p["tier"].get<int>(),
               p["wire"].get<std::string>(), limit(p["requests_today"], p["requests_per_day"]), limit(p["tokens_today"], p["tokens_per_day"]),
               p["reserved_requests"].get<std::int64_t>(), fmt::format("${:.4f}", p["cost_today_usd"].get<double>()),
               fmt::format("${:.4f}", p["cost_total_usd"].get<double>()), status);
  }
  return 0;
}

}  // namespace

void add_ai_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("ai", "LLM work routed across providers by quota and cost tier (the ai_router plugin)");
  cmd->require_subcommand(1);
  cmd->footer(
      "The providers, tiers, quotas, prices and retry rules live in --config (default ai.toml): an ai.toml, or a\n"
      "RUN.toml with an [ai] table. API keys come from the environment variables it names.\n"
      "Examples:\n"
      "  onepath ai run tasks.jsonl --out results.jsonl --config examples/ai/ai.toml\n"
      "  onepath ai quota --config examples/ai/ai.toml\n"
      "Details: docs/ai-router.md.");
  auto common = [o](CLI::App* sub) {
    sub->add_option("--config", o->config, "The AI config: an ai.toml, or a RUN.toml with an [ai] table")->capture_default_str();
    sub->add_option("--plugin", o->plugin, "The router plugin: a name looked up in the plugin folders, or a .so path")->capture_default_str();
  };
  auto* run = cmd->add_subcommand("run", "Run a batch of tasks (JSON lines) and write the answers in task order");
  run->add_option("TASKS.jsonl", o->tasks,
                  "One task per line: {\"prompt\": ..., \"system\", \"model\" (a model class), \"max_tokens\", \"provider\" (a hint), "
                  "\"id\", \"parent\" (a hand-off from task id)}")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--out", o->out, "Where the results go, one JSON line per task in task order (default TASKS.results.jsonl)");
  run->add_flag("--fresh", o->fresh, "Ask again tasks the ledger has already answered (by default they are not paid twice)");
  run->add_option("--db", o->db, "Journal: a SQLite file or postgresql://...")->capture_default_str();
  run->add_flag("--no-journal", o->no_journal, "Do not record the batch and its calls in the journal");
  run->add_flag("--no-progress", o->no_progress, "No progress bar");
  common(run);
  run->callback([o, &action] { action = [o] { return run_tasks(*o); }; });
  auto* quota = cmd->add_subcommand("quota", "Each provider's use today, reservations in flight, cooldowns and cost");
  quota->add_flag("--json", o->as_json, "The report as JSON");
  common(quota);
  quota->callback([o, &action] { action = [o] { return show_quota(*o); }; });

  auto* ex = app.add_subcommand("explain", "Ask a model why a journaled decision came out as it did (its audit record)");
  ex->add_option("RUN", o->run, "The run's id ('onepath runs list')")->required();
  ex->add_option("DECISION", o->decision, "The decision's number in the run, from 1")->required();
  ex->add_option("--db", o->db, "Journal: a SQLite file or postgresql://...")->capture_default_str();
  ex->add_option("--max-tokens", o->max_tokens, "The answer's length limit")->capture_default_str()->check(CLI::Range(1, 100000));
  ex->add_flag("--prompt-only", o->prompt_only, "Print what would be asked (the audit record), ask nothing");
  common(ex);
  ex->footer(
      "The record sent: the decision's time, symbol, action, outcome, filter verdict, the risk manager's answer and\n"
      "every feature by name. The call is journaled with the run (an ai.call and an explain event).\n"
      "Example:\n"
      "  onepath explain 3 17 --config examples/ai/ai.toml");
  ex->callback([o, &action] { action = [o] { return explain(*o); }; });
}

}  // namespace onepath::cli
