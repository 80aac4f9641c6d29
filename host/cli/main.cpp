#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"

int main(int argc, char** argv) {
  using namespace onepath;
  CLI::App app{"onepath: a trading research and execution host. One code path for backtest, paper and live."};
  app.set_version_flag("--version", std::string("onepath ") + ONEPATH_VERSION + " (" + ONEPATH_GIT_REV + ")");
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  onepath backtest examples/quickstart.toml               backtest a Lua strategy\n"
      "  onepath paper examples/quickstart.toml --set paper.feed=generated   a paper session\n"
      "  onepath runs list                                       the journal of runs\n"
      "  onepath data gen --symbols BTC,ETH,SOL --out market/    generate a synthetic market\n"
      "  onepath data check market/BTC.csv                       validate candles, list gaps\n"
      "  onepath data resample market/BTC.csv --to 1h            aggregate to a higher timeframe\n"
      "  onepath enrich --data market/BTC.csv --features scripts/features/example.lua --out f.csv\n"
      "  onepath plugins inspect build/plugins/ta_extra.so       what a native plugin adds\n"
      "  onepath bench indicators                                measure every indicator\n"
      "Run 'onepath COMMAND --help' for more. Exit codes: 0 ok, 1 the work failed, 2 bad usage or input.");

  std::string log_format = "text", log_level = "info";
  app.add_option("--log-format", log_format, "Logs on stderr: 'text' (readable) or 'json' (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", log_level, "debug, info, warn, error or critical")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "critical"}));

  cli::Action action;
  cli::add_data_commands(app, action);
  cli::add_enrich_commands(app, action);
  cli::add_backtest_commands(app, action);
  cli::add_paper_commands(app, action);
  cli::add_plugins_commands(app, action);
  cli::add_reload_commands(app, action);
  cli::add_runs_commands(app, action);
  cli::add_bench_commands(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  try {
    log::configure(log_format == "json" ? log::Format::json : log::Format::text, log::parse_level(log_level));
    install_interrupt_handler(false);  // commands that stop cleanly on their own say so
    return action ? action() : 2;
  } catch (const Interrupted&) {
    fmt::print(stderr, "interrupted\n");
    return 130;
  } catch (const InputError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {  // a script error, a failed run: the work failed
    fmt::print(stderr, "failed: {}\n", e.what());
    return 1;
  }
}
