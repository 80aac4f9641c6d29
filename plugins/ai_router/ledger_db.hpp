#pragma once
// The two databases a quota ledger lives in, behind one small interface: SQLite (a file,
// WAL) and PostgreSQL (beside a PostgreSQL journal). The ledger writes one SQL for both:
// $1..$n parameters in order, RETURNING, ON CONFLICT; `lock()` begins the transaction in
// which every reservation is decided, one process at a time.
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace ai {

using SqlValue = std::variant<std::int64_t, double, std::string>;

class SqlRow {
 public:
  explicit SqlRow(std::vector<std::string> cells) : cells_(std::move(cells)) {}
  std::int64_t i64(std::size_t c) const;  // 0 for NULL
  double f64(std::size_t c) const;
  const std::string& text(std::size_t c) const { return cells_.at(c); }
  std::size_t size() const { return cells_.size(); }

 private:
  std::vector<std::string> cells_;  // every value as text (NULL: empty)
};

class LedgerDb {
 public:
  virtual ~LedgerDb() = default;
  virtual void exec(const std::string& sql) = 0;  // statements without parameters
  virtual std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  virtual void lock() = 0;  // BEGIN, holding the ledger's write lock until commit or rollback
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual const char* id_type() const = 0;  // an auto-numbered primary key column's type
};

// "postgresql://..." (or "postgres://") is PostgreSQL, anything else a SQLite file (its
// folder is created). std::runtime_error naming the address.
// A SQLite ledger waits this long in all for a lock another process holds, then fails
// naming who may hold it.
constexpr std::int64_t kLedgerLockWaitMs = 30000;
std::unique_ptr<LedgerDb> open_ledger_db(const std::string& address, std::int64_t lock_wait_ms = kLedgerLockWaitMs);

}  // namespace ai
