// The router against a scripted LLM server on loopback: quotas never exceeded, results in
// task order, every failure of the issue retried or failed over as the rules say, hand-offs,
// no key in anything written, no spend counted twice after a restart. Waits are scaled by
// retry.time_scale, so the planned delays are checked as numbers, not waited for.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "config.hpp"
#include "ledger.hpp"
#include "ledger_db.hpp"
#include "mock_llm.hpp"
#include "router.hpp"

using namespace ai;
using json = nlohmann::json;

namespace {

std::string temp_dir() {
  static const std::string d = [] {
    const auto p = std::filesystem::temp_directory_path() / ("onepath_router_" + std::to_string(::getpid()));
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p.string();
  }();
  return d;
}

int ledgers = 0;

Provider make_provider(const std::string& name, Wire w, const std::string& url, int tier) {
  Provider p;
  p.name = name;
  p.wire = w;
  p.base_url = url;
  p.key = "sk-" + name + "-secret-0123456789";
  p.key_env = "TEST_KEY";
  p.models["default"] = "model-" + name;
  p.tier = tier;
  p.price_in = tier == 3 ? 0.15 : 0;
  p.price_out = tier == 3 ? 0.60 : 0;
  p.timeout_ms = 2000;
  return p;
}

Config make_config(std::vector<Provider> providers) {
  Config c;
  c.providers = std::move(providers);
  c.ledger = temp_dir() + "/ledger" + std::to_string(++ledgers) + ".db";
  c.retry.base_ms = 100;
  c.retry.max_ms = 3200;
  c.retry.jitter_ms = 0;
  c.retry.time_scale = 0.001;
  return c;
}

struct Recorder {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> events;
  std::vector<std::string> logs;
  Router::Hooks hooks() {
    Router::Hooks h;
    h.event = [this](const std::string& n, const std::string& f) {
      std::lock_guard lock(mu);
      events.emplace_back(n, f);
    };
    h.log = [this](int, const std::string& m) {
      std::lock_guard lock(mu);
      logs.push_back(m);
    };
    h.now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    };
    return h;
  }
  int count(const std::string& name) {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& e : events) n += e.first == name;
    return n;
  }
};

std::vector<Task> prompts(int n, const std::string& prefix = "task") {
  std::vector<Task> v;
  for (int i = 0; i < n; ++i) {
    Task t;
    t.prompt = prefix + " " + std::to_string(i);
    t.max_tokens = 16;
    v.push_back(t);
  }
  return v;
}

// Submits and waits for every result; results[i] belongs to tasks[i].
std::vector<json> run_all(Router& r, std::vector<Task> tasks, bool fresh = false) {
  const std::size_t n = tasks.size();
  const std::int64_t first = r.submit(std::move(tasks), fresh);
  std::vector<json> out(n);
  std::size_t got = 0;
  while (got < n) {
    for (const auto& s : r.poll(5000)) {
      json j = json::parse(s);
      const std::int64_t i = j["index"].get<std::int64_t>() - first;
      REQUIRE(i >= 0);
      REQUIRE(static_cast<std::size_t>(i) < n);
      out[static_cast<std::size_t>(i)] = j;
      ++got;
    }
  }
  return out;
}

json one(Router& r, Task t) { return run_all(r, {t})[0]; }

Task task(const std::string& prompt) {
  Task t;
  t.prompt = prompt;
  t.max_tokens = 16;
  return t;
}

mock::Rule rule(const std::string& wire, int status, int times, std::vector<std::pair<std::string, std::string>> headers = {}, std::string body = "") {
  mock::Rule r;
  r.wire = wire;
  r.status = status;
  r.times = times;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

}  // namespace

