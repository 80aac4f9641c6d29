#pragma once
// The Slurm executor: a batch of cells goes into the journal's queue, a job array of
// `onepath sweep worker` tasks is submitted with sbatch (the user's own sbatch options passed
// through), and the submitter watches the journal until every cell of the batch is recorded.
// The scheduler places, restarts and accounts for the tasks; onepath schedules nothing itself.
// A task that dies leaves its cell to the others after the lease; a job that ends with cells
// missing is an error that names its output files, and the same command resumes.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sweep/run_sweep.hpp"

namespace onepath {

struct SlurmOptions {
  std::string journal;  // postgresql://..., reachable from the nodes
  std::int64_t run_id = 0;
  std::size_t tasks = 4;                 // array tasks per batch (fewer when fewer cells)
  std::vector<std::string> sbatch_args;  // passed to sbatch as they are (--partition=..., --time=...)
  std::string folder;                    // the worker script and the tasks' output files
  std::int64_t lease_ms = 60000;
  std::function<void(std::size_t done, std::size_t total)> progress;
  std::function<void(const std::string&)> log;
};

// SweepOptions::executor for `--executor slurm`.
std::function<void(const std::vector<std::size_t>&, SweepOutcome&)> slurm_executor(const SlurmOptions& options);

}  // namespace onepath
