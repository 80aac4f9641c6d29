#pragma once
// The cells of a sweep spread over a cluster: each waits in this queue (PostgreSQL only)
// until a worker claims it, row-locked with SKIP LOCKED so two workers never take the same
// one. A claim lives while its worker heartbeats; when the worker dies (a task killed, a node
// lost) the lease runs out and the next worker claims the cell again. A result is recorded
// only by the worker that holds the claim, in the transaction that marks the cell done, so
// no cell is recorded twice. Times are the database's clock, the one clock every node shares.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/journal.hpp"
#include "store/sweep_cells.hpp"

namespace onepath {

class SweepQueue {
 public:
  // InputError unless the journal is PostgreSQL.
  explicit SweepQueue(Journal& journal);
  // Adds cells not queued yet (the ones queued keep their state).
  void enqueue(std::int64_t run_id, const std::vector<std::int64_t>& cells);
  struct Claim {
    std::int64_t cell = 0, attempt = 0;  // attempt 2+: a worker holding it before died
  };
  // The lowest waiting cell, or one whose claim has not heartbeat for `lease_ms`.
  std::optional<Claim> claim(std::int64_t run_id, const std::string& worker, std::int64_t lease_ms);
  void heartbeat(std::int64_t run_id, const std::string& worker);  // every claim `worker` holds
  // Gives back every claim `worker` holds (it was told to stop): they wait for the next worker.
  void release(std::int64_t run_id, const std::string& worker);
  // Records the cell and marks it done; false (nothing recorded) when `worker` no longer holds it.
  bool finish(std::int64_t run_id, const std::string& worker, const SweepCellRow& row);
  struct Counts {
    std::int64_t waiting = 0, claimed = 0, done = 0, retried = 0;  // retried: claimed more than once
    std::vector<std::string> workers;                              // holding a claim now
  };
  Counts counts(std::int64_t run_id);

 private:
  Journal& journal_;
};

}  // namespace onepath