TEST_CASE("router: 200 tasks against quotas that allow 120: exactly 120 calls, in order, nothing left reserved") {
  mock::Server server;
  Provider free = make_provider("free", Wire::gemini, server.url(), 1);
  free.quota.requests_day = 70;
  Provider paid = make_provider("paid", Wire::openai, server.url(), 3);
  paid.quota.requests_day = 50;
  Config c = make_config({free, paid});
  const std::string ledger_path = c.ledger;
  Recorder rec;
  {
    Router r(c, rec.hooks());
    const auto results = run_all(r, prompts(200));
    int ok = 0, refused = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i]["ok"].get<bool>()) {
        ++ok;
        CHECK(results[i]["text"] == "echo: task " + std::to_string(i));  // result i answers task i
      } else {
        ++refused;
        CHECK(results[i]["error"].get<std::string>().find("quota exhausted") != std::string::npos);
      }
    }
    CHECK(ok == 120);
    CHECK(refused == 80);
  }
  CHECK(server.calls() == 120);
  CHECK(server.calls("gemini") == 70);  // the free tier first
  CHECK(server.calls("openai") == 50);
  Ledger l(ledger_path);
  CHECK(l.reservations() == 0);
  CHECK(rec.count("call") == 120);
}

TEST_CASE("router: results in task order whatever the completion order") {
  mock::Rule slow = rule("*", 200, 1);
  slow.delay_ms = 1500;  // the first call answers last (seven quick calls take milliseconds)
  mock::Server server({slow});
  Recorder rec;
  Provider p = make_provider("a", Wire::openai, server.url(), 1);
  p.timeout_ms = 10000;
  Router r(make_config({p}), rec.hooks());
  std::vector<Task> tasks = prompts(8);
  const std::int64_t first = r.submit({tasks[0]}, false);
  while (server.calls() < 1) r.poll(5);  // task 0's call is the first the server sees: the slow one
  r.submit(std::vector<Task>(tasks.begin() + 1, tasks.end()), false);
  std::vector<std::int64_t> completion;
  std::vector<json> by_index(8);
  while (completion.size() < 8)
    for (const auto& s : r.poll(5000)) {
      json j = json::parse(s);
      completion.push_back(j["index"].get<std::int64_t>() - first);
      by_index[static_cast<std::size_t>(completion.back())] = j;
    }
  CHECK(completion.back() == 0);  // it did finish last
  for (int i = 0; i < 8; ++i) CHECK(by_index[static_cast<std::size_t>(i)]["text"] == "echo: task " + std::to_string(i));
}

TEST_CASE("router: at most `concurrency` calls at once, fewer as quota drains") {
  {
    mock::Server server;
    server.hold_until(10);  // no call answers before ten are in flight
    Recorder rec;
    Router r(make_config({make_provider("a", Wire::openai, server.url(), 1)}), rec.hooks());
    run_all(r, prompts(40));
    CHECK(server.max_concurrent() == 10);
  }
  {
    mock::Server server;
    // min(10, left / 2) with reservations counted as used: 3 in flight leave 5, 5 / 2 = 2 < 3
    server.hold_until(3);
    Provider p = make_provider("a", Wire::openai, server.url(), 1);
    p.quota.requests_day = 8;
    Recorder rec;
    Router r(make_config({p}), rec.hooks());
    run_all(r, prompts(12));
    CHECK(server.max_concurrent() == 3);
    CHECK(server.calls() == 8);
  }
}

