#include "ledger.hpp"

#include <sqlite3.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ai {
namespace {

// A process is named by its pid and its start time, so that a pid reused by another
// process does not keep a dead process's reservations alive.
std::string start_time_of(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return "";
  const auto paren = line.rfind(')');
  if (paren == std::string::npos) return "";
  std::istringstream rest(line.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) return field;
  return "";
}

bool owner_alive(const std::string& owner) {
  const auto colon = owner.find(':');
  if (colon == std::string::npos) return false;
  const long pid = std::strtol(owner.c_str(), nullptr, 10);
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  return start_time_of(pid) == owner.substr(colon + 1);
}

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) throw std::runtime_error(std::string("ledger: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(s_, i, v)); }
  Stmt& bind(int i, double v) { return check(sqlite3_bind_double(s_, i, v)); }
  Stmt& bind(int i, const std::string& v) { return check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT)); }
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("ledger: ") + sqlite3_errmsg(db_));
  }
  std::int64_t i64(int c) { return sqlite3_column_int64(s_, c); }
  double f64(int c) { return sqlite3_column_double(s_, c); }
  std::string text(int c) {
    const auto* p = sqlite3_column_text(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, c))) : "";
  }

 private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error(std::string("ledger: ") + sqlite3_errmsg(db_));
    return *this;
  }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "error";
    sqlite3_free(err);
    throw std::runtime_error("ledger: " + m);
  }
}

// Opening: switching to WAL needs a lock SQLite's busy handler does not wait for, so two
// processes opening a new ledger at once retry here (for up to 30 s).
void exec_when_free(sqlite3* db, const char* sql) {
  for (int tries = 0;; ++tries) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return;
    std::string m = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries >= 3000) throw std::runtime_error("ledger: " + m);
    ::usleep(10000);
  }
}

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS calls(id INTEGER PRIMARY KEY, provider TEXT NOT NULL, day INTEGER NOT NULL, ts INTEGER NOT NULL,
  tokens INTEGER NOT NULL, cost REAL NOT NULL, correlation_id TEXT);
CREATE INDEX IF NOT EXISTS calls_by_day ON calls(provider, day);
CREATE INDEX IF NOT EXISTS calls_by_ts ON calls(provider, ts);
CREATE TABLE IF NOT EXISTS reservations(id INTEGER PRIMARY KEY, provider TEXT NOT NULL, ts INTEGER NOT NULL, tokens INTEGER NOT NULL,
  owner TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts(provider TEXT NOT NULL, day INTEGER NOT NULL, metric TEXT NOT NULL, threshold INTEGER NOT NULL,
  PRIMARY KEY(provider, day, metric, threshold));
CREATE TABLE IF NOT EXISTS cooldowns(provider TEXT PRIMARY KEY, until_ms INTEGER NOT NULL, reason TEXT);
CREATE TABLE IF NOT EXISTS answers(task_key TEXT PRIMARY KEY, result TEXT NOT NULL, ts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS handoffs(task_id TEXT PRIMARY KEY, chain_id TEXT NOT NULL, summary TEXT NOT NULL, context TEXT NOT NULL,
  ts INTEGER NOT NULL);
)";

}  // namespace

