#include "store/sweep_queue.hpp"

#include "core/error.hpp"

namespace onepath {
namespace {

// Milliseconds on the database's clock (clock_timestamp: the time now, not the transaction's start).
constexpr const char* kNowMs = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

}  // namespace

SweepQueue::SweepQueue(Journal& journal) : journal_(journal) {
  if (journal.db().dialect() != "postgresql")
    throw InputError("a sweep spread over workers needs a PostgreSQL journal (--db postgresql://...): its workers claim cells through it, "
                     "and " + journal.db().describe() + " is not one");
}

void SweepQueue::enqueue(std::int64_t run_id, const std::vector<std::int64_t>& cells) {
  Db& db = journal_.db();
  db.begin();
  try {
    auto ins = db.prepare("INSERT INTO sweep_queue (run_id, cell, state) VALUES ($1, $2, 'waiting') ON CONFLICT (run_id, cell) DO NOTHING");
    for (std::int64_t cell : cells) {
      ins->reset();
      ins->bind(1, run_id);
      ins->bind(2, cell);
      ins->step();
    }
    db.commit();
  } catch (...) {
    db.rollback();
    throw;
  }
}

std::optional<SweepQueue::Claim> SweepQueue::claim(std::int64_t run_id, const std::string& worker, std::int64_t lease_ms) {
  auto q = journal_.db().prepare(std::string("UPDATE sweep_queue SET state = 'claimed', worker = $2, heartbeat = ") + kNowMs +
                                 ", attempts = attempts + 1 WHERE run_id = $1 AND cell = (SELECT cell FROM sweep_queue WHERE run_id = $1 AND "
                                 "(state = 'waiting' OR (state = 'claimed' AND heartbeat < " + kNowMs +
                                 " - $3)) ORDER BY cell LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING cell, attempts");
  q->bind(1, run_id);
  q->bind(2, worker);
  q->bind(3, lease_ms);
  if (!q->step()) return std::nullopt;
  return Claim{q->int64(0), q->int64(1)};
}

void SweepQueue::heartbeat(std::int64_t run_id, const std::string& worker) {
  auto q = journal_.db().prepare(std::string("UPDATE sweep_queue SET heartbeat = ") + kNowMs +
                                 " WHERE run_id = $1 AND worker = $2 AND state = 'claimed'");
  q->bind(1, run_id);
  q->bind(2, worker);
  q->step();
}

void SweepQueue::release(std::int64_t run_id, const std::string& worker) {
  auto q = journal_.db().prepare("UPDATE sweep_queue SET state = 'waiting', worker = NULL WHERE run_id = $1 AND worker = $2 AND state = 'claimed'");
  q->bind(1, run_id);
  q->bind(2, worker);
  q->step();
}

bool SweepQueue::finish(std::int64_t run_id, const std::string& worker, const SweepCellRow& row) {
  Db& db = journal_.db();
  db.begin();
  try {
    auto done = db.prepare("UPDATE sweep_queue SET state = 'done' WHERE run_id = $1 AND cell = $2 AND worker = $3 AND state = 'claimed' RETURNING cell");
    done->bind(1, run_id);
    done->bind(2, row.cell);
    done->bind(3, worker);
    if (!done->step()) {
      db.rollback();
      return false;
    }
    done.reset();
    SweepCells(journal_).record(run_id, row);
    db.commit();
    return true;
  } catch (...) {
    db.rollback();
    throw;
  }
}

SweepQueue::Counts SweepQueue::counts(std::int64_t run_id) {
  Counts c;
  auto q = journal_.db().prepare("SELECT state, COUNT(*), SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) FROM sweep_queue WHERE run_id = $1 GROUP BY state");
  q->bind(1, run_id);
  while (q->step()) {
    const std::string state = q->text(0);
    (state == "waiting" ? c.waiting : state == "claimed" ? c.claimed : c.done) += q->int64(1);
    c.retried += q->int64(2);
  }
  auto w = journal_.db().prepare("SELECT DISTINCT worker FROM sweep_queue WHERE run_id = $1 AND state = 'claimed' ORDER BY worker");
  w->bind(1, run_id);
  while (w->step()) c.workers.push_back(w->text(0));
  return c;
}

}  // namespace onepath