TEST_CASE("router: every retryable failure is retried on the same provider and then answered") {
  struct Case {
    const char* name;
    mock::Rule rule;
    Wire wire;
  };
  mock::Rule timeout = rule("*", 200, 1);
  timeout.delay_ms = 800;
  mock::Rule cut = rule("*", 200, 1);
  cut.cut = true;
  mock::Rule garbage = rule("*", 200, 1);
  garbage.garbage = true;
  const std::vector<Case> cases = {
      {"429", rule("*", 429, 1), Wire::openai},          {"500", rule("*", 500, 1), Wire::openai},
      {"502", rule("*", 502, 1), Wire::gemini},          {"503", rule("*", 503, 1), Wire::anthropic},
      {"504", rule("*", 504, 1), Wire::openai},          {"529 overloaded", rule("*", 529, 1, {}, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"), Wire::anthropic},
      {"timeout", timeout, Wire::openai},                {"cut mid-response", cut, Wire::gemini},
      {"unparseable body", garbage, Wire::anthropic},
  };
  for (const Case& k : cases) {
    CAPTURE(k.name);
    mock::Server server({k.rule});
    Provider p = make_provider("a", k.wire, server.url(), 1);
    p.timeout_ms = 300;
    Recorder rec;
    Router r(make_config({p}), rec.hooks());
    const json res = one(r, task("hello"));
    CHECK(res["ok"] == true);
    CHECK(res["text"] == "echo: hello");
    REQUIRE(res["attempts"].size() == 2);
    CHECK(res["attempts"][0]["outcome"] == "retryable");
    CHECK(res["attempts"][0]["planned_delay_ms"] == 100);  // the first backoff step
    CHECK(server.calls() == 2);
  }
}

TEST_CASE("router: retry hints: retry-after seconds and HTTP date, retry-after-ms, Gemini RetryInfo") {
  auto planned = [](mock::Rule first, Wire w) {
    mock::Server server({first});
    Recorder rec;
    Router r(make_config({make_provider("a", w, server.url(), 1)}), rec.hooks());
    const json res = one(r, task("x"));
    REQUIRE(res["ok"] == true);
    return res["attempts"][0]["planned_delay_ms"].get<std::int64_t>();
  };
  CHECK(planned(rule("*", 429, 1, {{"retry-after", "2"}}), Wire::openai) == 2000);
  CHECK(planned(rule("*", 429, 1, {{"retry-after-ms", "1500"}}), Wire::anthropic) == 1500);
  // an HTTP date 3 s ahead: the delay is the date minus the clock when the answer was read,
  // bounded by the clock before the call and after it (a slow machine only widens the bounds)
  char date[64];
  const std::time_t t = std::time(nullptr) + 3;
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  auto wall_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  const std::int64_t before = wall_ms();
  const std::int64_t d = planned(rule("*", 503, 1, {{"retry-after", date}}), Wire::openai);
  const std::int64_t after = wall_ms();
  CHECK(d >= std::int64_t(t) * 1000 - after - 1);
  CHECK(d <= std::int64_t(t) * 1000 - before + 1);
  CHECK(d > 0);
  CHECK(planned(rule("*", 429, 1, {},
                     R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"slow down","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2.5s"}]}})"),
                Wire::gemini) == 2500);
  // a hint shorter than the backoff does not shorten it
  CHECK(planned(rule("*", 429, 1, {{"retry-after-ms", "10"}}), Wire::openai) == 100);
}

TEST_CASE("router: at most max_retries per provider, then the next tier, a fallback does not refill the task's budget") {
  {
    mock::Server server({rule("openai", 503, 100)});
    Recorder rec;
    Router r(make_config({make_provider("a", Wire::openai, server.url(), 1), make_provider("b", Wire::anthropic, server.url(), 3)}), rec.hooks());
    const json res = one(r, task("x"));
    CHECK(res["ok"] == true);
    CHECK(res["provider"] == "b");
    CHECK(server.calls("openai") == 4);  // the first try and 3 retries
    CHECK(res["attempts"][2]["planned_delay_ms"] == 400);  // 100, 200, 400
  }
  {
    mock::Server server({rule("*", 503, 100)});
    Config c = make_config({make_provider("a", Wire::openai, server.url(), 1), make_provider("b", Wire::anthropic, server.url(), 3)});
    c.retry.task_retries = 5;
    Recorder rec;
    Router r(c, rec.hooks());
    const json res = one(r, task("x"));
    CHECK(res["ok"] == false);
    CHECK(res["error"].get<std::string>().find("gave up after 5 retries") != std::string::npos);
    CHECK(server.calls() == 6);  // 4 on a, 2 on b: b did not get a budget of its own
  }
}

