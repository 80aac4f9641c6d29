// onepath backtest RUN.toml [--set key=value ...]
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <optional>

#include "cli/commands.hpp"
#include "cli/console.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/atomic_file.hpp"
#include "core/number_format.hpp"
#include "core/text_formats.hpp"
#include "report/report.hpp"
#include "run/backtest.hpp"

namespace onepath::cli {
namespace {

// A progress bar on a terminal (bars/s, ETA); progress events when headless. The clock
// starts when the run does (done = 0), so loading the data is not in the rate or the ETA.
BacktestProgress progress_reporter(bool bar) {
  auto start = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  auto last_pct = std::make_shared<int>(-1);
  return [=](std::size_t done, std::size_t total) {
    if (done == 0) *start = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - *start).count();
    double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    int pct = total ? static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)) : 100;
    double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
    if (bar) {
      std::string bar_text(static_cast<std::size_t>(pct / 4), '#');
      bar_text.resize(25, '.');
      fmt::print(stderr, "\r[{}] {:3}%  {:.2f} M bars/s  ETA {:.0f}s   ", bar_text, pct, rate / 1e6, eta);
      if (done == total) fmt::print(stderr, "\n");
    } else if (done && (pct / 10 != *last_pct / 10 || done == total)) {
      log::info("backtest_progress", {{"percent", pct}, {"candles", done}, {"bars_per_second", rate}});
    }
    *last_pct = pct;
  };
}

std::string pct(double v) { return std::isfinite(v) ? fmt::format("{:.2f}%", 100 * v) : "-"; }
std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.2f}", v) : "-"; }

void print_summary(const RunConfig& c, const BacktestResult& r, std::int64_t run_id, double total_seconds) {
  const Metrics& m = r.metrics;
  std::string syms;
  for (const auto& s : r.symbols) syms += (syms.empty() ? "" : ", ") + s;
  fmt::print("backtest {} on {} ({} candles, {}) in {:.2f} s: run {:.2f} s ({:.2f} M candles/s), data {:.2f} s, journal {:.2f} s, files {:.2f} s\n",
             c.session.strategy, syms, r.candles, r.timeframe.name(), total_seconds, r.seconds,
             static_cast<double>(r.candles) / r.seconds / 1e6, r.load_seconds, r.journal_seconds, r.files_seconds);
  fmt::print("  fills {}, costs {}, feature_set_version {}\n",
             c.session.execution.fill_mode == FillMode::next_open ? "at the next open" : "at the decision's close (comparison only)",
             c.session.execution.costs == CostMode::realistic ? "realistic" : "clean", r.feature_set_version);
  fmt::print("  equity        {} -> {}   total return {}   CAGR {}\n", num(m.initial_equity), num(m.final_equity), pct(m.total_return), pct(m.cagr));
  fmt::print("  sharpe {}   sortino {}   volatility {}   max drawdown {} ({} bars)   calmar {}\n", num(m.sharpe), num(m.sortino),
             pct(m.volatility), pct(m.max_drawdown), m.max_drawdown_bars, num(m.calmar));
  fmt::print("  trades {}   win rate {}   profit factor {}   avg win {}   avg loss {}\n", m.trades, pct(m.win_rate), num(m.profit_factor),
             num(m.avg_win), num(m.avg_loss));
  fmt::print("  exposure {}   turnover {}   fees {}   decisions {} ({} placed)\n", pct(m.exposure), num(m.turnover), num(m.fees), r.decisions,
             r.placed);
  if (!r.output_dir.empty())
    fmt::print("  wrote {}/trades.csv, equity.csv, metrics.json{} (outputs.json, last, vouches for the set)\n", r.output_dir, c.report ? ", report.html" : "");
  if (run_id) fmt::print("  journal: run {} in {} ('onepath runs show {}', 'onepath report {}')\n", run_id, c.journal, run_id, run_id);
}

// The same facts for a program: full precision, the metrics as metrics.json has them.
void print_summary_json(const RunConfig& c, const BacktestResult& r, std::int64_t run_id, double total_seconds) {
  std::string symbols;
  for (const auto& s : r.symbols) symbols += (symbols.empty() ? "" : ",") + json_quote(s);
  fmt::print("{{\"run_id\": {}, \"journal\": {}, \"strategy\": {}, \"symbols\": [{}], \"timeframe\": {}, \"candles\": {}, "
             "\"feature_set_version\": {}, \"output_dir\": {},\n \"seconds\": {{\"total\": {}, \"data\": {}, \"run\": {}, \"journal\": {}, \"files\": {}}},\n"
             " \"metrics\": {}}}\n",
             run_id ? std::to_string(run_id) : "null", run_id ? json_quote(c.journal) : "null", json_quote(c.session.strategy), symbols,
             json_quote(std::string(r.timeframe.name())), r.candles, json_quote(r.feature_set_version),
             r.output_dir.empty() ? "null" : json_quote(r.output_dir), format_double(total_seconds), format_double(r.load_seconds),
             format_double(r.seconds), format_double(r.journal_seconds), format_double(r.files_seconds), metrics_json(c, r));
}

}  // namespace

void add_backtest_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string config;
    std::vector<std::string> sets;
    std::string db;
    bool no_progress = false, no_journal = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("backtest", "Run a Lua strategy over history: enrichment, strategy, filters, risk, execution");
  cmd->add_option("RUN.toml", o->config, "The run's configuration (see examples/quickstart.toml)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", o->sets, "Override a config value: key.path=value (repeatable)");
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar");
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://... (default [output] db, else runs/onepath.db)");
  cmd->add_flag("--no-journal", o->no_journal, "Do not record the run in the journal");
  cmd->add_flag("--json", o->json, "The summary as one JSON object on stdout (full precision)");
  cmd->footer(
      "Writes trades.csv, equity.csv and metrics.json to [output] dir (default runs/<config name>/<run id>/),\n"
      "whole or not at all.\n"
      "Examples:\n"
      "  onepath backtest examples/quickstart.toml\n"
      "  onepath backtest examples/quickstart.toml --set strategy.params.fast=9 --set execution.costs=clean\n"
      "  onepath -q backtest examples/quickstart.toml --json | jq .metrics.sharpe\n"
      "Exit codes: 0 done, 1 the strategy or the run failed, 2 bad config or data.");
  cmd->callback([o, &action] {
    action = [o] {
      const auto t0 = std::chrono::steady_clock::now();
      install_interrupt_handler(true);  // Ctrl-C: the run stops at the next time slice and is journaled as interrupted
      RunConfig c = load_run_config(o->config, o->sets);
      if (!o->db.empty()) c.journal = c.registry = o->db;
      if (o->no_journal) c.journal.clear();
      log::info("backtest_start", {{"config", o->config}, {"strategy", c.session.strategy}, {"symbols", c.session.symbols.size()}});
      std::optional<ChartLibrary> chart_library;  // a missing package is found before the run, not after it
      if (c.report) chart_library = read_chart_library();
      std::int64_t run_id = 0;
      const bool bar = progress_wanted(o->no_progress);
      BacktestResult r = run_recorded_backtest(c, ONEPATH_GIT_REV, &run_id, o->no_progress ? BacktestProgress{} : progress_reporter(bar));
      if (c.report && !r.output_dir.empty()) {  // the run is recorded and its files are written: the page is extra
        write_file_atomic(r.output_dir + "/report.html", render_report(report_from_result(c, r), *chart_library));
      }
      const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (o->json) print_summary_json(c, r, run_id, total);
      else print_summary(c, r, run_id, total);
      return 0;
    };
  });
}

}  // namespace onepath::cli