// Runs `work` in one BEGIN IMMEDIATE transaction: the write lock is taken first, so two
// processes cannot both read "room for one more" and both take it.
template <class F>
auto Ledger::immediate(F&& work) {
  exec(db_, "BEGIN IMMEDIATE");
  try {
    if constexpr (std::is_void_v<decltype(work())>) {
      work();
      exec(db_, "COMMIT");
    } else {
      auto r = work();
      exec(db_, "COMMIT");
      return r;
    }
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

Ledger::Ledger(const std::string& path) : path_(path) {
  const auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("quota ledger " + path + ": " + m);
  }
  sqlite3_busy_timeout(db_, 30000);
  exec_when_free(db_, "PRAGMA journal_mode=WAL");
  exec(db_, "PRAGMA synchronous=NORMAL");
  exec_when_free(db_, (std::string("BEGIN IMMEDIATE;") + kSchema + "COMMIT;").c_str());
  owner_ = std::to_string(::getpid()) + ":" + start_time_of(::getpid());
  reap_dead_owners();
}

Ledger::~Ledger() { sqlite3_close(db_); }

void Ledger::reap_dead_owners() {
  immediate([&] {
    std::vector<std::string> dead;
    Stmt q(db_, "SELECT DISTINCT owner FROM reservations");
    while (q.step())
      if (!owner_alive(q.text(0))) dead.push_back(q.text(0));
    for (const auto& o : dead) Stmt(db_, "DELETE FROM reservations WHERE owner = ?").bind(1, o).step();
  });
}

Ledger::Used Ledger::used(const std::string& provider, std::int64_t now_ms) {
  Used u;
  Stmt d(db_, "SELECT COUNT(*), COALESCE(SUM(tokens), 0) FROM calls WHERE provider = ? AND day = ?");
  d.bind(1, provider).bind(2, day_of(now_ms)).step();
  u.req_day = d.i64(0);
  u.tok_day = d.i64(1);
  Stmt m(db_, "SELECT COUNT(*), COALESCE(SUM(tokens), 0) FROM calls WHERE provider = ? AND ts > ?");
  m.bind(1, provider).bind(2, now_ms - 60000).step();
  u.req_min = m.i64(0);
  u.tok_min = m.i64(1);
  Stmt r(db_, "SELECT COUNT(*), COALESCE(SUM(tokens), 0) FROM reservations WHERE provider = ?");
  r.bind(1, provider).step();
  u.res_req = r.i64(0);
  u.res_tok = r.i64(1);
  return u;
}

std::optional<std::int64_t> Ledger::reserve(const std::string& provider, const Quota& q, std::int64_t tokens, std::int64_t now_ms,
                                            std::string* why) {
  auto attempt = [&]() -> std::optional<std::int64_t> {
    return immediate([&]() -> std::optional<std::int64_t> {
      const Used u = used(provider, now_ms);
      auto over = [&](std::int64_t limit, std::int64_t have, std::int64_t add, const char* what) {
        if (limit <= 0 || have + add <= limit) return false;
        if (why) *why = std::string(what) + " " + std::to_string(have) + " of " + std::to_string(limit) + " used or reserved";
        return true;
      };
      if (over(q.requests_day, u.req_day + u.res_req, 1, "requests_per_day") || over(q.tokens_day, u.tok_day + u.res_tok, tokens, "tokens_per_day") ||
          over(q.requests_minute, u.req_min + u.res_req, 1, "requests_per_minute") ||
          over(q.tokens_minute, u.tok_min + u.res_tok, tokens, "tokens_per_minute"))
        return std::nullopt;
      Stmt(db_, "INSERT INTO reservations(provider, ts, tokens, owner) VALUES(?, ?, ?, ?)")
          .bind(1, provider)
          .bind(2, now_ms)
          .bind(3, tokens)
          .bind(4, owner_)
          .step();
      return sqlite3_last_insert_rowid(db_);
    });
  };
  if (auto id = attempt()) return id;
  reap_dead_owners();  // a crashed process's reservations must not hold the quota forever
  return attempt();
}

void Ledger::release(std::int64_t reservation) {
  immediate([&] { Stmt(db_, "DELETE FROM reservations WHERE id = ?").bind(1, reservation).step(); });
}

void Ledger::release_own() {
  immediate([&] { Stmt(db_, "DELETE FROM reservations WHERE owner = ?").bind(1, owner_).step(); });
}

std::vector<Alert> Ledger::record(std::int64_t reservation, const Spend& s, const Quota& q, std::int64_t now_ms) {
  const std::string& provider = s.provider;
  return immediate([&] {
    Stmt(db_, "DELETE FROM reservations WHERE id = ?").bind(1, reservation).step();
    Stmt(db_, "INSERT INTO calls(provider, day, ts, tokens, cost, correlation_id) VALUES(?, ?, ?, ?, ?, ?)")
        .bind(1, provider)
        .bind(2, day_of(now_ms))
        .bind(3, now_ms)
        .bind(4, s.tokens)
        .bind(5, s.cost)
        .bind(6, s.correlation_id)
        .step();
    if (!s.task_key.empty())
      Stmt(db_, "INSERT OR REPLACE INTO answers(task_key, result, ts) VALUES(?, ?, ?)").bind(1, s.task_key).bind(2, s.answer_json).bind(3, now_ms).step();
    std::vector<Alert> alerts;
    const Used u = used(provider, now_ms);
    auto check = [&](const char* metric, std::int64_t have, std::int64_t limit) {
      if (limit <= 0) return;
      for (int threshold : {50, 80, 90}) {
        if (have * 100 < limit * threshold) continue;
        Stmt ins(db_, "INSERT OR IGNORE INTO alerts(provider, day, metric, threshold) VALUES(?, ?, ?, ?)");
        ins.bind(1, provider).bind(2, day_of(now_ms)).bind(3, std::string(metric)).bind(4, std::int64_t{threshold}).step();
        if (sqlite3_changes(db_) == 1) alerts.push_back({provider, metric, threshold, have, limit});
      }
    };
    check("requests_per_day", u.req_day, q.requests_day);
    check("tokens_per_day", u.tok_day, q.tokens_day);
    return alerts;
  });
}

void Ledger::cool_down(const std::string& provider, std::int64_t until_ms, const std::string& reason) {
  immediate([&] {
    Stmt(db_,
         "INSERT INTO cooldowns(provider, until_ms, reason) VALUES(?, ?, ?) ON CONFLICT(provider) DO UPDATE SET "
         "reason = CASE WHEN excluded.until_ms > until_ms THEN excluded.reason ELSE reason END, "
         "until_ms = MAX(until_ms, excluded.until_ms)")
        .bind(1, provider)
        .bind(2, until_ms)
        .bind(3, reason)
        .step();
  });
}

std::int64_t Ledger::cooldown_until(const std::string& provider) {
  Stmt q(db_, "SELECT until_ms FROM cooldowns WHERE provider = ?");
  q.bind(1, provider);
  return q.step() ? q.i64(0) : 0;
}

ProviderUsage Ledger::usage(const std::string& provider, std::int64_t now_ms) {
  const Used u = used(provider, now_ms);
  ProviderUsage p;
  p.requests_day = u.req_day;
  p.tokens_day = u.tok_day;
  p.requests_minute = u.req_min;
  p.tokens_minute = u.tok_min;
  p.reserved_requests = u.res_req;
  p.reserved_tokens = u.res_tok;
  Stmt c(db_, "SELECT COALESCE(SUM(CASE WHEN day = ? THEN cost END), 0), COALESCE(SUM(cost), 0) FROM calls WHERE provider = ?");
  c.bind(1, day_of(now_ms)).bind(2, provider).step();
  p.cost_day = c.f64(0);
  p.cost_total = c.f64(1);
  Stmt cd(db_, "SELECT until_ms, COALESCE(reason, '') FROM cooldowns WHERE provider = ?");
  cd.bind(1, provider);
  if (cd.step() && cd.i64(0) > now_ms) {
    p.cooldown_until = cd.i64(0);
    p.cooldown_reason = cd.text(1);
  }
  return p;
}

std::int64_t Ledger::reservations() {
  Stmt q(db_, "SELECT COUNT(*) FROM reservations");
  q.step();
  return q.i64(0);
}

std::int64_t Ledger::requests_left(const std::string& provider, const Quota& q, std::int64_t now_ms) {
  if (q.requests_day <= 0 && q.requests_minute <= 0) return INT64_MAX;
  const Used u = used(provider, now_ms);
  std::int64_t left = INT64_MAX;
  if (q.requests_day > 0) left = std::min(left, q.requests_day - u.req_day - u.res_req);
  if (q.requests_minute > 0) left = std::min(left, q.requests_minute - u.req_min - u.res_req);
  return std::max<std::int64_t>(0, left);
}

std::optional<std::string> Ledger::answer(const std::string& task_key) {
  Stmt q(db_, "SELECT result FROM answers WHERE task_key = ?");
  q.bind(1, task_key);
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

void Ledger::put_handoff(const std::string& task_id, const Handoff& h, std::int64_t now_ms) {
  immediate([&] {
    Stmt(db_, "INSERT OR REPLACE INTO handoffs(task_id, chain_id, summary, context, ts) VALUES(?, ?, ?, ?, ?)")
        .bind(1, task_id)
        .bind(2, h.chain_id)
        .bind(3, h.summary)
        .bind(4, h.context)
        .bind(5, now_ms)
        .step();
  });
}

std::optional<Handoff> Ledger::handoff(const std::string& task_id) {
  Stmt q(db_, "SELECT chain_id, summary, context FROM handoffs WHERE task_id = ?");
  q.bind(1, task_id);
  if (!q.step()) return std::nullopt;
  return Handoff{q.text(0), q.text(1), q.text(2)};
}

}  // namespace ai