TEST_CASE("router: a hint longer than the backoff ceiling fails over at once instead of waiting") {
  mock::Server server({rule("openai", 429, 1, {{"retry-after", "3600"}})});
  Recorder rec;
  Router r(make_config({make_provider("a", Wire::openai, server.url(), 1), make_provider("b", Wire::gemini, server.url(), 2)}), rec.hooks());
  const json res = one(r, task("x"));
  CHECK(res["provider"] == "b");
  CHECK(server.calls("openai") == 1);
  // and the provider cools down for the hour: the next task does not try it
  const json next = one(r, task("y"));
  CHECK(next["provider"] == "b");
  CHECK(server.calls("openai") == 1);
}

TEST_CASE("router: non-retryable failures fail over at once") {
  struct Case {
    const char* name;
    mock::Rule rule;
    Wire wire;
    bool cools_for_the_day;
  };
  const std::vector<Case> cases = {
      {"401", rule("*", 401, 1, {}, R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}})"), Wire::openai, false},
      {"403", rule("*", 403, 1, {}, R"({"error":{"message":"forbidden"}})"), Wire::gemini, false},
      {"400", rule("*", 400, 1, {}, R"({"error":{"message":"bad request"}})"), Wire::openai, false},
      {"insufficient_quota", rule("*", 429, 1, {}, R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})"),
       Wire::openai, true},
      {"anthropic spend limit", rule("*", 400, 1, {}, R"({"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}})"),
       Wire::anthropic, true},
      {"gemini per-day quota", rule("*", 429, 1, {}, R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}})"),
       Wire::gemini, true},
  };
  for (const Case& k : cases) {
    CAPTURE(k.name);
    mock::Server server({k.rule});
    mock::Server backup;
    Config c = make_config({make_provider("a", k.wire, server.url(), 1), make_provider("b", Wire::openai, backup.url(), 3)});
    Recorder rec;
    Router r(c, rec.hooks());
    const json res = one(r, task("x"));
    CHECK(res["ok"] == true);
    CHECK(res["provider"] == "b");
    CHECK(server.calls() == 1);
    REQUIRE(res["attempts"].size() == 2);
    CHECK(res["attempts"][0]["outcome"] != "retryable");
    const json q = json::parse(r.quota_report());
    CHECK(q["providers"][0].contains("cooldown_until") == k.cools_for_the_day);
  }
}

TEST_CASE("router: a hinted provider is honoured when it has quota") {
  mock::Server server;
  Provider paid = make_provider("paid", Wire::openai, server.url(), 3);
  paid.quota.requests_day = 1;
  Recorder rec;
  Router r(make_config({make_provider("free", Wire::gemini, server.url(), 1), paid}), rec.hooks());
  Task t = task("x");
  t.provider_hint = "paid";
  CHECK(one(r, t)["provider"] == "paid");
  t.prompt = "y";
  CHECK(one(r, t)["provider"] == "free");  // its quota is gone: the tiers decide
}

TEST_CASE("router: hand-offs pass the parent's answer and chain id, a missing context is an error") {
  mock::Server server;
  Recorder rec;
  Router r(make_config({make_provider("a", Wire::anthropic, server.url(), 1)}), rec.hooks());
  Task parent = task("summarise the market");
  parent.id = "p1";
  Task child = task("now decide");
  child.id = "c1";
  child.parent = "p1";
  const auto res = run_all(r, {child, parent});  // the child is listed first and still waits
  REQUIRE(res[0]["ok"] == true);
  CHECK(res[0]["chain_id"] == res[1]["chain_id"]);
  CHECK(res[0]["handoff"]["parent"] == "p1");
  CHECK(res[0]["handoff"]["summary"] == "echo: summarise the market");
  CHECK(res[0]["text"].get<std::string>().find("echo: summarise the market") != std::string::npos);  // the context went with the prompt
  CHECK(res[1]["summary"].get<std::string>().size() <= 500);
  Task orphan = task("x");
  orphan.parent = "nobody";
  const json o = one(r, orphan);
  CHECK(o["ok"] == false);
  CHECK(o["error"].get<std::string>().find("hand-off context of parent task 'nobody' not found") != std::string::npos);
  CHECK(server.calls() == 2);
}

