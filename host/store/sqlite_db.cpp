#include <sqlite3.h>

#include <filesystem>

#include "core/error.hpp"
#include "store/db.hpp"

namespace onepath {
namespace {

class SqliteStatement final : public Statement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~SqliteStatement() override { sqlite3_finalize(s_); }
  void bind(int i, std::int64_t v) override { check(sqlite3_bind_int64(s_, i, v)); }
  void bind(int i, double v) override { check(sqlite3_bind_double(s_, i, v)); }
  void bind(int i, std::string_view v) override {
    check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  void bind_null(int i) override { check(sqlite3_bind_null(s_, i)); }
  bool step() override {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("journal (SQLite): ") + sqlite3_errmsg(db_));
  }
  std::int64_t int64(int c) const override { return sqlite3_column_int64(s_, c); }
  double real(int c) const override { return sqlite3_column_double(s_, c); }
  std::string text(int c) const override {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(s_, c))) : "";
  }
  bool is_null(int c) const override { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  void reset() override {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error(std::string("journal (SQLite): ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* s_;
};

class SqliteDb final : public Db {
 public:
  explicit SqliteDb(std::string path) : path_(std::move(path)) {
    auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    const int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    owner_.reset(db_);  // closed however this constructor ends (a corrupt file fails in the PRAGMAs below)
    if (rc != SQLITE_OK) throw InputError("cannot open the journal '" + path_ + "': " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
    sqlite3_busy_timeout(db_, 30'000);  // several writers: wait for the lock rather than fail
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
  }
  ~SqliteDb() override = default;
  std::string_view dialect() const override { return "sqlite"; }
  void exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err ? err : "error";
      sqlite3_free(err);
      throw std::runtime_error("journal (SQLite " + path_ + "): " + why);
    }
  }
  std::unique_ptr<Statement> prepare(const std::string& sql) override {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error("journal (SQLite): " + std::string(sqlite3_errmsg(db_)) + " in: " + sql);
    return std::make_unique<SqliteStatement>(db_, s);
  }
  void begin() override { exec("BEGIN IMMEDIATE"); }
  void commit() override { exec("COMMIT"); }
  void rollback() override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }
  std::string describe() const override { return path_; }

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  std::string path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3, Close> owner_;
};

}  // namespace

std::unique_ptr<Db> open_sqlite(const std::string& path) { return std::make_unique<SqliteDb>(path); }

std::unique_ptr<Db> open_db(const std::string& address) {
  if (address.starts_with("postgresql://") || address.starts_with("postgres://")) return open_postgres(address);
  return open_sqlite(address.starts_with("sqlite:") ? address.substr(7) : address);
}

}  // namespace onepath
