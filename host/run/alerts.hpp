#pragma once
// [[alerts]]: a paper session's events (drift, data quality, the kill switch, a rejected
// reload, a failed session, an enrichment_config_mismatch, a strategy error, ...) routed to a
// webhook (a JSON POST; a chat bot's URL works: the body has a "text") and/or a command (the
// event's JSON as its last argument). Delivery runs on a thread of its own, so the step never
// waits for it: retries with backoff, a rate limit per rule, and, when the session ends,
// whatever is queued is delivered first (for a few seconds at most).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace onepath {

struct AlertRule {
  std::vector<std::string> events{"*"};  // event names, or "*" for every one
  std::string webhook;                   // http:// or https://
  std::vector<std::string> command;      // a program and its arguments, never a shell
  int retries = 3;                       // after the first attempt, with backoff 1, 2, 4 s
  double rate_per_minute = 10;           // beyond it, an event is dropped (and counted)
  std::string origin;                    // "RUN.toml: alerts[1]", for messages
  bool routes(const std::string& event) const;
};

class AlertRouter {
 public:
  // `session`: who speaks ("paper RUN.toml, run 7").
  AlertRouter(std::vector<AlertRule> rules, std::string session);
  ~AlertRouter();  // delivers what is queued (for 10 s at most), then stops
  AlertRouter(const AlertRouter&) = delete;
  AlertRouter& operator=(const AlertRouter&) = delete;

  // Queues `event` for every rule that routes it; `fields_json` an object (or "").
  void notify(const std::string& event, const std::string& message, const std::string& fields_json = "");
  struct Counts {
    std::uint64_t delivered = 0, failed = 0, dropped = 0;
  };
  Counts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace onepath