TEST_CASE("router: API keys never appear in results, events or logs") {
  mock::Server server({rule("*", 401, 1, {}, R"({"error":{"message":"Incorrect API key provided: sk-a-secret-0123456789"}})")});
  Recorder rec;
  Config c = make_config({make_provider("a", Wire::openai, server.url(), 1), make_provider("b", Wire::gemini, server.url(), 2)});
  Router r(c, rec.hooks());
  const auto res = run_all(r, prompts(3));
  std::string written = r.quota_report();
  for (const auto& x : res) written += x.dump();
  for (const auto& [n, f] : rec.events) written += n + f;
  for (const auto& l : rec.logs) written += l;
  for (const auto& p : c.providers) CHECK(written.find(p.key) == std::string::npos);
  CHECK(written.find("[redacted]") != std::string::npos);  // the 401 echoed it, and it was caught
  bool sent = false;                                         // while the provider did receive it
  for (const auto& q : server.requests())
    for (const auto& [k, v] : q.headers) sent = sent || v == "Bearer " + c.providers[0].key;
  CHECK(sent);
}

TEST_CASE("router: a batch run again is not paid twice, fresh asks again") {
  mock::Server server;
  Config c = make_config({make_provider("a", Wire::openai, server.url(), 1)});
  Recorder rec;
  {
    Router r(c, rec.hooks());
    run_all(r, prompts(10));
  }
  CHECK(server.calls() == 10);
  {
    Router r(c, rec.hooks());
    const auto again = run_all(r, prompts(10));
    for (const auto& x : again) CHECK(x["cached"] == true);
    CHECK(server.calls() == 10);
    run_all(r, prompts(10), true);
    CHECK(server.calls() == 20);
  }
  Ledger l(c.ledger);
  CHECK(l.usage("a", std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count()).requests_day == 20);
}

TEST_CASE("router: cancel ends every unfinished task and releases its reservation") {
  mock::Server server({}, "", "", 1500);
  Config c = make_config({make_provider("a", Wire::openai, server.url(), 1)});
  Recorder rec;
  Router r(c, rec.hooks());
  r.submit(prompts(5), false);
  while (server.calls() < 5) r.poll(20);  // every call is in flight
  r.cancel();
  int cancelled = 0;
  for (const auto& s : r.poll(0)) cancelled += json::parse(s)["error"] == "cancelled";
  CHECK(cancelled == 5);
  Ledger l(c.ledger);
  CHECK(l.reservations() == 0);
}

TEST_CASE("router: an answer without usage keeps the reserved amount as spent") {
  mock::Rule no_usage = rule("*", 200, 1);
  no_usage.no_usage = true;
  mock::Server server({no_usage});
  Config c = make_config({make_provider("a", Wire::openai, server.url(), 3)});
  Recorder rec;
  Router r(c, rec.hooks());
  const json res = one(r, task("12345678"));  // 8 characters: 2 tokens of prompt, 16 of answer reserved
  CHECK(res["usage_known"] == false);
  CHECK(res["input_tokens"] == 2);
  CHECK(res["output_tokens"] == 16);
  CHECK(res["cost_usd"].get<double>() > 0);
  const json q = json::parse(r.quota_report());
  CHECK(q["providers"][0]["tokens_today"] == 18);
}

TEST_CASE("router: quota alerts at 50, 80 and 90 percent as events and warnings") {
  mock::Server server;
  Provider p = make_provider("a", Wire::openai, server.url(), 1);
  p.quota.requests_day = 10;
  Recorder rec;
  Router r(make_config({p}), rec.hooks());
  run_all(r, prompts(10));
  CHECK(rec.count("quota_alert") == 3);
  int warnings = 0;
  for (const auto& l : rec.logs) warnings += l.find("% of its requests_per_day") != std::string::npos;
  CHECK(warnings == 3);
}

