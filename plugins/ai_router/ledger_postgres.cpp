#include <libpq-fe.h>

#include <stdexcept>

#include "ledger_db.hpp"

namespace ai {
namespace {

// Every ledger transaction of every process takes this advisory lock first.
constexpr const char* kLockKey = "727274101";  // "ai ledger"

class PostgresDb : public LedgerDb {
 public:
  explicit PostgresDb(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str())), owner_(conn_) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string m = PQerrorMessage(conn_);
      throw std::runtime_error("quota ledger: cannot connect to PostgreSQL: " + m);
    }
    exec("SET client_min_messages = warning");
  }
  ~PostgresDb() override = default;

  void exec(const std::string& sql) override { check(PQexec(conn_, sql.c_str()), sql); }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::vector<std::string> text;
    for (const auto& p : params)
      text.push_back(std::visit(
          [](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(v);
            else if constexpr (std::is_same_v<T, double>) {
              char buf[32];
              std::snprintf(buf, sizeof buf, "%.17g", v);
              return buf;
            } else return v;
          },
          p));
    std::vector<const char*> values;
    for (const auto& t : text) values.push_back(t.c_str());
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0);
    check_keep(r, sql);
    std::vector<SqlRow> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> cells;
      for (int c = 0; c < PQnfields(r); ++c) cells.emplace_back(PQgetisnull(r, i, c) ? "" : PQgetvalue(r, i, c));
      rows.emplace_back(std::move(cells));
    }
    PQclear(r);
    return rows;
  }

  void lock() override {
    exec("BEGIN");
    exec(std::string("SELECT pg_advisory_xact_lock(") + kLockKey + ")");
  }
  void commit() override { exec("COMMIT"); }
  void rollback() override { PQclear(PQexec(conn_, "ROLLBACK")); }
  const char* id_type() const override { return "BIGSERIAL PRIMARY KEY"; }

 private:
  void check_keep(PGresult* r, const std::string& sql) {
    const auto st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return;
    std::string m = PQresultErrorMessage(r);
    PQclear(r);
    throw std::runtime_error("ledger (PostgreSQL): " + m + " in: " + sql.substr(0, 80));
  }
  void check(PGresult* r, const std::string& sql) {
    check_keep(r, sql);
    PQclear(r);
  }
  struct Finish {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  PGconn* conn_;
  std::unique_ptr<PGconn, Finish> owner_;  // finished however the constructor ends
};

}  // namespace

std::unique_ptr<LedgerDb> open_postgres_ledger(const std::string& dsn) { return std::make_unique<PostgresDb>(dsn); }

}  // namespace ai
