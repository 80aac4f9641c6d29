// onepath paper RUN.toml: the backtest's strategy, fed candle by candle from an event loop.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/console.hpp"
#include "core/log.hpp"
#include "run/paper.hpp"

namespace onepath::cli {

void add_paper_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string config, db;
    std::vector<std::string> sets;
    bool no_progress = false, no_journal = false, fresh = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("paper", "Run a strategy as a paper session: candles from a feed, the backtest's step, no real orders");
  cmd->add_option("RUN.toml", o->config, "The run's configuration: a backtest's, plus an optional [paper] table")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", o->sets, "Override a config value: key.path=value (repeatable), e.g. paper.feed=generated");
  cmd->add_flag("--no-progress", o->no_progress, "No status line");
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://... (default [output] db, else runs/onepath.db)");
  cmd->add_flag("--no-journal", o->no_journal, "Do not record the session in the journal");
  cmd->add_flag("--fresh", o->fresh, "Start afresh, replacing the snapshot of an earlier session of this config");
  cmd->footer(
      "Feeds ([paper] feed): \"replay\" plays the [data] candles at [paper] speed (x real time, or \"max\") and ends\n"
      "with them; \"generated\" is an endless synthetic market whose candles close on the wall clock.\n"
      "Ctrl-C (or SIGTERM) stops between candles and writes a snapshot; the same command resumes it.\n"
      "HTTP on 127.0.0.1 ([paper] port, 0 picks one; the log says which): GET /health/live, /health/ready,\n"
      "/metrics (Prometheus), /status (JSON); POST /control/pause, /control/resume (the kill switch), /control/stop,\n"
      "/control/reload (the control endpoints need the session's token: [paper] token_env, else paper.dir/control.token).\n"
      "Hot reload ([paper] reload, on by default): an edit of the strategy, a module it requires, a Lua filter,\n"
      "a signal config or a [[plugins]] file is dry-run in a child on the last [paper] reload_candles candles,\n"
      "then swapped in between candles with ctx.state carried; a broken edit is rejected and changes nothing.\n"
      "'onepath reload RUN.toml' asks for one now. A runtime error of the strategy skips its decision, reverts a\n"
      "recent reload, else follows [paper] on_error (pause | skip | stop); the session is never lost.\n"
      "Examples:\n"
      "  onepath paper examples/quickstart.toml --set paper.feed=generated --set paper.speed=60\n"
      "  onepath paper examples/quickstart.toml --set paper.speed=max      replay the backtest's data\n"
      "  curl -s http://127.0.0.1:PORT/metrics\n"
      "  onepath reload examples/quickstart.toml                          reload the running session's strategy now\n"
      "Details: docs/paper.md, docs/hot-reload.md. Exit codes: 0 complete or stopped, 1 the strategy or the session failed, 2 bad config or data.");
  cmd->callback([o, &action] {
    action = [o] {
      RunConfig c = load_run_config(o->config, o->sets);
      if (!o->db.empty()) c.journal = c.registry = o->db;
      if (o->no_journal) c.journal.clear();
      PaperOptions po;
      po.git_revision = ONEPATH_GIT_REV;
      po.progress = progress_wanted(o->no_progress);
      po.fresh = o->fresh;
      PaperOutcome r = run_paper(c, po);
      fmt::print("paper session {} after {} candles in {:.1f} s{}: {} decisions ({} placed), {} trades, equity {:.2f}\n",
                 r.complete ? "complete" : "stopped", r.candles, r.seconds, r.resumed ? " (resumed)" : "", r.decisions, r.placed,
                 r.trades, r.equity);
      if (r.shadow_checks || r.shadow_divergences)
        fmt::print("  shadow: {} windows ({} rows) recomputed in batch, {}\n", r.shadow_checks, r.shadow_rows,
                   r.shadow_divergences ? fmt::format("{} DIVERGED (journaled as shadow_divergence; entries were paused)", r.shadow_divergences)
                                        : std::string("identical to the rows streamed"));
      if (!r.complete) fmt::print("  snapshot {}: the same command resumes it (--fresh starts over)\n", r.snapshot);
      if (r.run_id) fmt::print("  journal: run {} in {} ('onepath runs show {}')\n", r.run_id, c.journal, r.run_id);
      return 0;
    };
  });
}

}  // namespace onepath::cli
