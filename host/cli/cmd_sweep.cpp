// onepath sweep SWEEP.toml: a walk-forward parameter search on the one code path.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/console.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/number_format.hpp"
#include "core/time.hpp"
#include "run/run_config.hpp"
#include "store/sweep_cells.hpp"
#include "store/sweep_queue.hpp"
#include "sweep/dossier.hpp"
#include "sweep/record.hpp"
#include "sweep/run_sweep.hpp"
#include "sweep/slurm.hpp"
#include "sweep/worker.hpp"

namespace onepath::cli {
namespace {

std::string workers_text(int n) { return n == 1 ? "1 worker process" : std::to_string(n) + " worker processes"; }

// The dossier's files in `dir`; returns the page's path.
std::string write_dossier(const SweepDossier& d, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  write_file_atomic((fs::path(dir) / "report.json").string(), d.json);
  write_file_atomic((fs::path(dir) / "choices.csv").string(), d.choices_csv);
  write_file_atomic((fs::path(dir) / "cells.csv").string(), d.cells_csv);
  const std::string page = (fs::path(dir) / "report.html").string();
  write_file_atomic(page, d.html);
  return page;
}

nlohmann::json ranking_json(const SweepConfig& c, const SweepOutcome& s) {
  nlohmann::json ranked = nlohmann::json::array();
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  for (const auto& r : s.ranking)
    ranked.push_back({{"point", r.point + 1}, {"variant", c.variants[r.variant].name}, {"sets", r.sets}, {"score", number(r.score)},
                      {"mean", number(r.mean)}, {"stddev", number(r.stddev)}, {"cells", r.cells}, {"min_trades", r.min_trades},
                      {"passes", r.passes}, {"why_not", r.why_not}});
  return {{"sweep", c.path},
          {"run", c.run_path},
          {"objective", c.objective},
          {"direction", c.maximize ? "max" : "min"},
          {"aggregate", c.aggregate == SweepConfig::Aggregate::mean ? "mean" : c.aggregate == SweepConfig::Aggregate::median ? "median" : "worst"},
          {"cells", s.plan.cells.size()},
          {"points", s.plan.points.size()},
          {"variants", c.variants.size()},
          {"groups", s.plan.groups.size()},
          {"seconds", s.seconds},
          {"ranking", ranked}};
}

// onepath sweep status ID: how far a sweep is, from the journal, while it runs or after.
void add_status(CLI::App& sweep, Action& action) {
  struct Opts {
    std::int64_t id = 0;
    std::string db = kDefaultJournal;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = sweep.add_subcommand("status", "A sweep's run: its status and the cells recorded so far");
  cmd->add_option("ID", o->id, "The sweep's run id (onepath runs list)")->required();
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://...")->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object");
  cmd->callback([o, &action] {
    action = [o] {
      auto journal = Journal::open_existing(o->db);
      const RunInfo run = sweep_run(*journal, o->id);
      const auto cells = SweepCells(*journal).of(o->id);
      const std::string status = Journal::display_status(run);
      std::optional<SweepQueue::Counts> queue;
      if (journal->db().dialect() == "postgresql") queue = SweepQueue(*journal).counts(o->id);
      if (queue && queue->waiting + queue->claimed + queue->done == 0) queue.reset();  // run here, not through the queue
      if (o->json) {
        nlohmann::json j{{"run", o->id}, {"status", status}, {"cells_recorded", cells.size()}, {"sweep", run.config_path}};
        if (queue)
          j["queue"] = {{"waiting", queue->waiting}, {"claimed", queue->claimed}, {"done", queue->done}, {"retried", queue->retried}, {"workers", queue->workers}};
        fmt::print("{}\n", j.dump());
        return 0;
      }
      fmt::print("sweep run {} ({}): {}, {} cells recorded\n", o->id, run.config_path, status, cells.size());
      if (queue)
        fmt::print("  queue: {} waiting, {} claimed by {} workers, {} done ({} claimed again after a worker died)\n", queue->waiting, queue->claimed,
                   queue->workers.size(), queue->done, queue->retried);
      return 0;
    };
  });
}

// onepath sweep best ID: the chosen cell's keys applied to the RUN.toml the sweep ran, as a
// RUN.toml of its own, ready for certify and paper.
void add_best(CLI::App& sweep, Action& action) {
  struct Opts {
    std::int64_t id = 0;
    std::size_t rank = 1;
    std::string db = kDefaultJournal, out;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = sweep.add_subcommand("best", "Write a sweep's best choice (or --rank N) as a RUN.toml");
  cmd->add_option("ID", o->id, "The sweep's run id (onepath runs list)")->required();
  cmd->add_option("--rank", o->rank, "Which choice of the ranking")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--out", o->out, "The RUN.toml to write (default: beside the swept one, <name>.best.toml)");
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://...")->capture_default_str();
  cmd->footer("Relative paths in it resolve against its own folder (then the shipped files), as in any RUN.toml.\n"
              "Example:\n  onepath sweep best 7 --out best.toml && onepath certify best.toml && onepath paper best.toml");
  cmd->callback([o, &action] {
    action = [o] {
      namespace fs = std::filesystem;
      auto journal = Journal::open_existing(o->db);
      const RunInfo run = sweep_run(*journal, o->id);
      if (run.status != "complete" || run.metrics.empty())
        throw InputError("sweep run " + std::to_string(o->id) + " is " + Journal::display_status(run) + ": run it to the end first (the same command resumes it)");
      const auto summary = nlohmann::json::parse(run.metrics);
      const auto& ranking = summary.at("ranking");
      if (o->rank > ranking.size()) throw InputError("sweep run " + std::to_string(o->id) + " ranks " + std::to_string(ranking.size()) + " choices");
      const auto& choice = ranking[o->rank - 1];
      if (!choice.at("passes").get<bool>())
        fmt::print(stderr, "note: choice {} fails a constraint: {}\n", o->rank, choice.at("why_not").get<std::string>());
      // The RUN.toml's text as the sweep ran it (the journal keeps both files' texts).
      const std::string run_path = summary.at("run"), sweep_path = summary.at("sweep");
      std::string text = run.config_text;
      const std::string marker = "# " + fs::path(run_path).filename().string() + "\n";
      const auto at = run_path == sweep_path ? std::string::npos : text.find("\n" + marker);
      text = at == std::string::npos ? text.substr(text.find('\n') + 1) : text.substr(at + 1 + marker.size());
      const auto sets = choice.at("sets").get<std::vector<std::string>>();
      const std::string out = !o->out.empty() ? o->out
                                               : (fs::path(run_path).parent_path() / (fs::path(run_path).stem().string() + ".best.toml")).string();
      std::string body = "# onepath sweep best " + std::to_string(o->id) + " --rank " + std::to_string(o->rank) + ": " + run_path + " with\n";
      for (const auto& x : sets) body += "#   " + x + "\n";
      body += run_config_with(text, run_path, sets);
      write_file_atomic(out, body);
      load_run_config(out);  // it must read as a RUN.toml where it is
      fmt::print("wrote {}: choice {} of sweep run {} ({} = {})\n  next: onepath certify {}  then  onepath paper {}\n", out, o->rank, o->id,
                 summary.at("objective").get<std::string>(), choice.at("score").is_null() ? std::string("undefined") : format_short(choice.at("score").get<double>()),
                 out, out);
      return 0;
    };
  });
}

// onepath sweep report ID: the dossier of a sweep's recorded cells, while it runs or after.
void add_report(CLI::App& sweep, Action& action) {
  struct Opts {
    std::int64_t id = 0;
    std::string db = kDefaultJournal, out;
    std::size_t best = 3;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = sweep.add_subcommand("report", "The dossier of a sweep: ranked choices, per-fold table, heatmaps, gates, overfitting guards");
  cmd->add_option("ID", o->id, "The sweep's run id (onepath runs list)")->required();
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://...")->capture_default_str();
  cmd->add_option("--out", o->out, "Folder for report.html, report.json, choices.csv, cells.csv (default runs/<sweep name>/sweep)");
  cmd->add_option("--best", o->best, "Best choices whose out-of-sample equity is drawn (their cells run again)")->capture_default_str()->check(CLI::Range(0, 50));
  cmd->footer("Works while the sweep runs (on the cells recorded so far) and after. It reads the sweep's files where the run\n"
              "says they are and refuses them if they changed. Definitions of every statistic: docs/sweep.md.\n"
              "Example:\n  onepath sweep report 7 && xdg-open runs/sweep/sweep/report.html");
  cmd->callback([o, &action] {
    action = [o] {
      namespace fs = std::filesystem;
      auto journal = Journal::open_existing(o->db);
      const RunInfo run = sweep_run(*journal, o->id);
      const SweepConfig c = recorded_sweep_config(run);
      const SweepSetup setup = prepare_sweep(c);
      std::vector<std::optional<CellResult>> results(setup.plan.cells.size());
      for (const SweepCellRow& row : SweepCells(*journal).of(o->id))
        if (row.cell >= 0 && static_cast<std::size_t>(row.cell) < results.size()) results[static_cast<std::size_t>(row.cell)] = cell_result_of(row);
      DossierInfo info;
      info.run_id = o->id;
      info.status = Journal::display_status(run);
      info.equity_choices = o->best;
      const SweepDossier d = build_dossier(c, setup, results, info);
      const std::string dir = !o->out.empty() ? o->out : (fs::path("runs") / fs::path(c.path).stem() / "sweep").string();
      const std::string page = write_dossier(d, dir);
      for (const auto& line : d.summary) fmt::print("  {}\n", line);
      fmt::print("wrote {} (and report.json, choices.csv, cells.csv beside it)\n", page);
      return 0;
    };
  });
}

// onepath sweep worker: one task of a sweep spread over a cluster (the Slurm executor's job
// array runs it); it claims cells from the journal until none is left.
void add_worker(CLI::App& sweep, Action& action) {
  struct Opts {
    std::string db;
    std::int64_t run = 0;
    double lease = 60;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = sweep.add_subcommand("worker", "Claim and run a sweep's queued cells (what each task of --executor slurm runs)");
  cmd->add_option("--db", o->db, "The sweep's journal: postgresql://...")->required();
  cmd->add_option("--run", o->run, "The sweep's run id")->required();
  cmd->add_option("--lease", o->lease, "Seconds without a heartbeat before a claim passes to another worker")->capture_default_str()->check(CLI::Range(0.2, 86400.0));
  cmd->footer("Started by the Slurm executor's job array; run it by hand to add a machine to a running sweep:\n"
              "  onepath sweep worker --db postgresql://host/onepath --run 7\n"
              "It reads the sweep's files where the run says they are (the same folder on every machine), refuses them if\n"
              "they changed, and ends when no cell is waiting. Exit codes: 0 nothing left, 1 a cell failed, 2 bad input.");
  cmd->callback([o, &action] {
    action = [o] {
      install_interrupt_handler(true);  // scancel's SIGTERM: stop after the cell in hand
      SweepWorkerOptions w;
      w.journal = o->db;
      w.run_id = o->run;
      w.lease_ms = static_cast<std::int64_t>(o->lease * 1000);
      w.log = [](const std::string& line) { fmt::print("{}\n", line), std::fflush(stdout); };
      run_sweep_worker(w);
      return 0;
    };
  });
}

}  // namespace

void add_sweep_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string config, out, db;
    int workers = 0;
    bool json = false, no_progress = false, no_journal = false;
    std::size_t top = 10, tasks = 4;
    std::string executor = "local";
    std::vector<std::string> sbatch;
    double lease = 60;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("sweep", "Walk-forward parameter search: every cell a backtest on the one code path");
  cmd->add_option("SWEEP.toml", o->config, "A [sweep] table: beside a RUN.toml (run = \"...\") or inside it")->check(CLI::ExistingFile);
  cmd->add_option("--workers", o->workers, "Worker processes, each pinned to a core (default: the sweep's, else the machine's cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--out", o->out, "Folder for the dossier (report.html, report.json, choices.csv), cells.csv and ranking.json (default runs/<sweep name>/sweep)");
  cmd->add_option("--top", o->top, "Choices shown on the terminal")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the ranking as one JSON object instead of a table");
  cmd->add_flag("--no-progress", o->no_progress, "No progress line");
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://... (default: the RUN.toml's [output] db, else runs/onepath.db)");
  cmd->add_flag("--no-journal", o->no_journal, "Do not record the sweep (it cannot be resumed then)");
  cmd->add_option("--executor", o->executor, "Where cells run: local (worker processes here) or slurm (a job array; needs --db postgresql://...)")
      ->capture_default_str()
      ->check(CLI::IsMember({"local", "slurm"}));
  cmd->add_option("--tasks", o->tasks, "slurm: array tasks per batch of cells")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--sbatch", o->sbatch, "slurm: an option passed to sbatch as it is, repeatable (--sbatch=--partition=cpu --sbatch=--time=2:00:00)")
      ->allow_extra_args(false);
  cmd->add_option("--lease", o->lease, "slurm: seconds without a heartbeat before a dead task's cell is claimed again")->capture_default_str()->check(CLI::Range(0.2, 86400.0));
  cmd->footer(
      "A cell is one point of the space x one variant x one symbol (or the whole market) x one fold: a backtest of\n"
      "the RUN.toml with the cell's keys, on the fold's test window, through the same Session as `onepath backtest`.\n"
      "Choices (point x variant) are ranked by the objective aggregated over their cells; constraints such as\n"
      "min_trades_per_fold rank a choice last with the reason. When it ends it writes the dossier (report.html).\n"
      "Every cell is journaled as it finishes: after kill -9 or Ctrl-C the same command runs only the missing ones.\n"
      "With --executor slurm the cells wait in the PostgreSQL journal and a job array of `onepath sweep worker` tasks\n"
      "claims them; the command watches until all are recorded (Ctrl-C stops watching, not the job).\n"
      "Examples:\n"
      "  onepath sweep examples/sweep.toml\n"
      "  onepath sweep examples/sweep.toml --executor slurm --db postgresql://db-host/onepath --tasks 32 --sbatch=--partition=cpu\n"
      "Exit codes: 0 done, 1 a cell failed, 2 bad usage or input, 130 interrupted. Details: docs/sweep.md.");
  add_status(*cmd, action);
  add_best(*cmd, action);
  add_worker(*cmd, action);
  add_report(*cmd, action);
  cmd->callback([o, cmd, &action] {
    if (cmd->got_subcommand("status") || cmd->got_subcommand("best") || cmd->got_subcommand("worker") || cmd->got_subcommand("report")) return;
    action = [o] {
      namespace fs = std::filesystem;
      if (o->config.empty()) throw InputError("sweep needs a SWEEP.toml (or: onepath sweep status ID)");
      const SweepConfig c = load_sweep_config(o->config);
      SweepOptions so;
      so.workers = o->workers;
      const bool bar = progress_wanted(o->no_progress);
      const auto t0 = std::chrono::steady_clock::now();
      if (bar)
        so.progress = [t0](std::size_t done, std::size_t total) {
          const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          const double rate = s > 0 ? static_cast<double>(done) / s : 0;
          fmt::print(stderr, "\r  {} / {} cells  {:.1f} cells/s  ETA {:.0f} s   ", done, total, rate, rate > 0 ? static_cast<double>(total - done) / rate : 0.0);
          if (done == total) fmt::print(stderr, "\n");
        };
      const SweepSetup setup = prepare_sweep(c);  // bad input or data: no run is started
      std::unique_ptr<SweepRecord> record;
      if (!o->no_journal) {
        const std::string address = !o->db.empty() ? o->db : load_run_config(c.run_path).journal;
        if (!address.empty()) {
          record = std::make_unique<SweepRecord>(c, address, ONEPATH_GIT_REV);
          if (record->resumed())
            fmt::print(stderr, "resuming sweep run {}: {} cells recorded, the rest run now\n", record->run_id(), record->recorded());
          so.done = [&record](const SweepCell& cell) { return record->done(cell); };
          so.on_cell = [&record](const SweepCell& cell, const CellResult& r) { record->record(cell, r); };
        }
      }
      if (o->executor == "slurm") {
        const std::string address = !o->db.empty() ? o->db : load_run_config(c.run_path).journal;
        if (!record || !(address.starts_with("postgresql://") || address.starts_with("postgres://")))
          throw InputError("--executor slurm needs the sweep in a PostgreSQL journal the nodes reach (--db postgresql://...): its tasks claim cells there");
        SlurmOptions so_slurm;
        so_slurm.journal = address;
        so_slurm.run_id = record->run_id();
        so_slurm.tasks = o->tasks;
        so_slurm.sbatch_args = o->sbatch;
        so_slurm.lease_ms = static_cast<std::int64_t>(o->lease * 1000);
        so_slurm.folder = (!o->out.empty() ? fs::path(o->out) : fs::path("runs") / fs::path(c.path).stem() / "sweep").string();
        so_slurm.progress = so.progress;
        so_slurm.log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
        so.executor = slurm_executor(so_slurm);
      }
      install_interrupt_handler(true);  // Ctrl-C: workers stop between cells; the recorded ones stay
      SweepOutcome s;
      try {
        s = run_sweep(c, setup, so);
      } catch (const Interrupted&) {
        if (record) record->stop("interrupted", "");
        if (o->executor == "slurm")
          fmt::print(stderr, "stopped watching; the job array goes on (scancel --name=onepath-sweep-{} stops it). The same command resumes watching.\n",
                     record ? record->run_id() : 0);
        throw;
      } catch (const std::exception& e) {
        if (record) record->stop("failed", e.what());
        throw;
      }
      const std::string dir = !o->out.empty() ? o->out : (fs::path("runs") / fs::path(c.path).stem() / "sweep").string();
      fs::create_directories(dir);
      const nlohmann::json ranking = ranking_json(c, s);
      write_file_atomic((fs::path(dir) / "ranking.json").string(), ranking.dump(2) + "\n");
      if (record) record->complete(ranking.dump());
      DossierInfo info;
      info.run_id = record ? record->run_id() : 0;
      info.status = record ? "complete" : "not journaled";
      const SweepDossier dossier = build_dossier(c, setup, s.results, info);
      const std::string page = write_dossier(dossier, dir);
      if (o->json) {
        fmt::print("{}\n", ranking.dump());
        return 0;
      }
      fmt::print("sweep {}: {} cells ({} points x {} variants x {} {} x {} folds) in {:.1f} s, {}\n", c.path, s.plan.cells.size(),
                 s.plan.points.size(), c.variants.size(), s.plan.groups.size(), c.each_symbol ? "symbols" : "market", s.plan.folds.empty() ? 0 : s.plan.folds[0].size(),
                 s.seconds, o->executor == "slurm" ? std::string("on Slurm") : workers_text(o->workers > 0 ? o->workers : c.workers));
      if (c.search == SweepConfig::Search::halving) {
        std::size_t run = 0;
        for (const auto& r : s.results) run += r.has_value();
        fmt::print("  successive halving (eta {}): {} of the {} cells run; choices that went further rank first\n", c.eta, run, s.plan.cells.size());
      }
      fmt::print("  {:>4}  {:>10}  {:>10}  {:>10}  {:>6}  {}\n", "rank", c.objective, "mean", "std", "trades", "choice");
      for (std::size_t i = 0; i < s.ranking.size() && i < o->top; ++i) {
        const RankedChoice& r = s.ranking[i];
        std::string sets;
        for (const auto& x : r.sets) sets += (sets.empty() ? "" : " ") + x;
        if (sets.empty()) sets = "(the RUN.toml as it is)";
        fmt::print("  {:>4}  {:>10}  {:>10}  {:>10}  {:>6}  {} [{}]{}\n", i + 1, format_short(r.score), format_short(r.mean), format_short(r.stddev),
                   r.min_trades, sets, c.variants[r.variant].name, r.passes ? "" : "  (" + r.why_not + ")");
      }
      for (const auto& line : dossier.summary) fmt::print("  {}\n", line);
      fmt::print("  wrote {} (the dossier), and cells.csv, choices.csv, ranking.json, report.json beside it\n", page);
      if (record) fmt::print("  journal: run {} ({} cells run now, {} recorded before)\n", record->run_id(), s.ran, s.plan.cells.size() - s.ran);
      return 0;
    };
  });
}

}  // namespace onepath::cli
