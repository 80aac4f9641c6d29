#include "ledger.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "ledger_db.hpp"

namespace ai {

std::unique_ptr<LedgerDb> open_sqlite_ledger(const std::string& path, std::int64_t lock_wait_ms);
std::unique_ptr<LedgerDb> open_postgres_ledger(const std::string& dsn);

std::unique_ptr<LedgerDb> open_ledger_db(const std::string& address, std::int64_t lock_wait_ms) {
  if (address.rfind("postgresql://", 0) == 0 || address.rfind("postgres://", 0) == 0) return open_postgres_ledger(address);
  return open_sqlite_ledger(address, lock_wait_ms);
}

std::int64_t SqlRow::i64(std::size_t c) const { return cells_.at(c).empty() ? 0 : std::stoll(cells_[c]); }
double SqlRow::f64(std::size_t c) const { return cells_.at(c).empty() ? 0 : std::stod(cells_[c]); }

namespace {

// A process is named by its host, pid and start time, so that a pid reused by another
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

std::string host_name() {
  char buf[256] = "";
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// Alive: on this host, the pid runs and started when the owner did. Owners on other hosts
// (a ledger in PostgreSQL) are judged by age instead (see reap_dead_owners).
bool owner_alive(const std::string& owner, const std::string& host) {
  const auto first = owner.find(':'), second = owner.find(':', first + 1);
  if (first == std::string::npos || second == std::string::npos || owner.substr(0, first) != host) return false;
  const long pid = std::strtol(owner.c_str() + first + 1, nullptr, 10);
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  return start_time_of(pid) == owner.substr(second + 1);
}

constexpr std::int64_t kRemoteStaleMs = 2 * 3600000;  // longer than any call may take (timeout_ms <= 1 h)

}  // namespace

// Runs `work` in one locked transaction (LedgerDb::lock).
template <class F>
auto Ledger::locked(F&& work) {
  db_->lock();
  try {
    if constexpr (std::is_void_v<decltype(work())>) {
      work();
      db_->commit();
    } else {
      auto r = work();
      db_->commit();
      return r;
    }
  } catch (...) {
    db_->rollback();
    throw;
  }
}

Ledger::Ledger(const std::string& address) : db_(open_ledger_db(address)), host_(host_name()) {
  const std::string id = db_->id_type();
  locked([&] {
    for (const std::string& sql : {
             "CREATE TABLE IF NOT EXISTS ai_calls(id " + id + ", provider TEXT NOT NULL, day BIGINT NOT NULL, ts BIGINT NOT NULL, "
             "tokens BIGINT NOT NULL, cost DOUBLE PRECISION NOT NULL, correlation_id TEXT)",
             std::string("CREATE INDEX IF NOT EXISTS ai_calls_by_day ON ai_calls(provider, day)"),
             std::string("CREATE INDEX IF NOT EXISTS ai_calls_by_ts ON ai_calls(provider, ts)"),
             "CREATE TABLE IF NOT EXISTS ai_reservations(id " + id + ", provider TEXT NOT NULL, ts BIGINT NOT NULL, "
             "tokens BIGINT NOT NULL, owner TEXT NOT NULL)",
             std::string("CREATE TABLE IF NOT EXISTS ai_alerts(provider TEXT NOT NULL, day BIGINT NOT NULL, metric TEXT NOT NULL, "
                         "threshold BIGINT NOT NULL, PRIMARY KEY(provider, day, metric, threshold))"),
             std::string("CREATE TABLE IF NOT EXISTS ai_cooldowns(provider TEXT PRIMARY KEY, until_ms BIGINT NOT NULL, reason TEXT)"),
             std::string("CREATE TABLE IF NOT EXISTS ai_answers(task_key TEXT PRIMARY KEY, result TEXT NOT NULL, ts BIGINT NOT NULL)"),
             std::string("CREATE TABLE IF NOT EXISTS ai_handoffs(task_id TEXT PRIMARY KEY, chain_id TEXT NOT NULL, summary TEXT NOT NULL, "
                         "context TEXT NOT NULL, ts BIGINT NOT NULL)")})
      db_->exec(sql);
  });
  owner_ = host_ + ":" + std::to_string(::getpid()) + ":" + start_time_of(::getpid());
  reap_dead_owners(0);
}

Ledger::~Ledger() = default;

void Ledger::reap_dead_owners(std::int64_t now_ms) {
  locked([&] {
    std::vector<std::string> dead;
    for (const auto& row : db_->query("SELECT owner, MAX(ts) FROM ai_reservations GROUP BY owner")) {
      const std::string& owner = row.text(0);
      const bool here = owner.rfind(host_ + ":", 0) == 0;
      if (here ? !owner_alive(owner, host_) : now_ms - row.i64(1) > kRemoteStaleMs) dead.push_back(owner);
    }
    for (const auto& o : dead) db_->query("DELETE FROM ai_reservations WHERE owner = $1", {o});
  });
}

Ledger::Used Ledger::used(const std::string& provider, std::int64_t now_ms) {
  Used u;
  const auto d = db_->query("SELECT COUNT(*), COALESCE(SUM(tokens), 0) FROM ai_calls WHERE provider = $1 AND day = $2", {provider, day_of(now_ms)});
  u.req_day = d[0].i64(0);
  u.tok_day = d[0].i64(1);
  const auto m = db_->query("SELECT COUNT(*), COALESCE(SUM(tokens), 0) FROM ai_calls WHERE provider = $1 AND ts > $2", {provider, now_ms - 60000});
  u.req_min = m[0].i64(0);
  u.tok_min = m[0].i64(1);
  const auto r = db_->query("SELECT COUNT(*), COALESCE(SUM(tokens), 0) FROM ai_reservations WHERE provider = $1", {provider});
  u.res_req = r[0].i64(0);
  u.res_tok = r[0].i64(1);
  return u;
}

std::optional<std::int64_t> Ledger::reserve(const std::string& provider, const Quota& q, std::int64_t tokens, std::int64_t now_ms,
                                            std::string* why) {
  auto attempt = [&]() -> std::optional<std::int64_t> {
    return locked([&]() -> std::optional<std::int64_t> {
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
      return db_->query("INSERT INTO ai_reservations(provider, ts, tokens, owner) VALUES($1, $2, $3, $4) RETURNING id",
                        {provider, now_ms, tokens, owner_})[0]
          .i64(0);
    });
  };
  if (auto id = attempt()) return id;
  reap_dead_owners(now_ms);  // a crashed process's reservations must not hold the quota forever
  return attempt();
}

void Ledger::release(std::int64_t reservation) {
  locked([&] { db_->query("DELETE FROM ai_reservations WHERE id = $1", {reservation}); });
}

void Ledger::release_own() {
  locked([&] { db_->query("DELETE FROM ai_reservations WHERE owner = $1", {owner_}); });
}

std::vector<Alert> Ledger::record(std::int64_t reservation, const Spend& s, const Quota& q, std::int64_t now_ms) {
  return locked([&] {
    db_->query("DELETE FROM ai_reservations WHERE id = $1", {reservation});
    db_->query("INSERT INTO ai_calls(provider, day, ts, tokens, cost, correlation_id) VALUES($1, $2, $3, $4, $5, $6)",
               {s.provider, day_of(now_ms), now_ms, s.tokens, s.cost, s.correlation_id});
    if (!s.task_key.empty())
      db_->query("INSERT INTO ai_answers(task_key, result, ts) VALUES($1, $2, $3) "
                 "ON CONFLICT(task_key) DO UPDATE SET result = excluded.result, ts = excluded.ts",
                 {s.task_key, s.answer_json, now_ms});
    std::vector<Alert> alerts;
    const Used u = used(s.provider, now_ms);
    auto check = [&](const char* metric, std::int64_t have, std::int64_t limit) {
      if (limit <= 0) return;
      for (int threshold : {50, 80, 90}) {
        if (have * 100 < limit * threshold) continue;
        const auto inserted = db_->query(
            "INSERT INTO ai_alerts(provider, day, metric, threshold) VALUES($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING threshold",
            {s.provider, day_of(now_ms), std::string(metric), std::int64_t{threshold}});
        if (!inserted.empty()) alerts.push_back({s.provider, metric, threshold, have, limit});
      }
    };
    check("requests_per_day", u.req_day, q.requests_day);
    check("tokens_per_day", u.tok_day, q.tokens_day);
    return alerts;
  });
}

void Ledger::cool_down(const std::string& provider, std::int64_t until_ms, const std::string& reason) {
  locked([&] {
    db_->query(
        "INSERT INTO ai_cooldowns(provider, until_ms, reason) VALUES($1, $2, $3) ON CONFLICT(provider) DO UPDATE SET "
        "reason = CASE WHEN excluded.until_ms > ai_cooldowns.until_ms THEN excluded.reason ELSE ai_cooldowns.reason END, "
        "until_ms = CASE WHEN excluded.until_ms > ai_cooldowns.until_ms THEN excluded.until_ms ELSE ai_cooldowns.until_ms END",
        {provider, until_ms, reason});
  });
}

std::int64_t Ledger::cooldown_until(const std::string& provider) {
  const auto rows = db_->query("SELECT until_ms FROM ai_cooldowns WHERE provider = $1", {provider});
  return rows.empty() ? 0 : rows[0].i64(0);
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
  const auto c = db_->query("SELECT COALESCE(SUM(CASE WHEN day = $1 THEN cost END), 0), COALESCE(SUM(cost), 0) FROM ai_calls WHERE provider = $2",
                            {day_of(now_ms), provider});
  p.cost_day = c[0].f64(0);
  p.cost_total = c[0].f64(1);
  const auto cd = db_->query("SELECT until_ms, COALESCE(reason, '') FROM ai_cooldowns WHERE provider = $1", {provider});
  if (!cd.empty() && cd[0].i64(0) > now_ms) {
    p.cooldown_until = cd[0].i64(0);
    p.cooldown_reason = cd[0].text(1);
  }
  return p;
}

std::int64_t Ledger::reservations() { return db_->query("SELECT COUNT(*) FROM ai_reservations")[0].i64(0); }

std::int64_t Ledger::requests_left(const std::string& provider, const Quota& q, std::int64_t now_ms) {
  if (q.requests_day <= 0 && q.requests_minute <= 0) return INT64_MAX;
  const Used u = used(provider, now_ms);
  std::int64_t left = INT64_MAX;
  if (q.requests_day > 0) left = std::min(left, q.requests_day - u.req_day - u.res_req);
  if (q.requests_minute > 0) left = std::min(left, q.requests_minute - u.req_min - u.res_req);
  return std::max<std::int64_t>(0, left);
}

std::optional<std::string> Ledger::answer(const std::string& task_key) {
  const auto rows = db_->query("SELECT result FROM ai_answers WHERE task_key = $1", {task_key});
  if (rows.empty()) return std::nullopt;
  return rows[0].text(0);
}

void Ledger::put_handoff(const std::string& task_id, const Handoff& h, std::int64_t now_ms) {
  locked([&] {
    db_->query("INSERT INTO ai_handoffs(task_id, chain_id, summary, context, ts) VALUES($1, $2, $3, $4, $5) ON CONFLICT(task_id) DO UPDATE SET "
               "chain_id = excluded.chain_id, summary = excluded.summary, context = excluded.context, ts = excluded.ts",
               {task_id, h.chain_id, h.summary, h.context, now_ms});
  });
}

std::optional<Handoff> Ledger::handoff(const std::string& task_id) {
  const auto rows = db_->query("SELECT chain_id, summary, context FROM ai_handoffs WHERE task_id = $1", {task_id});
  if (rows.empty()) return std::nullopt;
  return Handoff{rows[0].text(0), rows[0].text(1), rows[0].text(2)};
}

}  // namespace ai
