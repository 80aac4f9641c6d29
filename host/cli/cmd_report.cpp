// onepath report RUN_ID: a run as one self-contained HTML page (host/report).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <filesystem>

#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "report/report.hpp"
#include "store/journal.hpp"

namespace onepath::cli {

void add_report_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::int64_t id = 0;
    std::string db = kDefaultJournal, out;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("report", "A run as one HTML file: equity, drawdown, trades on the price, monthly returns, metrics");
  cmd->add_option("RUN_ID", o->id, "The run (onepath runs list)")->required();
  cmd->add_option("--db", o->db, "The journal: a SQLite file or postgresql://...")->capture_default_str();
  cmd->add_option("--out", o->out, "The HTML file (default: report-RUN_ID.html beside the journal)");
  cmd->footer(
      "The page works offline: the charting library (Debian's libjs-dygraphs) is inlined. Long runs are\n"
      "decimated for drawing only. A backtest writes one itself with [output] report = true.\n"
      "Example:\n  onepath report 3 && xdg-open runs/report-3.html");
  cmd->callback([o, &action] {
    action = [o] {
      const ChartLibrary lib = read_chart_library();  // before anything is read: a missing package is said first
      auto journal = Journal::open_existing(o->db);
      const std::string html = render_report(report_from_journal(*journal, o->id), lib);
      std::string out = o->out;
      if (out.empty()) {
        const bool file_db = o->db.find("://") == std::string::npos;
        const std::filesystem::path dir = file_db ? std::filesystem::path(o->db).parent_path() : std::filesystem::path(".");
        out = (dir / ("report-" + std::to_string(o->id) + ".html")).string();
      }
      write_file_atomic(out, html);
      fmt::print("wrote {} ({} KB)\n", out, html.size() / 1024);
      return 0;
    };
  });
}

}  // namespace onepath::cli
