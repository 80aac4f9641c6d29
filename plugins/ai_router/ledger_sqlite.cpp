#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "ledger_db.hpp"

namespace ai {
namespace {

class SqliteDb : public LedgerDb {
 public:
  SqliteDb(const std::string& path, std::int64_t lock_wait_ms) : path_(path), lock_wait_ms_(lock_wait_ms) {
    const auto dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    owner_.reset(db_);  // closed however this constructor ends
    if (rc != SQLITE_OK) throw std::runtime_error("quota ledger " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
    exec_when_free("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
  }
  ~SqliteDb() override = default;

  void exec(const std::string& sql) override { exec_when_free(sql); }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) fail();
    struct Finalize {
      sqlite3_stmt* s;
      ~Finalize() { sqlite3_finalize(s); }
    } finalize{s};
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int at = static_cast<int>(i) + 1, rc = std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::int64_t>) return sqlite3_bind_int64(s, at, v);
            else if constexpr (std::is_same_v<T, double>) return sqlite3_bind_double(s, at, v);
            else return sqlite3_bind_text(s, at, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
          },
          params[i]);
      if (rc != SQLITE_OK) fail();
    }
    std::vector<SqlRow> rows;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) return rows;
      if (rc != SQLITE_ROW) fail();
      std::vector<std::string> cells;
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        const auto* p = sqlite3_column_text(s, c);
        cells.emplace_back(p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, c))) : "");
      }
      rows.emplace_back(std::move(cells));
    }
  }

  // IMMEDIATE: the write lock first, so two processes cannot both read "room for one more".
  void lock() override { exec_when_free("BEGIN IMMEDIATE"); }
  void commit() override { exec_when_free("COMMIT"); }
  void rollback() override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }
  const char* id_type() const override { return "INTEGER PRIMARY KEY"; }

 private:
  [[noreturn]] void fail() { throw std::runtime_error(std::string("ledger: ") + sqlite3_errmsg(db_)); }

  // Waits for a lock another process holds, lock_wait_ms in all (SQLite's busy handler,
  // and retries for the lock switching to WAL takes, which that handler does not wait for),
  // then says who may hold it.
  void exec_when_free(const std::string& sql) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(lock_wait_ms_);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      sqlite3_busy_timeout(db_, static_cast<int>(std::max<std::int64_t>(left, 0)));
      char* err = nullptr;
      const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
      if (rc == SQLITE_OK) return;
      std::string m = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) throw std::runtime_error("ledger: " + m);
      if (left <= 0)
        throw std::runtime_error("the quota ledger " + path_ + " stayed locked for " + std::to_string(lock_wait_ms_) +
                                 " ms by another process using it (" + holders() + "); `fuser " + path_ + "` names them");
      ::usleep(10000);
    }
  }

  // The processes with reservations in the ledger (a reader is not blocked by the writer in WAL).
  std::string holders() {
    std::string out;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT DISTINCT owner FROM ai_reservations", -1, &s, nullptr) == SQLITE_OK)
      while (sqlite3_step(s) == SQLITE_ROW)
        if (const auto* p = sqlite3_column_text(s, 0)) out += (out.empty() ? "" : ", ") + std::string(reinterpret_cast<const char*>(p));
    sqlite3_finalize(s);
    return out.empty() ? "none holds a reservation" : "with reservations: " + out + " (host:pid:start)";
  }

  std::string path_;
  std::int64_t lock_wait_ms_;

  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3, Close> owner_;
};

}  // namespace

std::unique_ptr<LedgerDb> open_sqlite_ledger(const std::string& path, std::int64_t lock_wait_ms) {
  return std::make_unique<SqliteDb>(path, lock_wait_ms);
}

}  // namespace ai