TEST_CASE("router: HTTPS with a CA the config names, an untrusted certificate is refused") {
  const std::string dir = temp_dir();
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                          " -days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  mock::Server server({}, cert, key);
  REQUIRE(server.url().rfind("https://", 0) == 0);
  {
    Config c = make_config({make_provider("a", Wire::anthropic, server.url(), 1)});
    c.ca_file = cert;
    Recorder rec;
    Router r(c, rec.hooks());
    const json res = one(r, task("over tls"));
    CHECK(res["ok"] == true);
    CHECK(res["text"] == "echo: over tls");
  }
  {
    Config c = make_config({make_provider("a", Wire::anthropic, server.url(), 1)});
    c.retry.task_retries = 0;
    Recorder rec;
    Router r(c, rec.hooks());
    const json res = one(r, task("x"));
    CHECK(res["ok"] == false);
    CHECK(res["error"].get<std::string>().find("TLS") != std::string::npos);
  }
}

TEST_CASE("router: a key with quotes, or echoed in part, is redacted before anything stores it, the ledger included") {
  const std::string key = "sk-q\"uo\\te-0123456789abcdef";
  const std::string escaped = R"(sk-q\"uo\\te-0123456789abcdef)";  // as a JSON body carries it
  mock::Server server({rule("*", 429, 1, {}, R"({"error":{"message":"Rate limited for key )" + escaped + R"("}})"),
                       rule("*", 401, 1, {}, R"({"error":{"message":"Incorrect API key provided: sk-q\"uo\\te-0123****cdef"}})")});
  Recorder rec;
  Provider a = make_provider("a", Wire::openai, server.url(), 1), b = make_provider("b", Wire::openai, server.url(), 2);
  a.key = b.key = key;
  Config c = make_config({a, b});
  c.retry.max_retries = 0;
  Router r(c, rec.hooks());
  const auto res = run_all(r, prompts(1));
  std::string written = r.quota_report();
  for (const auto& x : res) written += x.dump();
  for (const auto& [n, f] : rec.events) written += n + f;
  for (const auto& l : rec.logs) written += l;
  auto db = open_ledger_db(c.ledger);
  for (const char* sql : {"SELECT reason FROM ai_cooldowns", "SELECT * FROM ai_answers", "SELECT * FROM ai_calls"})
    for (const auto& row : db->query(sql, {}))
      for (std::size_t i = 0; i < row.size(); ++i) written += row.text(i);
  CHECK(written.find("[redacted]") != std::string::npos);
  for (const std::string& leak : {key, escaped, std::string("0123456789"), std::string("uo\\te-0123")}) {
    CAPTURE(leak);
    CHECK(written.find(leak) == std::string::npos);
  }
}

TEST_CASE("config: a key is never sent over plain HTTP off this machine") {
  ::setenv("ONEPATH_TEST_AI_KEY", "sk-test-0123456789", 1);
  const std::string path = temp_dir() + "/http.toml";
  auto config_with = [&](const std::string& url) {
    std::ofstream(path) << "[ai]\nledger = \"l.db\"\n[[ai.providers]]\nname = \"p\"\nwire = \"openai\"\nbase_url = \"" << url
                        << "\"\nkey_env = \"ONEPATH_TEST_AI_KEY\"\nmodels = { default = \"m\" }\n";
    return path;
  };
  CHECK_THROWS_WITH(load_config(config_with("http://api.example.com/v1")), doctest::Contains("plain HTTP off this machine"));
  CHECK(load_config(config_with("https://api.example.com/v1")).providers.size() == 1);
  CHECK(load_config(config_with("http://127.0.0.1:8080/v1")).providers.size() == 1);
  CHECK(load_config(config_with("http://[::1]:8080")).providers.size() == 1);
  ::unsetenv("ONEPATH_TEST_AI_KEY");
}
