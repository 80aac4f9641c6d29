#include "sweep/record.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "data/candle_io.hpp"
#include "run/backtest.hpp"
#include "run/run_config.hpp"
#include "store/sweep_cells.hpp"

namespace onepath {

std::string sweep_text(const SweepConfig& c) {
  namespace fs = std::filesystem;
  std::string text = "# " + fs::path(c.path).filename().string() + "\n" + read_file(c.path);
  if (c.run_path != c.path) text += "\n# " + fs::path(c.run_path).filename().string() + "\n" + read_file(c.run_path);
  return text;
}

RunInfo sweep_run(Journal& journal, std::int64_t id) {
  auto run = journal.run(id);
  if (!run || run->kind != "sweep") throw InputError("no sweep run " + std::to_string(id) + " in " + journal.db().describe());
  return *run;
}

SweepConfig recorded_sweep_config(const RunInfo& run) {
  SweepConfig c = load_sweep_config(run.config_path);
  if (sha256_hex(sweep_text(c)) != run.config_sha256)
    throw InputError("the files of sweep run " + std::to_string(run.id) + " (" + run.config_path +
                     ") are not the ones it ran with: they changed since, or this machine reads other copies (every worker must read the same files)");
  return c;
}

CellResult cell_result_of(const SweepCellRow& row) {
  CellResult x;
  x.cell = static_cast<std::size_t>(row.cell);
  x.metrics = row.metrics;
  x.candles = static_cast<std::size_t>(row.candles);
  x.decisions = static_cast<std::size_t>(row.decisions);
  x.objective = row.objective;
  x.ledger_sha256 = row.ledger_sha256;
  x.seconds = row.seconds;
  return x;
}

SweepCellRow cell_row_of(const SweepCell& cell, const CellResult& r) {
  SweepCellRow row;
  row.cell = static_cast<std::int64_t>(cell.index);
  row.point = static_cast<std::int64_t>(cell.point);
  row.variant = static_cast<std::int64_t>(cell.variant);
  row.fold = static_cast<std::int64_t>(cell.fold);
  for (const auto& s : cell.symbols) row.symbols += (row.symbols.empty() ? "" : "+") + s;
  for (const auto& s : cell.sets) row.sets += s + "\n";
  row.test_start = cell.test_start, row.test_end = cell.test_end;
  row.objective = r.objective;
  row.metrics = r.metrics;
  row.candles = static_cast<std::int64_t>(r.candles);
  row.decisions = static_cast<std::int64_t>(r.decisions);
  row.ledger_sha256 = r.ledger_sha256;
  row.seconds = r.seconds;
  return row;
}

SweepRecord::SweepRecord(const SweepConfig& c, const std::string& address, const std::string& git_revision) : journal_(Journal::open(address)) {
  const std::string text = sweep_text(c);
  const std::string sha = sha256_hex(text);
  for (const RunInfo& r : journal_->list_runs(1000)) {
    if (r.kind != "sweep" || r.config_sha256 != sha || r.status == "complete") continue;
    if (Journal::display_status(r) == "running")
      throw InputError("this sweep is running already: run " + std::to_string(r.id) + " (pid " + std::to_string(r.pid) + " on " + r.host +
                       "); wait for it, or stop it and run this again to resume it");
    run_id_ = r.id, resumed_ = true;
    journal_->resume_run(run_id_, {});
    for (const SweepCellRow& row : SweepCells(*journal_).of(run_id_)) {
      if (static_cast<std::size_t>(row.cell) >= done_.size()) done_.resize(static_cast<std::size_t>(row.cell) + 1);
      CellResult x = cell_result_of(row);
      done_[x.cell] = std::move(x);
    }
    return;
  }
  RunInfo info = run_info(load_run_config(c.run_path), "sweep", git_revision);
  info.config_path = std::filesystem::absolute(c.path).lexically_normal().string();
  info.config_text = text;
  info.config_sha256 = sha;
  run_id_ = journal_->start_run(info);
}

SweepRecord::~SweepRecord() = default;

std::optional<CellResult> SweepRecord::done(const SweepCell& cell) const {
  return cell.index < done_.size() ? done_[cell.index] : std::nullopt;
}

void SweepRecord::record(const SweepCell& cell, const CellResult& r) { SweepCells(*journal_).record(run_id_, cell_row_of(cell, r)); }

void SweepRecord::complete(const std::string& summary_json) { journal_->end_run(run_id_, "complete", {"", "", summary_json}); }

void SweepRecord::stop(const std::string& status, const std::string& why) {
  if (status == "failed") journal_->fail_run(run_id_, why);
  else journal_->end_run(run_id_, status, {"", "", ""});
}

}  // namespace onepath
