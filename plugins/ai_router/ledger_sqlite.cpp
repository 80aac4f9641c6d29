#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "ledger_db.hpp"

namespace ai {
namespace {

class SqliteDb : public LedgerDb {
 public:
  explicit SqliteDb(const std::string& path) {
    const auto dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    owner_.reset(db_);  // closed however this constructor ends
    if (rc != SQLITE_OK) throw std::runtime_error("quota ledger " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
    sqlite3_busy_timeout(db_, 30000);
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

  // Switching to WAL takes a lock SQLite's busy handler does not wait for: two processes
  // opening a new ledger at once retry here (for up to 30 s).
  void exec_when_free(const std::string& sql) {
    for (int tries = 0;; ++tries) {
      char* err = nullptr;
      const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
      if (rc == SQLITE_OK) return;
      std::string m = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries >= 3000) throw std::runtime_error("ledger: " + m);
      ::usleep(10000);
    }
  }

  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3, Close> owner_;
};

}  // namespace

std::unique_ptr<LedgerDb> open_sqlite_ledger(const std::string& path) { return std::make_unique<SqliteDb>(path); }

}  // namespace ai
