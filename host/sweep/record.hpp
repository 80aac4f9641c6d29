#pragma once
// A sweep in the journal: one run of kind "sweep" (its sweep file's and RUN.toml's text and
// SHA-256) and a row per cell as it finishes (store/sweep_cells.hpp). The same sweep cut
// short (kill -9, Ctrl-C, a failed cell) is resumed by the next `onepath sweep`: its recorded
// cells are not run again.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/journal.hpp"
#include "store/sweep_cells.hpp"
#include "sweep/run_sweep.hpp"

namespace onepath {

class SweepRecord {
 public:
  // Opens the journal and starts the sweep's run, or resumes the unfinished run of the same
  // sweep (the same texts). InputError when that run is still running in a live process.
  SweepRecord(const SweepConfig& config, const std::string& journal_address, const std::string& git_revision);
  ~SweepRecord();
  std::int64_t run_id() const { return run_id_; }
  bool resumed() const { return resumed_; }
  std::size_t recorded() const { return done_.size(); }
  // For SweepOptions: a cell's recorded result, and recording one.
  std::optional<CellResult> done(const SweepCell& cell) const;
  void record(const SweepCell& cell, const CellResult& result);
  // The end: complete with the best choice, stopped (resumable) or failed with why.
  void complete(const std::string& summary_json);
  void stop(const std::string& status, const std::string& why);

 private:
  std::unique_ptr<Journal> journal_;
  std::int64_t run_id_ = 0;
  bool resumed_ = false;
  std::vector<std::optional<CellResult>> done_;  // by cell number
};

// The sweep run `id` of a journal (InputError when there is none), and its sweep read from
// the files the run names, refused (InputError) when they are not the texts it ran with.
RunInfo sweep_run(Journal& journal, std::int64_t id);
SweepConfig recorded_sweep_config(const RunInfo& run);

// A cell's row in the journal, and its result read back.
SweepCellRow cell_row_of(const SweepCell& cell, const CellResult& result);
CellResult cell_result_of(const SweepCellRow& row);

// The texts a sweep is identified by: its file and the RUN.toml it extends, each after a
// "# <file name>" line (names, not paths: the same sweep from another folder or node).
std::string sweep_text(const SweepConfig& config);

}  // namespace onepath
