#pragma once
// The SQL the journal needs, behind one interface for SQLite and PostgreSQL. Statements
// take parameters as $1, $2, ... in order of appearance (both engines read that form);
// values are never spliced into SQL text.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace onepath {

class Statement {
 public:
  virtual ~Statement() = default;
  virtual void bind(int index, std::int64_t v) = 0;  // 1-based
  virtual void bind(int index, double v) = 0;
  virtual void bind(int index, std::string_view v) = 0;
  virtual void bind_null(int index) = 0;
  // Runs it (first call) or moves to the next row; false when there is none.
  virtual bool step() = 0;
  virtual std::int64_t int64(int column) const = 0;  // 0-based
  virtual double real(int column) const = 0;
  virtual std::string text(int column) const = 0;
  virtual bool is_null(int column) const = 0;
  virtual void reset() = 0;  // ready for new bindings
};

class Db {
 public:
  virtual ~Db() = default;
  virtual std::string_view dialect() const = 0;  // "sqlite" or "postgresql"
  virtual void exec(const std::string& sql) = 0;  // no parameters, no rows
  virtual std::unique_ptr<Statement> prepare(const std::string& sql) = 0;
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual std::string describe() const = 0;  // where it is, for messages
};

// "postgresql://..." / "postgres://..." open PostgreSQL; anything else is a SQLite file
// ("sqlite:" prefix optional). Throws InputError with a clear message when it cannot.
std::unique_ptr<Db> open_db(const std::string& address);
std::unique_ptr<Db> open_sqlite(const std::string& path);
std::unique_ptr<Db> open_postgres(const std::string& dsn);

}  // namespace onepath
