#include <libpq-fe.h>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "store/db.hpp"

namespace onepath {
namespace {

// The address without its password, for messages.
std::string redact(const std::string& dsn) {
  auto at = dsn.find('@'), scheme = dsn.find("://");
  if (at == std::string::npos || scheme == std::string::npos) return dsn;
  auto colon = dsn.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return dsn;
  return dsn.substr(0, colon) + ":***" + dsn.substr(at);
}

class PgStatement final : public Statement {
 public:
  PgStatement(PGconn* c, std::string sql) : c_(c), sql_(std::move(sql)) {}
  ~PgStatement() override { PQclear(res_); }
  void bind(int i, std::int64_t v) override { set(i, std::to_string(v)); }
  void bind(int i, double v) override {
    set(i, std::isnan(v) ? "NaN" : std::isinf(v) ? (v > 0 ? "Infinity" : "-Infinity") : format_double(v));
  }
  void bind(int i, std::string_view v) override { set(i, std::string(v)); }
  void bind_null(int i) override {
    grow(i);
    values_[i - 1].reset();
  }
  bool step() override {
    if (!res_) {
      std::vector<const char*> p(values_.size());
      for (std::size_t k = 0; k < values_.size(); ++k) p[k] = values_[k] ? values_[k]->c_str() : nullptr;
      res_ = PQexecParams(c_, sql_.c_str(), static_cast<int>(p.size()), nullptr, p.data(), nullptr, nullptr, 0);
      auto st = PQresultStatus(res_);
      if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        throw std::runtime_error("journal (PostgreSQL): " + std::string(PQresultErrorMessage(res_)));
      row_ = -1;
    }
    return ++row_ < PQntuples(res_);
  }
  std::int64_t int64(int c) const override { return std::stoll(PQgetvalue(res_, row_, c)); }
  double real(int c) const override { return std::strtod(PQgetvalue(res_, row_, c), nullptr); }
  std::string text(int c) const override { return PQgetvalue(res_, row_, c); }
  bool is_null(int c) const override { return PQgetisnull(res_, row_, c); }
  void reset() override {
    PQclear(res_);
    res_ = nullptr;
    values_.clear();
  }

 private:
  void grow(int i) {
    if (static_cast<int>(values_.size()) < i) values_.resize(static_cast<std::size_t>(i));
  }
  void set(int i, std::string v) {
    grow(i);
    values_[i - 1] = std::move(v);
  }
  PGconn* c_;
  std::string sql_;
  std::vector<std::optional<std::string>> values_;
  PGresult* res_ = nullptr;
  int row_ = -1;
};

class PgDb final : public Db {
 public:
  explicit PgDb(const std::string& dsn) : where_(redact(dsn)) {
    c_ = PQconnectdb(dsn.c_str());
    owner_.reset(c_);  // finished however this constructor ends
    if (PQstatus(c_) != CONNECTION_OK) {
      std::string why = PQerrorMessage(c_);
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      throw InputError("cannot connect to the journal at " + where_ + ": " + why);
    }
    exec("SET client_min_messages = warning");
  }
  ~PgDb() override = default;
  std::string_view dialect() const override { return "postgresql"; }
  void exec(const std::string& sql) override {
    PGresult* r = PQexec(c_, sql.c_str());
    auto st = PQresultStatus(r);
    std::string why = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error("journal (PostgreSQL " + where_ + "): " + why);
  }
  std::unique_ptr<Statement> prepare(const std::string& sql) override { return std::make_unique<PgStatement>(c_, sql); }
  void begin() override { exec("BEGIN"); }
  void commit() override { exec("COMMIT"); }
  void rollback() override {
    PGresult* r = PQexec(c_, "ROLLBACK");
    PQclear(r);
  }
  std::string describe() const override { return where_; }

 private:
  std::string where_;
  struct Finish {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  PGconn* c_ = nullptr;
  std::unique_ptr<PGconn, Finish> owner_;
};

}  // namespace

std::unique_ptr<Db> open_postgres(const std::string& dsn) { return std::make_unique<PgDb>(dsn); }

}  // namespace onepath
