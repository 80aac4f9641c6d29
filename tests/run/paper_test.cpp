// A paper session's HTTP endpoints, asked by a real client over loopback; stopping through
// the control endpoint, resuming from the snapshot, and the token off loopback.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "core/error.hpp"
#include "data/candle_io.hpp"
#include "data/synth.hpp"
#include "infer/train.hpp"
#include "run/backtest.hpp"
#include "net/http_server.hpp"
#include "run/paper.hpp"
#include "store/model_registry.hpp"
#include "infer/model_feature.hpp"
#include "core/time.hpp"

using namespace onepath;

namespace {

namespace fs = std::filesystem;
const std::string kSource = ONEPATH_SOURCE_DIR;

struct Reply {
  int status = 0;
  std::string body;
};

fs::path test_dir() { return fs::temp_directory_path() / ("onepath-paper-test-" + std::to_string(::getpid())); }

// The token a session of the Fixture wrote for its owner.
std::string session_token() {
  std::string t = read_file((test_dir() / "paper" / "control.token").string());
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// One request on a fresh connection ("Connection: close"), the whole answer read. Control
// requests carry the session's token unless `authorization` says otherwise ("-": none).
Reply http(int port, const std::string& method, const std::string& path, std::string authorization = "", const std::string& headers = "",
           const std::string& host = "") {
  if (authorization.empty() && path.starts_with("/control/")) authorization = "Bearer " + session_token();
  if (authorization == "-") authorization.clear();
  int fd = connect_loopback(port);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + (host.empty() ? "127.0.0.1:" + std::to_string(port) : host) +
                    "\r\nConnection: close\r\nContent-Length: 0\r\n" + headers;
  if (!authorization.empty()) req += "Authorization: " + authorization + "\r\n";
  req += "\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size()));
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) raw.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  Reply r;
  if (raw.size() > 12) r.status = std::atoi(raw.substr(9, 3).c_str());
  auto body = raw.find("\r\n\r\n");
  if (body != std::string::npos) r.body = raw.substr(body + 4);
  return r;
}

// Waits for a condition the session will reach, with a generous bound (never a fixed sleep).
template <class F>
bool eventually(F condition) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::yield();
  }
  return false;
}

struct Fixture {
  fs::path dir = test_dir();
  Fixture() { fs::create_directories(dir); }
  ~Fixture() { fs::remove_all(dir); }

  RunConfig config(const std::string& paper = "") const {
    std::string path = (dir / "RUN.toml").string();
    std::ofstream(path) << "[data]\nsymbols = [\"BTC\", \"ETH\", \"SOL\"]\n[data.generate]\nbars = 10\n[strategy]\nscript = \"" << kSource
                        << "/scripts/strategies/ema_crossover.lua\"\nscripts_root = \"" << kSource
                        << "/scripts\"\n[strategy.params]\nfast = 3\nslow = 8\n[output]\ndb = \"" << (dir / "journal.db").string()
                        << "\"\n[paper]\ndir = \"" << (dir / "paper").string() << "\"\n" << paper;
    return load_run_config(path);
  }
};

std::vector<CandleSeries> market(std::size_t bars) {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1), preset_symbol("ETH", 0.8), preset_symbol("SOL", 0.7)};
  o.bars = bars;
  o.seed = 9;
  o.start_ms = 1709251200000;
  return generate_market(o);
}

const Timeframe k15m = Timeframe::parse("15m");

}  // namespace

