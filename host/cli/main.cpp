#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/console.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/memory_budget.hpp"
#include "core/log.hpp"

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// "unknown command 'backtes'; did you mean 'backtest'?" for a word where a command of
// `app` belongs; "" when the word is a command.
std::string unknown_command(const CLI::App& app, const std::string& word) {
  std::string closest, names;
  std::size_t best = std::max<std::size_t>(2, word.size() / 3 + 1);  // suggest only what is a few edits away
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    const std::string& name = sub->get_name();
    if (name == word) return "";
    names += (names.empty() ? "" : ", ") + name;
    if (const std::size_t d = edit_distance(word, name); d < best) best = d, closest = name;
  }
  return "unknown command '" + word + "'" + (closest.empty() ? "" : "; did you mean '" + closest + "'?") + " (commands: " + names + ")";
}

// "unknown option --timefrane; did you mean --timeframe?" when `name` is neither an option
// of `command` (or of a command above it) nor a global one; "" when it is.
std::string unknown_option(const CLI::App& command, const CLI::App& app, const std::string& name) {
  std::vector<std::string> known;
  for (const CLI::App* c = &command; c; c = c->get_parent())
    for (const CLI::Option* o : c->get_options())
      for (const auto& l : o->get_lnames()) known.push_back("--" + l);
  for (const CLI::Option* o : app.get_options())
    for (const auto& l : o->get_lnames()) known.push_back("--" + l);
  std::string closest;
  std::size_t best = std::max<std::size_t>(2, name.size() / 3 + 1);
  for (const auto& k : known) {
    if (k == name) return "";
    if (const std::size_t d = edit_distance(name, k); d < best) best = d, closest = k;
  }
  std::string path;
  for (const CLI::App* c = &command; c->get_parent(); c = c->get_parent()) path = c->get_name() + " " + path;
  return "unknown option " + name + (closest.empty() ? "" : "; did you mean " + closest + "?") + " ('onepath " + path + "--help' lists them)";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace onepath;
  CLI::App app{"onepath: a trading research and execution host. One code path for backtest, paper and live."};
  app.set_version_flag("--version", std::string("onepath ") + ONEPATH_VERSION + " (" + ONEPATH_GIT_REV + ")");
  app.require_subcommand(1);
  app.fallthrough();  // options of a command (runs --db) and global ones (--log-level) also after a subcommand
  app.footer(
      "Examples:\n"
      "  onepath backtest examples/quickstart.toml               backtest a Lua strategy\n"
      "  onepath paper examples/quickstart.toml --set paper.feed=generated   a paper session\n"
      "  onepath runs list                                       the journal of runs\n"
      "  onepath report 1                                        run 1 as one HTML page\n"
      "  onepath init mybot                                      a project folder to start from\n"
      "  onepath indicators ema                                  what a kind takes and gives\n"
      "  onepath data gen --symbols BTC,ETH,SOL --out market/    generate a synthetic market\n"
      "  onepath data check market/BTC.csv                       validate candles, list gaps\n"
      "  onepath data resample market/BTC.csv --to 1h            aggregate to a higher timeframe\n"
      "  onepath enrich --data market/BTC.csv --features scripts/features/example.lua --out f.csv\n"
      "  onepath plugins inspect build/plugins/ta_extra.so       what a native plugin adds\n"
      "  onepath bench indicators                                measure every indicator\n"
      "Run 'onepath COMMAND --help' for more; 'source <(onepath completion bash)' completes commands.\n"
      "Exit codes: 0 ok, 1 the work failed, 2 bad usage or input, 130 interrupted.");

  std::string log_format = "text", log_level = "info";
  app.add_option("--log-format", log_format, "Logs on stderr: 'text' (readable) or 'json' (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", log_level, "debug, info, warn, error or critical")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "critical"}));
  bool quiet = false, verbose = false;
  app.add_flag("-q,--quiet", quiet, "Results only: no progress bars, no notes (warnings and errors still show)");
  app.add_flag("-v,--verbose", verbose, "Debug events too (same as --log-level debug)");
  double max_memory_mb = 0;
  app.add_option("--max-memory", max_memory_mb,
                 "MB a command may ask for up front (a generated market, a feature matrix); default 80 % of this machine's memory")
      ->check(CLI::Range(1.0, 1e9));

  cli::Action action;
  cli::add_data_commands(app, action);
  cli::add_enrich_commands(app, action);
  cli::add_backtest_commands(app, action);
  cli::add_paper_commands(app, action);
  cli::add_plugins_commands(app, action);
  cli::add_reload_commands(app, action);
  cli::add_ai_commands(app, action);
  cli::add_train_commands(app, action);
  cli::add_models_commands(app, action);
  cli::add_runs_commands(app, action);
  cli::add_report_commands(app, action);
  cli::add_certify_commands(app, action);
  cli::add_sweep_commands(app, action);
  cli::add_catalog_commands(app, action);
  cli::add_project_commands(app, action);
  cli::add_bench_commands(app, action);

  // `onepath help [COMMAND...]` is `onepath [COMMAND...] --help`.
  std::vector<std::string> args(argv + 1, argv + argc);
  {  // errors found before parsing are already in the format asked for
    cli::Console early;
    for (std::size_t i = 0; i < args.size(); ++i)
      if (args[i] == "--log-format=json" || (args[i] == "--log-format" && i + 1 < args.size() && args[i + 1] == "json")) early.json = true;
    cli::set_console(early);
  }
  if (!args.empty() && args[0] == "help") {
    args.erase(args.begin());
    args.push_back("--help");
  }
  // Words that are not options (nor an option's value) name commands, down to a command
  // without subcommands: each must be one.
  const CLI::App* at = &app;
  for (std::size_t i = 0; i < args.size() && !at->get_subcommands([](const CLI::App*) { return true; }).empty(); ++i) {
    if (args[i].starts_with("--") && args[i] != "--help" && args[i] != "--version") {
      if (std::string why = unknown_option(*at, app, args[i].substr(0, args[i].find('='))); !why.empty()) {
        cli::print_final_error("error", why, 2);
        return 2;
      }
    }
    if (args[i].starts_with("-")) {
      const CLI::Option* opt = args[i].find('=') == std::string::npos ? at->get_option_no_throw(args[i]) : nullptr;
      if (!opt && at != &app) opt = app.get_option_no_throw(args[i]);
      if (opt && opt->get_expected_min() > 0) ++i;  // its value
      continue;
    }
    if (std::string why = unknown_command(*at, args[i]); !why.empty()) {
      // a command with subcommands and a positional of its own (sweep FILE, sweep status ID)
      if (at != &app && !at->get_options([](const CLI::Option* opt) { return opt->get_positional(); }).empty()) break;
      cli::print_final_error("error", why, 2);
      return 2;
    }
    at = at->get_subcommand(args[i]);
  }
  // Every --option must be one of the command's (or a global one): CLI11 alone would read
  // `--timefrane 15m` as a stray file name "15m".
  for (const auto& a : args) {
    if (!a.starts_with("--") || a == "--") continue;
    const std::string name = a.substr(0, a.find('='));
    if (name == "--help" || name == "--version") continue;
    if (std::string why = unknown_option(*at, app, name); !why.empty()) {
      cli::print_final_error("error", why, 2);
      return 2;
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first

  try {
    app.parse(args);
  } catch (const CLI::RequiredError& e) {
    // A command of commands given alone (`onepath runs`): what it has, not just that it needs one.
    const CLI::App* at = &app;
    for (;;) {
      auto parsed = at->get_subcommands();
      if (parsed.empty()) break;
      at = parsed.front();
    }
    if (std::string(e.what()).find("subcommand") != std::string::npos) {
      fmt::print(stderr, "{}", at->help());
      return 2;
    }
    app.exit(e);
    return 2;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (cli::console().json) cli::print_final_error("error", e.what(), 2);
    else app.exit(e);
    return 2;
  }
  if (quiet && verbose) {
    cli::print_final_error("error", "--quiet and --verbose contradict each other; give one", 2);
    return 2;
  }
  {
    cli::Console console;
    console.quiet = quiet;
    console.verbose = verbose;
    console.json = log_format == "json";
    const char* no_color = std::getenv("NO_COLOR");
    console.color = !(no_color && *no_color) && ::isatty(2);
    cli::set_console(console);
  }
  if (verbose) log_level = "debug";
  else if (quiet && log_level == "info") log_level = "warn";

  std::string command_line;
  for (int i = 1; i < argc; ++i) command_line += (i > 1 ? " " : "") + std::string(argv[i]);
  try {
    log::configure(log_format == "json" ? log::Format::json : log::Format::text, log::parse_level(log_level), cli::console().color);
    if (max_memory_mb > 0) set_memory_budget(static_cast<std::size_t>(max_memory_mb * 1048576.0));
    install_interrupt_handler(false);  // commands that stop cleanly on their own say so
    return action ? action() : 2;
  } catch (const Interrupted&) {
    if (cli::console().json) cli::print_final_error("interrupted", "interrupted", 130);
    else fmt::print(stderr, "interrupted\n");
    return 130;
  } catch (const InputError& e) {
    cli::print_final_error("error", e.what(), 2);
    return 2;
  } catch (const std::bad_alloc&) {  // what no estimate foresaw
    cli::print_final_error("failed", "out of memory while running '" + command_line + "' (ask for less: fewer bars, symbols or features; see --max-memory)", 1);
    return 1;
  } catch (const std::exception& e) {  // a script error, a failed run: the work failed
    cli::print_final_error("failed", e.what(), 1);
    return 1;
  }
}
