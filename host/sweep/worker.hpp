#pragma once
// One worker of a sweep spread over a cluster (`onepath sweep worker`, a task of the Slurm
// job array): it reads the sweep's files named by its run in the journal (refusing them if
// they changed since), the market once, then claims cells from the journal's queue
// (store/sweep_queue.hpp) one at a time, runs each exactly as the local executor does, and
// records it. It heartbeats its claim from a second connection; it ends when no cell is
// waiting or held by another live worker.
#include <cstdint>
#include <functional>
#include <string>

namespace onepath {

struct SweepWorkerOptions {
  std::string journal;  // postgresql://...
  std::int64_t run_id = 0;
  std::int64_t lease_ms = 60000;  // a claim not heartbeat for this long is given to another worker
  std::string name;               // default host:pid
  std::function<void(const std::string&)> log;
};

struct SweepWorkerReport {
  std::size_t cells = 0;  // run and recorded by this worker
  std::size_t lost = 0;   // run, but the claim had passed to another (not recorded)
};

// Throws InputError (no such sweep, files changed, not PostgreSQL), ScriptError, Interrupted.
SweepWorkerReport run_sweep_worker(const SweepWorkerOptions& options);

// host:pid, the name a worker claims cells under.
std::string default_worker_name();

}  // namespace onepath
