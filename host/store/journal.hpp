#pragma once
// The journal of runs, on SQLite (default) or PostgreSQL with one schema and one behaviour.
// The schema is versioned; migrations run when a journal is opened, and a journal newer
// than this program is refused.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/kernel.hpp"
#include "store/db.hpp"

namespace onepath {

constexpr int kJournalSchemaVersion = 9;
constexpr const char* kDefaultJournal = "runs/onepath.db";

struct RunInfo {
  std::int64_t id = 0;
  TimestampMs created_at = 0, finished_at = 0;
  std::string kind = "backtest";  // backtest | paper | ai
  std::string status;             // running | complete | failed | stopped
  std::string config_path, config_text, config_sha256, git_revision, feature_set_version, data_fingerprint;
  std::string metrics, error, host;
  std::string files;  // every script and data file the run used: "SHA-256  path" lines, as sha256sum prints
  std::vector<std::string> feature_columns;  // the names of each decision's features, in order
  std::int64_t pid = 0;
  std::string pid_start;  // the process's start time (core/process.hpp): with the pid, names it
  std::string symbols;    // comma-separated
};

// One intent's audit trail: the features it was decided on and what became of it.
struct DecisionRecord {
  TimestampMs ts = 0;
  int symbol = 0;
  std::string action, outcome, filter, reason, risk;  // risk: the answer as JSON, empty for exits
  std::string feature_row_hash;
  std::vector<double> features;
  double quantity = 0;
  std::string strategy_version;  // the code that decided (a hot reload changes it)
};

struct TradeRecord {
  std::string symbol;
  Trade trade;
};

// The ledger as CSV (trades.csv, `runs export`): a header and one row per trade.
std::string trades_csv(const std::vector<TradeRecord>& trades);

class Journal {
 public:
  explicit Journal(std::unique_ptr<Db> db);
  static std::unique_ptr<Journal> open(const std::string& address) { return std::make_unique<Journal>(open_db(address)); }
  // For commands that only read: a SQLite journal that does not exist is an InputError
  // ("no journal at PATH"), and nothing is created.
  static std::unique_ptr<Journal> open_existing(const std::string& address);
  const Db& db() const { return *db_; }
  Db& db() { return *db_; }

  // Records a run as running, visible at once. Returns its id.
  std::int64_t start_run(const RunInfo& info);
  // Writes the ledger, the equity curve (every `equity_every`-th mark), the decisions and
  // the metrics, and marks the run complete: one transaction, visible together.
  struct Outcome {
    std::string feature_set_version, data_fingerprint, metrics_json;
    std::string files = "";  // when not empty, replaces the run's files (the run knows them all now)
    std::vector<std::string> feature_columns = {};  // when not empty: the decisions' feature names
  };
  void complete_run(std::int64_t id, const std::vector<std::string>& symbols, const std::vector<Trade>& trades,
                    const std::vector<EquityPoint>& equity, const std::vector<DecisionRecord>& decisions, const Outcome& outcome,
                    std::size_t equity_every = 1);
  void fail_run(std::int64_t id, const std::string& error);
  // A run and everything of it, gone (one transaction). false: no such run.
  bool delete_run(std::int64_t id);

  // A run that grows while it goes (a paper session): rows appended as they happen, each
  // call one transaction, numbered on from `first`.
  struct Seqs {
    std::int64_t trades = 0, equity = 0, decisions = 0;
  };
  void append(std::int64_t id, const std::vector<std::string>& symbols, const Seqs& first, const std::vector<Trade>& trades,
              const std::vector<EquityPoint>& equity, const std::vector<DecisionRecord>& decisions);
  // The mark numbered `seq` made again (the end-of-data close-out re-marks the last close).
  void replace_mark(std::int64_t id, std::int64_t seq, const EquityPoint& mark);
  // Resuming from a snapshot: rows past what the snapshot had seen are dropped (they will
  // be made again), and the run is running again under this process.
  void resume_run(std::int64_t id, const Seqs& keep);
  // The end of a growing run: its status (complete | stopped) and what it says.
  void end_run(std::int64_t id, const std::string& status, const Outcome& outcome);
  void event(std::int64_t run_id, const std::string& correlation_id, const std::string& name, const std::string& fields_json);

  std::vector<RunInfo> list_runs(std::size_t limit = 50);
  std::optional<RunInfo> run(std::int64_t id);
  std::vector<TradeRecord> trades(std::int64_t id);
  std::vector<EquityPoint> equity(std::int64_t id);
  std::vector<DecisionRecord> decisions(std::int64_t id);  // symbol as index into the run's symbols
  struct Event {
    TimestampMs ts = 0;
    std::string name, fields;
  };
  std::vector<Event> events(std::int64_t id);
  // Events of any run (or of none) with this correlation id, oldest first: a model's
  // promotions ("model:NAME"), a challenger's shadow evaluations ("shadow:NAME@V").
  std::vector<Event> events_correlated(const std::string& correlation_id);
  std::size_t count(const std::string& table, std::int64_t run_id);

  // "running" for a run whose process is gone (killed, crashed) reads "failed (process gone)".
  static std::string display_status(const RunInfo& info);

 private:
  void migrate();
  void insert_results(std::int64_t id, const std::vector<std::string>& symbols, const Seqs& first, const std::vector<Trade>& trades,
                      const std::vector<EquityPoint>& equity, const std::vector<DecisionRecord>& decisions);
  void set_outcome(std::int64_t id, const std::string& status, const Outcome& outcome);
  template <class F>
  void in_transaction(F&& work);
  std::unique_ptr<Db> db_;
};

}  // namespace onepath
