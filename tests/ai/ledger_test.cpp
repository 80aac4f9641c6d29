// The quota ledger: limits never exceeded (also by two processes at once), reservations
// released, daily windows reset at 00:00 UTC, minute windows slide, alerts once per
// threshold per day, cooldowns keep the later deadline, a dead process's reservations go.
// On SQLite; and on PostgreSQL when ONEPATH_TEST_PG_DSN names a server
// (tests/store/with_postgres.sh runs these cases so).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "ledger.hpp"
#include "ledger_db.hpp"

using namespace ai;

namespace {

const char* pg_dsn() { return std::getenv("ONEPATH_TEST_PG_DSN"); }

std::string path_of(const char* name) {
  if (pg_dsn()) return pg_dsn();
  const auto dir = std::filesystem::temp_directory_path() / ("onepath_ledger_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string fresh_path(const char* name) {
  if (pg_dsn()) {
    open_ledger_db(pg_dsn())->exec("DROP TABLE IF EXISTS ai_calls, ai_reservations, ai_alerts, ai_cooldowns, ai_answers, ai_handoffs");
    return pg_dsn();
  }
  const std::string p = path_of(name);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
  return p;
}

const std::int64_t kDay = 86400000;
const std::int64_t kNoon = 20424 * kDay + kDay / 2;  // 2025-12-02T12:00:00Z

}  // namespace

TEST_CASE("ledger: requests per day: reservations count, release frees, record spends") {
  Ledger l(fresh_path("day.db"));
  Quota q;
  q.requests_day = 3;
  std::string why;
  auto a = l.reserve("p", q, 10, kNoon, &why), b = l.reserve("p", q, 10, kNoon, &why), c = l.reserve("p", q, 10, kNoon, &why);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK_FALSE(l.reserve("p", q, 10, kNoon, &why));
  CHECK(why.find("requests_per_day") != std::string::npos);
  CHECK(l.reserve("other", q, 10, kNoon, &why));  // per provider
  l.release(*a);
  auto d = l.reserve("p", q, 10, kNoon, &why);
  CHECK(d);
  l.record(*b, {"p", 12, 0.5, "c1", "", ""}, q, kNoon);
  CHECK(l.usage("p", kNoon).requests_day == 1);
  CHECK(l.usage("p", kNoon).tokens_day == 12);
  CHECK(l.usage("p", kNoon).reserved_requests == 2);
  CHECK_FALSE(l.reserve("p", q, 10, kNoon, &why));
  // the next day starts at 00:00 UTC: yesterday's spend no longer counts
  l.release(*c);
  l.release(*d);
  CHECK(l.reserve("p", q, 10, (20425 * kDay) - 1, &why));  // 23:59:59.999 the same day: 1 spent + 1 reserved
  CHECK(l.reserve("p", q, 10, (20425 * kDay) - 1, &why));
  CHECK_FALSE(l.reserve("p", q, 10, (20425 * kDay) - 1, &why));
}

TEST_CASE("ledger: tokens and the sliding minute") {
  Ledger l(fresh_path("minute.db"));
  Quota q;
  q.requests_minute = 2;
  q.tokens_minute = 100;
  std::string why;
  auto a = l.reserve("p", q, 60, kNoon, &why);
  REQUIRE(a);
  CHECK_FALSE(l.reserve("p", q, 60, kNoon, &why));  // 120 tokens > 100
  CHECK(why.find("tokens_per_minute") != std::string::npos);
  l.record(*a, {"p", 60, 0, "", "", ""}, q, kNoon);
  auto b = l.reserve("p", q, 40, kNoon + 1000, &why);
  REQUIRE(b);
  l.record(*b, {"p", 40, 0, "", "", ""}, q, kNoon + 1000);
  CHECK_FALSE(l.reserve("p", q, 1, kNoon + 59000, &why));  // two calls in the last minute
  CHECK(l.reserve("p", q, 50, kNoon + 60000, &why));       // the first has slid out: 40 + 50 <= 100
}

TEST_CASE("ledger: alerts at 50, 80 and 90 percent, once per threshold per day") {
  Ledger l(fresh_path("alerts.db"));
  Quota q;
  q.requests_day = 10;
  std::vector<int> seen;
  auto spend = [&](std::int64_t now) {
    std::string why;
    auto r = l.reserve("p", q, 1, now, &why);
    REQUIRE(r);
    for (const Alert& a : l.record(*r, {"p", 1, 0, "", "", ""}, q, now)) {
      CHECK(a.metric == "requests_per_day");
      seen.push_back(a.threshold);
    }
  };
  for (int i = 0; i < 10; ++i) spend(kNoon + i);
  CHECK(seen == std::vector<int>{50, 80, 90});
  seen.clear();
  for (int i = 0; i < 5; ++i) spend(kNoon + kDay + i);  // a new day: 50 % again
  CHECK(seen == std::vector<int>{50});
  // another ledger on the same file (another process) does not repeat today's alerts
  Ledger again(path_of("alerts.db"));
  std::string why;
  auto r = again.reserve("p", q, 1, kNoon + kDay + 10, &why);
  REQUIRE(r);
  CHECK(again.record(*r, {"p", 1, 0, "", "", ""}, q, kNoon + kDay + 10).empty());
}

TEST_CASE("ledger: a cooldown keeps the later deadline") {
  Ledger l(fresh_path("cool.db"));
  l.cool_down("p", 5000, "first");
  l.cool_down("p", 3000, "earlier");
  CHECK(l.cooldown_until("p") == 5000);
  l.cool_down("p", 9000, "later");
  CHECK(l.cooldown_until("p") == 9000);
  CHECK(l.usage("p", 1000).cooldown_reason == "later");
  CHECK(l.cooldown_until("q") == 0);
}

TEST_CASE("ledger: answers and spend are kept together, hand-offs by task id") {
  Ledger l(fresh_path("answers.db"));
  Quota q;
  std::string why;
  auto r = l.reserve("p", q, 5, kNoon, &why);
  REQUIRE(r);
  l.record(*r, {"p", 5, 0.1, "c", "key1", R"({"ok":true})"}, q, kNoon);
  CHECK(l.answer("key1") == std::optional<std::string>(R"({"ok":true})"));
  CHECK_FALSE(l.answer("key2"));
  l.put_handoff("t1", {"chain", "sum", "full text"}, kNoon);
  REQUIRE(l.handoff("t1"));
  CHECK(l.handoff("t1")->context == "full text");
  CHECK_FALSE(l.handoff("t2"));
}

TEST_CASE("ledger: reservations of a process that died are released by the next one") {
  const std::string path = fresh_path("dead.db");
  Quota q;
  q.requests_day = 2;
  const pid_t child = ::fork();
  if (child == 0) {
    Ledger l(path);
    std::string why;
    const bool ok = l.reserve("p", q, 1, kNoon, &why) && l.reserve("p", q, 1, kNoon, &why);
    ::_exit(ok ? 0 : 1);  // dies holding both
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WEXITSTATUS(status) == 0);
  Ledger l(path);  // opening reaps them
  CHECK(l.reservations() == 0);
  std::string why;
  CHECK(l.reserve("p", q, 1, kNoon, &why));
}

TEST_CASE("ledger: two processes reserving at once never pass the limit") {
  const std::string path = fresh_path("race.db");
  Quota q;
  q.requests_day = 120;
  {
    Ledger init(path);
  }
  std::vector<pid_t> children;
  for (int c = 0; c < 2; ++c) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      Ledger l(path);
      std::string why;
      for (int i = 0; i < 100; ++i)
        if (auto r = l.reserve("p", q, 1, kNoon, &why)) l.record(*r, {"p", 1, 0, "", "", ""}, q, kNoon);
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
  Ledger l(path);
  CHECK(l.usage("p", kNoon).requests_day == 120);
  CHECK(l.reservations() == 0);
}

TEST_CASE("ledger: a lock held by another process is waited for a bounded time, and the error says who may hold it") {
  if (pg_dsn()) return;  // SQLite's file lock; PostgreSQL queues its own
  const std::string path = fresh_path("held.db");
  Quota q;
  q.requests_day = 5;
  {
    Ledger l(path);  // the tables exist, with one reservation of this process
    std::string why;
    REQUIRE(l.reserve("p", q, 1, kNoon, &why));
  }
  auto holder = open_ledger_db(path);
  holder->lock();  // another writer, holding the write lock
  auto waiter = open_ledger_db(path, 200);
  std::string error;
  try {
    waiter->lock();
  } catch (const std::exception& e) {
    error = e.what();
  }
  CHECK(error.find("stayed locked for 200 ms by another process") != std::string::npos);
  CHECK(error.find(":" + std::to_string(::getpid()) + ":") != std::string::npos);  // the holder of the reservation, by pid
  holder->rollback();
  waiter->lock();  // free again
  waiter->rollback();
}