TEST_CASE("paper HTTP on loopback: health, metrics, status, the kill switch, stop, then a restart resumes and ends as the backtest") {
  Fixture f;
  RunConfig c = f.config();
  auto m = market(1500);
  std::atomic<int> port{0};
  PaperOptions o;
  o.on_listening = [&](int p) { port = p; };
  PaperOutcome first;
  // Real time: the first time slice is due at once, the next one in 15 minutes.
  std::thread session([&] { first = run_paper(c, make_replay_feed(m, k15m, 1.0), o); });
  REQUIRE(eventually([&] { return port.load() != 0; }));
  const int p = port;

  CHECK(http(p, "GET", "/health/live").status == 200);
  REQUIRE(eventually([&] { return http(p, "GET", "/status").body.find("\"candles\": 3,") != std::string::npos; }));
  Reply ready = http(p, "GET", "/health/ready");
  CHECK(ready.status == 503);  // one candle in: the EMAs have no value yet
  CHECK(ready.body == "warming up: BTC 1 of 8 ETH 1 of 8 SOL 1 of 8 candles until every feature has a value\n");

  Reply metrics = http(p, "GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("# TYPE onepath_candles_total counter\nonepath_candles_total 3\n") != std::string::npos);
  CHECK(metrics.body.find("onepath_position{symbol=\"ETH\"} 0\n") != std::string::npos);
  CHECK(metrics.body.find("onepath_step_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(metrics.body.find("onepath_equity 10000\n") != std::string::npos);

  Reply status = http(p, "GET", "/status");
  CHECK(status.body.find("\"kind\": \"paper\"") != std::string::npos);
  CHECK(status.body.find("\"symbol\": \"SOL\"") != std::string::npos);
  CHECK(status.body.find("ema_crossover.lua") != std::string::npos);
  CHECK(status.body.find("\"entries_paused\": false") != std::string::npos);

  CHECK(http(p, "POST", "/control/pause").body.find("\"entries_paused\": true") != std::string::npos);
  CHECK(http(p, "GET", "/metrics").body.find("onepath_entries_paused 1\n") != std::string::npos);
  CHECK(http(p, "POST", "/control/resume").body.find("\"entries_paused\": false") != std::string::npos);
  CHECK(http(p, "GET", "/nothing").status == 404);
  CHECK(http(p, "POST", "/metrics").status == 405);

  CHECK(http(p, "POST", "/control/stop").status == 202);
  session.join();
  CHECK_FALSE(first.complete);
  CHECK(first.candles == 3);
  REQUIRE(fs::exists(first.snapshot));
  auto j = Journal::open(c.journal);
  CHECK(j->run(first.run_id)->status == "stopped");

  // The same config again: it resumes from the snapshot (the rest at full speed) and ends
  // with the backtest's ledger.
  PaperOptions again;
  PaperOutcome second = run_paper(c, make_replay_feed(m, k15m, 0), again);
  CHECK(second.resumed);
  CHECK(second.complete);
  CHECK(second.run_id == first.run_id);
  CHECK_FALSE(fs::exists(first.snapshot));
  BacktestResult b = run_backtest_on(c.session, m, k15m);
  CHECK(second.candles == b.candles);
  auto trades = j->trades(second.run_id);
  REQUIRE(trades.size() == b.trades.size());
  for (std::size_t i = 0; i < trades.size(); ++i) {
    CHECK(trades[i].trade.pnl == b.trades[i].pnl);
    CHECK(trades[i].trade.exit_ts == b.trades[i].exit_ts);
  }
  CHECK(j->count("equity", second.run_id) == b.equity.size());
  CHECK(j->run(second.run_id)->status == "complete");
  // one final equity, after the end-of-data close-out, everywhere
  CHECK(second.equity == b.metrics.final_equity);
  CHECK(j->equity(second.run_id).back().equity == b.metrics.final_equity);
  CHECK(nlohmann::json::parse(j->run(second.run_id)->metrics)["final_equity"].get<double>() == b.metrics.final_equity);
}

TEST_CASE("a snapshot of another configuration is refused with what to do") {
  Fixture f;
  auto m = market(200);
  // Stopped by SIGTERM after its first slice: the handler is Asio's, the step is whole.
  PaperOptions o;
  RunConfig every = f.config("port = -1\nsnapshot_every = 1\n");
  PaperOutcome a;
  std::thread session([&] { a = run_paper(every, make_replay_feed(m, k15m, 1.0), o); });
  REQUIRE(eventually([&] { return fs::exists(fs::path(every.paper.dir) / "session.snapshot"); }));
  ::kill(::getpid(), SIGTERM);
  session.join();
  CHECK_FALSE(a.complete);
  RunConfig other = f.config("port = -1\nspeed = 2\n");
  CHECK_THROWS_WITH_AS(run_paper(other, make_replay_feed(m, k15m, 0), PaperOptions{}),
                       doctest::Contains("the snapshot was made by another configuration"), InputError);
  PaperOptions fresh;
  fresh.fresh = true;
  CHECK(run_paper(other, make_replay_feed(m, k15m, 0), fresh).complete);
}

TEST_CASE("paper HTTP on loopback: control needs the session's token, requests for another host are refused, connections are capped") {
  Fixture f;
  RunConfig c = f.config();
  auto m = market(1500);
  std::atomic<int> port{0};
  PaperOptions o;
  o.on_listening = [&](int p) { port = p; };
  std::thread session([&] { run_paper(c, make_replay_feed(m, k15m, 1.0), o); });
  REQUIRE(eventually([&] { return port.load() != 0; }));
  const int p = port;
  // The token: made for this session, readable by its owner only.
  struct stat st {};
  REQUIRE(::stat((f.dir / "paper" / "control.token").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(session_token().size() == 64);
  CHECK(http(p, "GET", "/status", "-").status == 200);  // reading stays open on loopback
  CHECK(http(p, "POST", "/control/pause", "-").status == 401);
  CHECK(http(p, "POST", "/control/pause", "Bearer wrong").status == 401);
  // A web page's POST (another origin, no token), and DNS rebinding (another host name).
  CHECK(http(p, "POST", "/control/pause", "-", "Origin: http://evil.example\r\n").status == 401);
  CHECK(http(p, "GET", "/status", "-", "", "evil.example:" + std::to_string(p)).status == 421);
  CHECK(http(p, "POST", "/control/pause", "", "", "evil.example:" + std::to_string(p)).status == 421);
  CHECK(http(p, "GET", "/status", "-", "", "localhost:" + std::to_string(p)).status == 200);
  CHECK(http(p, "GET", "/status").body.find("\"entries_paused\": false") != std::string::npos);
  // Idle connections past the cap are turned away at once; the session keeps answering.
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(connect_loopback(p));
  char byte = 0;
  timeval patience{3, 0};  // far below the idle timeout (10 s), which would close it too
  ::setsockopt(idle.back(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  CHECK(::recv(idle.back(), &byte, 1, 0) == 0);  // closed by the server at once, not left waiting
  for (int fd : idle) ::close(fd);
  REQUIRE(eventually([&] { return http(p, "GET", "/health/live").status == 200; }));
  CHECK(http(p, "POST", "/control/stop").status == 202);
  session.join();
  CHECK_FALSE(fs::exists(f.dir / "paper" / "control.token"));
}

TEST_CASE("HTTP off loopback needs a token, and a request without it gets 401") {
  Fixture f;
  auto m = market(200);
  ::unsetenv("ONEPATH_TEST_TOKEN");
  RunConfig open = f.config("host = \"0.0.0.0\"\ntoken_env = \"ONEPATH_TEST_TOKEN\"\n");
  CHECK_THROWS_WITH_AS(run_paper(open, make_replay_feed(m, k15m, 1.0), PaperOptions{}), doctest::Contains("needs a token"), InputError);

  ::setenv("ONEPATH_TEST_TOKEN", "s3cret", 1);
  std::atomic<int> port{0};
  PaperOptions o;
  o.fresh = true;
  o.on_listening = [&](int p) { port = p; };
  std::thread session([&] { run_paper(open, make_replay_feed(m, k15m, 1.0), o); });
  REQUIRE(eventually([&] { return port.load() != 0; }));
  // Bound to every interface; asked over loopback only.
  CHECK(http(port, "GET", "/status", "-").status == 401);
  CHECK(http(port, "GET", "/status", "Bearer wrong").status == 401);
  CHECK(http(port, "GET", "/status", "Bearer s3cret").status == 200);
  CHECK(http(port, "POST", "/control/stop", "Bearer s3cret").status == 202);
  session.join();
  ::unsetenv("ONEPATH_TEST_TOKEN");
}

TEST_CASE("a paper session exports each model input's drift against the model's training distributions") {
  Fixture f;
  // a model of scripts/features/ml_basic.lua, with its manifest
  TrainConfig t;
  t.features = kSource + "/scripts/features/ml_basic.lua";
  t.out = (f.dir / "models" / "m.json").string();
  t.folds = 2;
  t.booster.rounds = 10;
  TrainInput in;
  in.market = market(3000);
  train_model(t, in);
  RunConfig c = f.config();
  c.session.strategy = kSource + "/scripts/strategies/ml_threshold.lua";
  c.session.params = {{"model", t.out}, {"inputs", std::string("features.ml_basic")}};
  std::atomic<int> port{0};
  PaperOptions o;
  o.on_listening = [&](int p) { port = p; };
  std::thread session([&] { run_paper(c, make_replay_feed(market(1500), k15m, 1.0), o); });
  REQUIRE(eventually([&] { return port.load() != 0; }));
  REQUIRE(eventually([&] { return http(port, "GET", "/status").body.find("\"candles\": 3,") != std::string::npos; }));
  const std::string metrics = http(port, "GET", "/metrics").body;
  CHECK(metrics.find("# TYPE onepath_model_input_psi gauge\n") != std::string::npos);
  CHECK(metrics.find("onepath_model_input_psi{model=\"score\",input=\"rsi14\"} ") != std::string::npos);
  CHECK(metrics.find("onepath_model_input_ks{model=\"score\",input=\"prank\"} ") != std::string::npos);
  CHECK(http(port, "POST", "/control/stop").status == 202);
  session.join();
}

TEST_CASE("a paper session's final equity includes the end-of-data close-out, whichever mark the journal keeps") {
  Fixture f;
  const std::string script = (f.dir / "hold.lua").string();
  std::ofstream(script) << "local S = {}\nfunction S.on_bar(ctx, bar, f)\n  if ctx.position == 0 then ctx:buy{ size = 0.2 } end\nend\nreturn S\n";
  auto config = [&](int every) {
    const std::string path = (f.dir / "HOLD.toml").string();
    std::ofstream(path) << "[data]\nsymbols = [\"BTC\"]\n[data.generate]\nbars = 10\n[strategy]\nscript = \"" << script
                        << "\"\n[execution]\nfill = \"close\"\ntaker_fee_bps = 10\n[output]\nequity_every = " << every << "\ndb = \""
                        << (f.dir / "journal.db").string() << "\"\n[paper]\ndir = \"" << (f.dir / "paper").string() << "\"\n";
    return load_run_config(path);
  };
  SynthOptions so;
  so.symbols = {preset_symbol("BTC", 1)};
  so.bars = 40;
  so.seed = 3;
  so.start_ms = 1709251200000;
  const auto m = generate_market(so);
  auto j = [&] { return Journal::open((f.dir / "journal.db").string()); };

  // the last mark kept by sampling (40 marks, every 3rd and the last) and not sampled
  for (int every : {1, 3, 13}) {
    CAPTURE(every);
    RunConfig c = config(every);
    BacktestResult b = run_backtest_on(c.session, m, k15m);
    REQUIRE(b.trades.size() == 1);
    REQUIRE(b.trades[0].reason == ExitReason::end_of_data);
    PaperOptions o;
    o.fresh = true;
    PaperOutcome p = run_paper(c, make_replay_feed(m, k15m, 0), o);
    REQUIRE(p.complete);
    CHECK(p.equity == b.metrics.final_equity);
    CHECK(j()->equity(p.run_id).back().equity == b.metrics.final_equity);
    CHECK(nlohmann::json::parse(j()->run(p.run_id)->metrics)["final_equity"].get<double>() == b.metrics.final_equity);
  }

  // the last mark already journaled when the data ends: stopped after the first bar, resumed on a feed with no more
  RunConfig c = config(1);
  std::atomic<int> port{0};
  PaperOptions o;
  o.fresh = true;
  o.on_listening = [&](int p) { port = p; };
  auto first = [&](std::size_t n) {
    CandleSeries s;
    s.symbol = m[0].symbol;
    for (std::size_t i = 0; i < n; ++i) s.push_back(m[0][i]);
    return std::vector<CandleSeries>{s};
  };
  const auto two = first(2), one = first(1);
  std::thread session([&] { run_paper(c, make_replay_feed(two, k15m, 1.0), o); });  // the second bar is 15 minutes away
  REQUIRE(eventually([&] { return port.load() != 0; }));
  REQUIRE(eventually([&] { return http(port, "GET", "/status").body.find("\"candles\": 1,") != std::string::npos; }));
  // the entry filled at the first close; no trade is closed yet: fills and trades are two series
  const std::string metrics = http(port, "GET", "/metrics").body;
  CHECK(metrics.find("\nonepath_fills_total 1\n") != std::string::npos);
  CHECK(metrics.find("\nonepath_trades_total 0\n") != std::string::npos);
  CHECK(http(port, "POST", "/control/stop").status == 202);
  session.join();
  PaperOutcome resumed = run_paper(c, make_replay_feed(one, k15m, 0), PaperOptions{});
  REQUIRE(resumed.resumed);
  REQUIRE(resumed.complete);
  BacktestResult b = run_backtest_on(c.session, one, k15m);
  REQUIRE(b.trades.size() == 1);
  CHECK(resumed.equity == b.metrics.final_equity);
  auto marks = j()->equity(resumed.run_id);
  CHECK(marks.size() == 1);
  CHECK(marks.back().equity == b.metrics.final_equity);
}

TEST_CASE("a strategy's runtime error is an alert on /status and a counter on /metrics, and the session lives on with entries paused") {
  Fixture f;
  const std::string script = (f.dir / "fails.lua").string();
  std::ofstream(script) << "local S = {}\nfunction S.on_bar(ctx, bar, f)\n  local t = nil\n  return t.x\nend\nreturn S\n";
  const std::string path = (f.dir / "FAILS.toml").string();
  std::ofstream(path) << "[data]\nsymbols = [\"BTC\"]\n[data.generate]\nbars = 10\n[strategy]\nscript = \"" << script << "\"\n[output]\ndb = \""
                      << (f.dir / "journal.db").string() << "\"\n[paper]\ndir = \"" << (f.dir / "paper").string() << "\"\n";
  RunConfig c = load_run_config(path);
  std::atomic<int> port{0};
  PaperOptions o;
  o.fresh = true;
  o.on_listening = [&](int p) { port = p; };
  std::vector<CandleSeries> btc = {market(4)[0]};
  std::thread session([&] { run_paper(c, make_replay_feed(btc, k15m, 1.0), o); });  // the second slice is 15 minutes away
  REQUIRE(eventually([&] { return port.load() != 0; }));
  REQUIRE(eventually([&] { return http(port, "GET", "/status").body.find("\"strategy_errors\": 1") != std::string::npos; }));
  const auto status = nlohmann::json::parse(http(port, "GET", "/status").body);
  CHECK(status["entries_paused"] == true);
  REQUIRE(status["alerts"].size() == 1);
  CHECK(status["alerts"][0]["kind"] == "strategy_error");
  CHECK(status["alerts"][0]["message"].get<std::string>().find("fails.lua:4: attempt to index local 't'") != std::string::npos);
  CHECK(http(port, "GET", "/metrics").body.find("\nonepath_strategy_errors_total 1\n") != std::string::npos);
  CHECK(http(port, "POST", "/control/resume").body.find("\"entries_paused\": false") != std::string::npos);
  CHECK(http(port, "POST", "/control/stop").status == 202);
  session.join();
}

namespace {
// Two versions of an ETH model with BTC's features in the registry of `db`, version 1 in
// production; a config whose strategy trades ETH on it.
RunConfig eth_model_config(const Fixture& f, const std::string& db) {
  auto j = Journal::open(db);
  ModelRegistry registry(*j);
  for (std::uint64_t seed : {7, 8}) {
    TrainConfig t;
    t.features = kSource + "/scripts/features/cross_asset.lua";
    t.out = (f.dir / "models" / ("eth_up_" + std::to_string(seed) + ".json")).string();
    t.symbols = {"ETH"};
    t.folds = 2;
    t.booster.rounds = 10;
    t.seed = seed;
    t.booster.max_depth = seed == 7 ? 4 : 2;  // another model, not only another seed
    TrainInput in;
    in.market = market(3000);
    train_model(t, in);
    registry.add("eth_up", read_file(t.out), read_file(model_manifest_path(t.out)), t.out, 0);
  }
  registry.promote("eth_up", 1);
  RunConfig c = f.config();
  c.session.strategy = kSource + "/scripts/strategies/ml_threshold.lua";
  c.session.params = {{"model", std::string("eth_up")}, {"inputs", std::string("features.cross_asset")}, {"trade", std::string("ETH")}};
  c.registry = db;
  return c;
}
}  // namespace

TEST_CASE("a running paper session picks up a promotion and a rollback of the model it scores between candles, its features carried") {
  Fixture f;
  const std::string db = (f.dir / "journal.db").string();
  const RunConfig c = eth_model_config(f, db);
  PaperOptions o;
  o.fresh = true;
  o.model_poll = std::chrono::milliseconds(0);  // every slice: the test says when
  std::size_t slices = 0, promoted_after = 0, rolled_back_after = 0;  // slices stepped then
  o.reload_after = [&](std::size_t candles) {
    ++slices;
    auto other = Journal::open(db);  // as 'onepath models promote' would, from another connection
    if (!promoted_after && candles >= 600) ModelRegistry(*other).promote("eth_up", 2), promoted_after = slices;
    if (!rolled_back_after && candles >= 1500) ModelRegistry(*other).rollback("eth_up"), rolled_back_after = slices;
    return false;
  };
  const PaperOutcome p = run_paper(c, make_replay_feed(market(1000), k15m, 0), o);
  REQUIRE(p.complete);
  CHECK(p.reloads == 2);
  CHECK(p.reloads_rejected == 0);
  std::vector<nlohmann::json> changes;
  for (const auto& e : Journal::open(db)->events(p.run_id))
    if (e.name == "model_change") changes.push_back(nlohmann::json::parse(e.fields));
  REQUIRE(changes.size() == 2);
  CHECK(changes[0]["result"] == "swapped");
  CHECK(changes[0]["changes"][0]["to"] == 2);
  CHECK(changes[1]["result"] == "swapped");
  CHECK(changes[1]["changes"][0]["from"] == 2);
  CHECK(changes[1]["changes"][0]["to"] == 1);
  // Picked up before the next slice: the change follows the last candle stepped before it.
  const auto marks = Journal::open(db)->equity(p.run_id);
  REQUIRE(marks.size() == slices);  // one mark per slice (the last one re-marked at the end)
  CHECK(changes[0]["candle"].get<std::string>() == format_iso(marks[promoted_after - 1].ts));
  CHECK(changes[1]["candle"].get<std::string>() == format_iso(marks[rolled_back_after - 1].ts));
}

TEST_CASE("[[alerts]]: a paper session's events reach a webhook on loopback and a command, each once, a failed delivery retried") {
  Fixture f;
  // The receiver: answers 500 to the first kill_switch it is sent, 200 to everything else.
  boost::asio::io_context io;
  std::mutex mutex;
  std::vector<nlohmann::json> accepted;
  int kill_switch_attempts = 0;
  HttpServer receiver(io, "127.0.0.1", 0, "unused-token", [&](const HttpRequest& req) {
    const auto body = nlohmann::json::parse(req.body, nullptr, false);
    std::lock_guard lock(mutex);
    if (req.method != "POST" || req.target != "/hook?chat_id=7" || !body.is_object()) return HttpResponse{400, "text/plain", "bad"};
    if (body["event"] == "kill_switch" && kill_switch_attempts++ == 0) return HttpResponse{500, "text/plain", "try again"};
    accepted.push_back(body);
    return HttpResponse{200, "application/json", "{\"ok\":true}"};
  });
  std::thread serve([&] { io.run(); });
  struct Join {
    boost::asio::io_context& io;
    std::thread& t;
    ~Join() {
      io.stop();
      if (t.joinable()) t.join();
    }
  } join{io, serve};
  // The kill switch on, a strategy that fails on one bar, a reload that is rejected.
  const std::string script = (f.dir / "flaky.lua").string();
  std::ofstream(script) << "local S = {}\nfunction S.on_bar(ctx, bar, f)\n  if bar.index == 40 and ctx.symbol == \"ETH\" then error(\"boom\") end\nend\nreturn S\n";
  const std::string lines = (f.dir / "quality.jsonl").string();
  const std::string pause = (f.dir / "PAUSE").string();
  std::ofstream(pause) << "";  // the kill switch, on from the start
  RunConfig c = f.config("pause_file = \"" + pause + "\"\n[[alerts]]\nevents = [\"kill_switch\", \"reload_rejected\", \"strategy_error\"]\nwebhook = \"http://127.0.0.1:" +
                         std::to_string(receiver.port()) + "/hook?chat_id=7\"\n[[alerts]]\nevents = [\"data_quality\"]\nrate_per_minute = 1000000\n"
                         "command = [\"/bin/sh\", \"-c\", \"printf '%s\\\\n' \\\"$1\\\" >> " + lines + "\", \"sh\"]\n");
  c.session.strategy = script;
  c.session.params.clear();
  PaperOptions o;
  o.fresh = true;
  bool broken = false;
  o.reload_after = [&](std::size_t candles) {
    if (broken || candles < 300) return false;
    std::ofstream(script) << "local S = {\nreturn S\n";  // a syntax error: rejected
    return broken = true;
  };
  const PaperOutcome p = run_paper(c, make_replay_feed(market(600), k15m, 0), o);  // its router delivers before it returns
  REQUIRE(p.complete);
  CHECK(p.reloads_rejected == 1);

  std::map<std::string, int> kinds;
  std::set<std::string> ids;
  for (const auto& a : accepted) {
    ++kinds[a["event"].get<std::string>()];
    ids.insert(a["id"].get<std::string>());
    CHECK(a["text"].get<std::string>().find("onepath paper RUN.toml: ") == 0);  // what a chat bot shows
  }
  CHECK(ids.size() == accepted.size());  // none twice
  CHECK(kinds["strategy_error"] == 1);
  CHECK(kinds["kill_switch"] == 1);  // refused once, delivered on the retry, once
  CHECK(kill_switch_attempts == 2);
  CHECK(kinds["reload_rejected"] == 1);
  CHECK(kinds.size() == 3);  // nothing it did not ask for
  // The command got every data_quality event the journal has, once each.
  std::size_t journaled = 0;
  for (const auto& e : Journal::open((f.dir / "journal.db").string())->events(p.run_id)) journaled += e.name == "data_quality";
  std::ifstream in(lines);
  std::size_t delivered = 0;
  for (std::string line; std::getline(in, line);) delivered += nlohmann::json::parse(line)["event"] == "data_quality";
  CHECK(journaled > 0);
  CHECK(delivered == journaled);
}

TEST_CASE("champion and challenger: a shadow model is scored and evaluated beside the champion and never changes a trade") {
  Fixture f;
  const std::string db = (f.dir / "journal.db").string();
  RunConfig c = eth_model_config(f, db);
  PaperOptions o;
  o.fresh = true;
  const PaperOutcome alone = run_paper(c, make_replay_feed(market(1200), k15m, 0), o);
  c.session.params["shadow"] = std::string("eth_up@2");
  const PaperOutcome beside = run_paper(c, make_replay_feed(market(1200), k15m, 0), o);
  REQUIRE(alone.complete);
  REQUIRE(beside.complete);
  CHECK(beside.trades == alone.trades);
  CHECK(beside.decisions == alone.decisions);
  CHECK(beside.equity == alone.equity);  // the champion trades; the challenger only scores
  auto j = Journal::open(db);
  const auto events = j->events_correlated("shadow:eth_up@2");
  REQUIRE_FALSE(events.empty());
  const auto last = nlohmann::json::parse(events.back().fields);
  CHECK(last["run"] == beside.run_id);
  CHECK(last["champion"] == "registry eth_up@1");
  CHECK(last["challenger"] == "registry eth_up@2");
  // Every scored bar whose forward return (8 bars, the manifest's label) is known: 3 symbols.
  CHECK(last["labelled"].get<std::size_t>() > 3 * 900);
  CHECK(last["labelled"].get<std::size_t>() <= 3 * (1200 - 8));
  CHECK(last["metrics"]["auc"]["champion"].is_number());
  CHECK(last["metrics"]["auc"]["challenger"].is_number());
  CHECK(last["metrics"]["auc"]["champion"] != last["metrics"]["auc"]["challenger"]);
}
