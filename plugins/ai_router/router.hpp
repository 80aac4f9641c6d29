#pragma once
// The router: tasks in, answers out, in task order. Each task is routed to the cheapest
// tier with quota left and the provider not cooling down (a hinted provider first, when it
// has quota); quota is reserved in the ledger before the call and recorded or released
// after; failures are retried with backoff or failed over as wire.hpp classifies them.
// Calls run as coroutines on the router's own Asio thread, at most `concurrency` at once,
// fewer as quota drains (min(concurrency, requests left / 2), at least 1).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"

namespace ai {

struct Task {
  std::string id;  // optional; names the task for hand-offs (`parent`) and in results
  std::string prompt, system, model_class = "default", provider_hint, parent;
  int max_tokens = 256;
};

// One task object, {"tasks": [...]}, or {"file": "tasks.jsonl"} (a task per line; blank
// lines and lines starting with # are skipped). "fresh": true asks again tasks the ledger
// has answered. std::invalid_argument naming the file and line (or the index).
struct TaskBatch {
  std::vector<Task> tasks;
  bool fresh = false;
};
TaskBatch parse_tasks(const std::string& request);

// What a task asks, as a SHA-256: equal for tasks that ask the same thing (recorded answers
// are found by it).
std::string answer_key(const Task& t);

class Router {
 public:
  struct Hooks {
    std::function<void(const std::string& name, const std::string& fields_json)> event;  // a journal event
    std::function<void(int level, const std::string& message)> log;                      // 0 debug .. 3 error
    std::function<std::int64_t()> now_ms;                                                // UTC wall clock
  };
  Router(Config config, Hooks hooks);  // opens the ledger; std::runtime_error
  ~Router();                           // cancels what is unfinished
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Queues tasks; returns the first handle (the others follow on). Never blocks on a call.
  std::int64_t submit(std::vector<Task> tasks, bool fresh);
  // Results (JSON objects) finished since the last poll, in handle order; when none is
  // ready, waits up to wait_ms for one.
  std::vector<std::string> poll(int wait_ms);
  std::size_t unfinished() const;
  // Stops: every unfinished task ends "cancelled", and this process's reservations go.
  void cancel();
  // Each provider's use today, reservations in flight, cooldowns, cost (JSON).
  std::string quota_report();
  // Every string the router writes passes through this: API keys become "[redacted]".
  std::string redact(std::string text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ai
