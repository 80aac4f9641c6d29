#pragma once
// A command's work as a run of the journal the config names (none when it names none):
// started before the work, removed when the input turned out bad (nothing ran: exit 2),
// failed with the error when the work failed (exit 1). The command ends it on success.
#include <memory>
#include <string>

#include "core/error.hpp"
#include "run/backtest.hpp"
#include "run/run_config.hpp"
#include "store/journal.hpp"

namespace onepath::cli {

struct RecordedRun {
  std::unique_ptr<Journal> journal;
  std::int64_t id = 0;

  RecordedRun(const RunConfig& c, const char* kind) {
    if (c.journal.empty()) return;
    journal = Journal::open(c.journal);
    id = journal->start_run(run_info(c, kind, ONEPATH_GIT_REV));
  }
  template <class Work>
  auto run(Work&& work) -> decltype(work()) {
    try {
      return work();
    } catch (const InputError&) {
      if (journal) journal->delete_run(id);
      throw;
    } catch (const std::exception& e) {
      if (journal) journal->fail_run(id, e.what());
      throw;
    }
  }
};

}  // namespace onepath::cli
