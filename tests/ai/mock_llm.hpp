#pragma once
// A scripted LLM server on 127.0.0.1 for the router's tests: it speaks the OpenAI, Anthropic
// and Gemini wire formats (answering "echo: <the user text>" with usage), and a script of
// rules makes chosen calls fail: a status with headers and body, a delay, a cut connection,
// an answer without usage. Rules are used in order, each `times` times. Optional TLS.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mock {

struct Rule {
  std::string wire = "*";  // openai | anthropic | gemini | *
  int status = 200;        // 200: the normal answer (after delay_ms)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;        // for errors; empty: a generic error body
  int times = 1;
  int delay_ms = 0;
  bool cut = false;      // send half a response, then close
  bool no_usage = false;  // a 200 whose body says nothing of usage
  bool garbage = false;   // a 200 whose body is not JSON
};

struct Request {
  std::string wire, target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class Server {
 public:
  // cert/key: PEM files for TLS, or empty for plain HTTP.
  explicit Server(std::vector<Rule> rules = {}, std::string cert = "", std::string key = "", int answer_delay_ms = 0);
  ~Server();
  int port() const;
  std::string url() const;
  int calls() const;           // answered or failed, every wire
  int calls(const std::string& wire) const;
  int max_concurrent() const;  // the most calls in progress at once
  std::vector<Request> requests() const;
  void set_rules(std::vector<Rule> rules);
  // Each call waits, before it answers, until `calls` calls are in progress at once (or 5 s
  // pass): a test sees how many a client really keeps in flight, whatever the timing.
  void hold_until(int calls);
  // After `answers` calls have been admitted, every later one waits without an answer until
  // the server stops: a client stalls at exactly that point, so a test can kill it mid-batch
  // without racing it.
  void stall_after(int answers);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Rules from JSON: [{"wire": "openai", "status": 429, "headers": {"retry-after": "1"}, "times": 2}, ...]
std::vector<Rule> rules_from_json(const nlohmann::json& j);

}  // namespace mock
