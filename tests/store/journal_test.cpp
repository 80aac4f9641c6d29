// The journal suite, run against SQLite and, when ONEPATH_TEST_PG_DSN is set (the test
// script starts a throwaway server), against PostgreSQL with the same cases.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/process.hpp"
#include "store/journal.hpp"
#include "store/model_registry.hpp"

using namespace onepath;

namespace {

std::vector<std::string> backends() {
  std::vector<std::string> out;
  static int counter = 0;
  out.push_back((std::filesystem::temp_directory_path() / ("onepath-journal-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".db")).string());
  if (const char* pg = std::getenv("ONEPATH_TEST_PG_DSN")) out.push_back(pg);
  return out;
}

void cleanup(const std::string& address) {
  if (address.starts_with("postgres")) return;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(address + suffix);
}

std::vector<Trade> some_trades(int n, int seed = 0) {
  std::vector<Trade> t(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    Trade& x = t[static_cast<std::size_t>(i)];
    x.symbol = i % 2;
    x.direction = i % 3 ? 1 : -1;
    x.quantity = 0.1 + i / 7.0;
    x.entry_ts = 1709251200000 + i * 900000LL, x.exit_ts = x.entry_ts + 3600000;
    x.entry_bar = i, x.exit_bar = i + 4;
    x.entry_price = 60000.0 / 3.0 + i + seed, x.exit_price = x.entry_price * (1 + 1e-3 * (i % 5 - 2));
    x.fees = 0.1 / 3, x.slippage = 1e-9 * i, x.pnl = (x.exit_price - x.entry_price) * x.quantity, x.ret = x.pnl / x.entry_price;
    x.reason = static_cast<ExitReason>(i % 6);
    x.rule = static_cast<ExitRule>(i % 4);
  }
  return t;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("the schema is created once, re-opened quietly, and a newer journal is refused") {
  for (const auto& address : backends()) {
    CAPTURE(address);
    { Journal j(open_db(address)); }
    { Journal j(open_db(address)); }  // idempotent
    {
      auto db = open_db(address);
      db->exec("INSERT INTO schema_version (version) VALUES (99)");
    }
    CHECK_THROWS_WITH_AS(Journal(open_db(address)), doctest::Contains("newer than this onepath's"), InputError);
    {
      auto db = open_db(address);
      db->exec("DELETE FROM schema_version WHERE version = 99");
    }
    cleanup(address);
  }
}

TEST_CASE("a run is visible as running at once, and its results exactly as written once complete") {
  for (const auto& address : backends()) {
    CAPTURE(address);
    Journal j(open_db(address));
    RunInfo info;
    info.config_path = "examples/x.toml";
    info.config_text = "[data]\nsymbols = ['BTC'] # 'quotes' and \"doubles\"";
    info.symbols = "BTC,ETH";
    std::int64_t id = j.start_run(info);
    CHECK(j.run(id)->status == "running");
    CHECK(j.run(id)->pid_start == process_start_time(::getpid()));  // the pid is named with its start
    CHECK(j.count("trades", id) == 0);
    auto trades = some_trades(600);
    std::vector<EquityPoint> equity;
    for (int i = 0; i < 1000; ++i) equity.push_back({1709251200000 + i * 900000LL, 10000 + i / 3.0, 5000 - i / 7.0, i * 1.5});
    std::vector<DecisionRecord> decisions(3);
    decisions[0] = {1, 0, "buy", "placed", "", "", "{\"approved\":true}", "abcdef0123456789", {1.5, NAN, 1.0 / 3}, 0.25, "v1"};
    decisions[1] = {2, 1, "sell", "filtered", "cooldown", "cooldown: 1 bars ago", "", "0123", {}, 0, "v1"};
    decisions[2] = {3, 1, "close", "placed", "", "", "", "ff", {2.0}, 0, "v2"};
    j.complete_run(id, {"BTC", "ETH"}, trades, equity, decisions, {"fsv", "fingerprint", "{\n  \"total_return\": 0.5\n}\n"}, 3);
    RunInfo r = *j.run(id);
    CHECK(r.status == "complete");
    CHECK(r.config_text == info.config_text);
    CHECK(r.feature_set_version == "fsv");
    auto back = j.trades(id);
    REQUIRE(back.size() == trades.size());
    for (std::size_t i = 0; i < trades.size(); ++i) {
      Trade t = trades[i];
      CHECK(back[i].symbol == (t.symbol ? "ETH" : "BTC"));
      t.symbol = 0;
      REQUIRE(back[i].trade == t);
      REQUIRE(same_bits(back[i].trade.pnl, t.pnl));
    }
    auto eq = j.equity(id);
    CHECK(eq.size() == 334);  // every 3rd mark and the last
    CHECK(eq.back() == equity.back());
    auto d = j.decisions(id);
    REQUIRE(d.size() == 3);
    CHECK(d[0].feature_row_hash == "abcdef0123456789");
    CHECK(std::isnan(d[0].features[1]));
    CHECK(same_bits(d[0].features[2], 1.0 / 3));
    CHECK(d[0].strategy_version == "v1");
    CHECK(d[2].strategy_version == "v2");
    CHECK(d[1].symbol == 1);  // an index into the run's symbols
    CHECK(d[1].filter == "cooldown");
    CHECK(d[1].features.empty());
    cleanup(address);
  }
}

TEST_CASE("results are all or nothing: a failure while writing leaves none, and a failed run says why") {
  for (const auto& address : backends()) {
    CAPTURE(address);
    Journal j(open_db(address));
    std::int64_t id = j.start_run({});
    auto trades = some_trades(700);
    trades[650].symbol = 5;  // no such symbol: the write fails part way
    CHECK_THROWS(j.complete_run(id, {"BTC", "ETH"}, trades, {}, {}, {"v", "f", "{}"}));
    CHECK(j.count("trades", id) == 0);
    CHECK(j.run(id)->status == "running");
    j.fail_run(id, "the strategy failed: x.lua:3: boom");
    CHECK(j.run(id)->status == "failed");
    CHECK(j.run(id)->error == "the strategy failed: x.lua:3: boom");
    cleanup(address);
  }
}

TEST_CASE("a running run whose process is gone reads as failed") {
  RunInfo r;
  r.status = "running";
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  r.host = host;
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  r.pid = child;
  CHECK(Journal::display_status(r) == "failed (process gone)");
  r.pid = ::getpid();
  CHECK(Journal::display_status(r) == "running");
  // the pid reused by another process (here: this one, with another start time)
  r.pid_start = process_start_time(::getpid());
  REQUIRE_FALSE(r.pid_start.empty());
  CHECK(Journal::display_status(r) == "running");
  r.pid_start = "1";  // a process started one tick after boot: not this one
  CHECK(Journal::display_status(r) == "failed (process gone)");
  r.pid_start.clear();
  // a run of another machine (a journal shared over PostgreSQL): its pid means nothing here
  r.host = std::string(host) + "-elsewhere";
  r.pid = child;
  CHECK(Journal::display_status(r) == "running");
}

TEST_CASE("several processes writing runs at once lose no rows") {
  for (const auto& address : backends()) {
    CAPTURE(address);
    { Journal j(open_db(address)); }
    const int writers = 4, runs_each = 3, trades_each = 300;
    std::vector<pid_t> children;
    for (int w = 0; w < writers; ++w) {
      pid_t pid = ::fork();
      if (pid == 0) {
        try {
          Journal j(open_db(address));
          for (int k = 0; k < runs_each; ++k) {
            RunInfo info;
            info.config_path = "writer-" + std::to_string(w);
            std::int64_t id = j.start_run(info);
            j.complete_run(id, {"BTC", "ETH"}, some_trades(trades_each, w), {}, {}, {"v", "f", "{}"});
          }
          ::_exit(0);
        } catch (...) {
          ::_exit(1);
        }
      }
      children.push_back(pid);
    }
    for (pid_t c : children) {
      int status = 0;
      ::waitpid(c, &status, 0);
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);
    }
    Journal j(open_db(address));
    auto runs = j.list_runs(1000);
    std::size_t complete = 0, rows = 0;
    for (const auto& r : runs)
      if (r.config_path.starts_with("writer-")) complete += r.status == "complete", rows += j.count("trades", r.id);
    CHECK(complete == writers * runs_each);
    CHECK(rows == static_cast<std::size_t>(writers * runs_each * trades_each));
    cleanup(address);
  }
}

TEST_CASE("a wrong address or a server that is down is a clear error, not a crash") {
  CHECK_THROWS_WITH_AS(open_db("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"), doctest::Contains("cannot connect to the journal at"),
                       InputError);
  CHECK_THROWS_WITH_AS(open_db("postgresql://user:secret@127.0.0.1:1/none?connect_timeout=2"), doctest::Contains("user:***@"), InputError);
  CHECK_THROWS_AS(open_db("/proc/no/such/dir/journal.db"), std::exception);
}

TEST_CASE("the model registry: numbered versions kept whole, one in production, promote and roll back") {
  for (const auto& address : backends()) {
    CAPTURE(address);
    Journal j(open_db(address));
    ModelRegistry reg(j);
    const std::string name = "up_" + std::to_string(::getpid());  // PostgreSQL keeps earlier cases' rows
    CHECK(reg.add(name, R"({"m":1})", R"({"inputs":["a"]})", "/m.json", 0) == 1);
    CHECK(reg.add(name, R"({"m":2})", "{}", "/m.json", 7) == 2);
    CHECK(reg.add(name, R"({"m":3})", "{}", "/m.json", 0) == 3);
    CHECK_THROWS_WITH_AS(reg.get(name), doctest::Contains("no version is in production"), InputError);
    CHECK(reg.get(name + "@2").model_json == R"({"m":2})");
    CHECK(reg.get(name + "@2").train_run == 7);
    CHECK_THROWS_WITH_AS(reg.get(name + "@9"), doctest::Contains("no such version (versions 1 to 3)"), InputError);
    CHECK_THROWS_WITH_AS(reg.get("nobody"), doctest::Contains("no model 'nobody'"), InputError);
    reg.promote(name, 1);
    CHECK(reg.get(name).version == 1);
    CHECK_THROWS_WITH_AS(reg.rollback(name), doctest::Contains("nothing to roll back to"), InputError);
    reg.promote(name, 3);
    CHECK(reg.get(name).version == 3);
    int production = 0;
    for (const auto& v : reg.list(name)) production += v.status == "production";
    CHECK(production == 1);
    CHECK(reg.rollback(name) == 1);
    CHECK(reg.get(name).model_json == R"({"m":1})");
    CHECK(reg.list(name).size() == 3);
    cleanup(address);
  }
}

TEST_CASE("a file that is not a journal is a clear error, and its connection is closed (LeakSanitizer watches)") {
  const std::string path = (std::filesystem::temp_directory_path() / ("onepath-corrupt-" + std::to_string(::getpid()) + ".db")).string();
  std::ofstream(path) << std::string(4096, 'x');
  CHECK_THROWS_WITH(Journal(open_db(path)), doctest::Contains("not a database"));
  std::filesystem::remove(path);
}
