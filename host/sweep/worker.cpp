#include "sweep/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "store/sweep_queue.hpp"
#include "sweep/record.hpp"
#include "sweep/run_sweep.hpp"

namespace onepath {
namespace {

// Renews the worker's claims every quarter lease, on its own connection, until destroyed.
class Heartbeat {
 public:
  explicit Heartbeat(const SweepWorkerOptions& o) : journal_(Journal::open(o.journal)), queue_(*journal_) {
    thread_ = std::thread([this, o] {
      std::unique_lock<std::mutex> hold(lock_);
      while (!stop_) {
        wake_.wait_for(hold, std::chrono::milliseconds(std::max<std::int64_t>(50, o.lease_ms / 4)));
        if (stop_) break;
        try {
          queue_.heartbeat(o.run_id, o.name);
        } catch (...) {
          // A missed beat only risks the lease; the cell's result is checked against the claim.
        }
      }
    });
  }
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> hold(lock_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  std::unique_ptr<Journal> journal_;
  SweepQueue queue_;
  std::mutex lock_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

std::string default_worker_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

SweepWorkerReport run_sweep_worker(const SweepWorkerOptions& given) {
  SweepWorkerOptions o = given;
  if (o.name.empty()) o.name = default_worker_name();
  auto log = [&](const std::string& line) {
    if (o.log) o.log(line);
  };
  auto journal = Journal::open_existing(o.journal);
  SweepQueue queue(*journal);
  const SweepConfig config = recorded_sweep_config(sweep_run(*journal, o.run_id));
  const SweepSetup setup = prepare_sweep(config);
  const CellRunner runner(config, setup);
  log("worker " + o.name + ": sweep run " + std::to_string(o.run_id) + ", " + std::to_string(setup.plan.cells.size()) + " cells planned");
  SweepWorkerReport report;
  Heartbeat beat(o);
  const auto idle = std::chrono::milliseconds(std::clamp<std::int64_t>(o.lease_ms / 4, 50, 1000));
  for (;;) {
    check_interrupted();
    const auto claim = queue.claim(o.run_id, o.name, o.lease_ms);
    if (!claim) {
      const SweepQueue::Counts n = queue.counts(o.run_id);
      if (n.waiting + n.claimed == 0) break;
      std::this_thread::sleep_for(idle);  // cells held by others: one may be a dead worker's, free after its lease
      continue;
    }
    if (claim->cell < 0 || static_cast<std::size_t>(claim->cell) >= setup.plan.cells.size())
      throw InputError("sweep run " + std::to_string(o.run_id) + " queues cell " + std::to_string(claim->cell) + ", which its plan does not have");
    const SweepCell& cell = setup.plan.cells[static_cast<std::size_t>(claim->cell)];
    CellResult r;
    try {
      r = runner.run(cell);
    } catch (const Interrupted&) {
      queue.release(o.run_id, o.name);  // scancel, Ctrl-C: the next worker need not wait for the lease
      log("stopped: cell " + std::to_string(cell.index + 1) + " given back unfinished");
      throw;
    }
    if (queue.finish(o.run_id, o.name, cell_row_of(cell, r))) {
      ++report.cells;
      log("cell " + std::to_string(cell.index + 1) + " (" + cell.key() + ")" + (claim->attempt > 1 ? ", attempt " + std::to_string(claim->attempt) : "") +
          ": done in " + std::to_string(r.seconds) + " s");
    } else {
      ++report.lost;
      log("cell " + std::to_string(cell.index + 1) + ": its lease ran out and another worker took it; this result is dropped");
    }
  }
  log("worker " + o.name + ": " + std::to_string(report.cells) + " cells recorded, nothing left to claim");
  return report;
}

}  // namespace onepath
