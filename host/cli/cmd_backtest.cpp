// onepath backtest RUN.toml [--set key=value ...]
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>

#include "cli/commands.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/number_format.hpp"
#include "run/backtest.hpp"

namespace onepath::cli {
namespace {

// A progress bar on a terminal (bars/s, ETA); progress events when headless.
BacktestProgress progress_reporter() {
  auto start = std::chrono::steady_clock::now();
  bool tty = ::isatty(2);
  auto last_pct = std::make_shared<int>(-1);
  return [=](std::size_t done, std::size_t total) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    int pct = total ? static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)) : 100;
    double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
    if (tty) {
      std::string bar(static_cast<std::size_t>(pct / 4), '#');
      bar.resize(25, '.');
      fmt::print(stderr, "\r[{}] {:3}%  {:.2f} M bars/s  ETA {:.0f}s   ", bar, pct, rate / 1e6, eta);
      if (done == total) fmt::print(stderr, "\n");
    } else if (pct / 10 != *last_pct / 10 || done == total) {
      log::info("backtest_progress", {{"percent", pct}, {"candles", done}, {"bars_per_second", rate}});
    }
    *last_pct = pct;
  };
}

std::string pct(double v) { return std::isfinite(v) ? fmt::format("{:.2f}%", 100 * v) : "-"; }
std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.2f}", v) : "-"; }

}  // namespace

void add_backtest_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string config;
    std::vector<std::string> sets;
    std::string db;
    bool quiet = false, no_journal = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("backtest", "Run a Lua strategy over history: enrichment, strategy, filters, risk, execution");
  cmd->add_option("RUN.toml", o->config, "The run's configuration (see examples/quickstart.toml)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", o->sets, "Override a config value: key.path=value (repeatable)");
  cmd->add_flag("--no-progress", o->quiet, "No progress bar");
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://... (default [output] db, else runs/onepath.db)");
  cmd->add_flag("--no-journal", o->no_journal, "Do not record the run in the journal");
  cmd->footer(
      "Writes trades.csv, equity.csv and metrics.json to [output] dir, whole or not at all.\n"
      "Examples:\n"
      "  onepath backtest examples/quickstart.toml\n"
      "  onepath backtest examples/quickstart.toml --set strategy.params.fast=9 --set execution.costs=clean\n"
      "Exit codes: 0 done, 1 the strategy or the run failed, 2 bad config or data.");
  cmd->callback([o, &action] {
    action = [o] {
      install_interrupt_handler(true);  // Ctrl-C: the run stops at the next time slice and is journaled as interrupted
      RunConfig c = load_run_config(o->config, o->sets);
      if (!o->db.empty()) c.journal = c.registry = o->db;
      if (o->no_journal) c.journal.clear();
      log::info("backtest_start", {{"config", o->config}, {"strategy", c.session.strategy}, {"symbols", c.session.symbols.size()}});
      std::int64_t run_id = 0;
      BacktestResult r = run_recorded_backtest(c, ONEPATH_GIT_REV, &run_id, o->quiet ? BacktestProgress{} : progress_reporter());
      const Metrics& m = r.metrics;
      std::string syms;
      for (const auto& s : r.symbols) syms += (syms.empty() ? "" : ", ") + s;
      fmt::print("backtest {} on {} ({} candles, {}) in {:.2f} s: {:.2f} M candles/s\n", c.session.strategy, syms, r.candles,
                 r.timeframe.name(), r.seconds, static_cast<double>(r.candles) / r.seconds / 1e6);
      fmt::print("  fills {}{}, costs {}, feature_set_version {}\n",
                 c.session.execution.fill_mode == FillMode::next_open ? "at the next open" : "at the decision's close (comparison only)", "",
                 c.session.execution.costs == CostMode::realistic ? "realistic" : "clean", r.feature_set_version);
      fmt::print("  equity        {} -> {}   total return {}   CAGR {}\n", num(m.initial_equity), num(m.final_equity), pct(m.total_return), pct(m.cagr));
      fmt::print("  sharpe {}   sortino {}   volatility {}   max drawdown {} ({} bars)   calmar {}\n", num(m.sharpe), num(m.sortino),
                 pct(m.volatility), pct(m.max_drawdown), m.max_drawdown_bars, num(m.calmar));
      fmt::print("  trades {}   win rate {}   profit factor {}   avg win {}   avg loss {}\n", m.trades, pct(m.win_rate),
                 num(m.profit_factor), num(m.avg_win), num(m.avg_loss));
      fmt::print("  exposure {}   turnover {}   fees {}   decisions {} ({} placed)\n", pct(m.exposure), num(m.turnover), num(m.fees),
                 r.decisions, r.placed);
      if (!c.output_dir.empty()) fmt::print("  wrote {}/trades.csv, equity.csv, metrics.json (outputs.json, last, vouches for the set)\n", c.output_dir);
      if (run_id) fmt::print("  journal: run {} in {} ('onepath runs show {}', 'onepath runs verify {}')\n", run_id, c.journal, run_id, run_id);
      return 0;
    };
  });
}

}  // namespace onepath::cli
