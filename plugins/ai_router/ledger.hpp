#pragma once
// The quota ledger: what each provider has been asked today and this minute, what is
// reserved for calls in flight, cooldowns, alerts already sent, answered tasks (so a
// restarted batch does not pay twice) and hand-off contexts. A SQLite file (WAL) or a
// PostgreSQL database (tables ai_*); every change is one transaction under the ledger's
// write lock, so several processes can share it and never reserve past a limit between
// them. Times are UTC milliseconds, passed in (tests drive the clock); a day is
// [00:00, 24:00) UTC, a minute is the last 60 000 ms.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"

namespace ai {

class LedgerDb;

struct Alert {
  std::string provider, metric;  // requests_per_day | tokens_per_day
  int threshold = 0;             // 50 | 80 | 90
  std::int64_t used = 0, limit = 0;
};

struct ProviderUsage {
  std::int64_t requests_day = 0, tokens_day = 0, requests_minute = 0, tokens_minute = 0;
  std::int64_t reserved_requests = 0, reserved_tokens = 0;
  double cost_day = 0, cost_total = 0;
  std::int64_t cooldown_until = 0;
  std::string cooldown_reason;
};

struct Handoff {
  std::string chain_id, summary, context;
};

class Ledger {
 public:
  // A SQLite file (created, with its folder) or "postgresql://..."; std::runtime_error.
  explicit Ledger(const std::string& address);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Reserves one request and `tokens` on `provider` if every limit of `quota` still has room
  // (reservations in flight count as used). The reservation's id, or nullopt with `why`.
  std::optional<std::int64_t> reserve(const std::string& provider, const Quota& quota, std::int64_t tokens, std::int64_t now_ms,
                                      std::string* why);
  // A failed or cancelled call: the reservation goes, nothing is spent.
  void release(std::int64_t reservation);
  // A call that was answered: the reservation becomes spend of `tokens` (the actual usage,
  // or the reserved amount when the provider did not say), and the answer is kept under
  // `task_key` in the same transaction (a crash cannot keep one without the other).
  // Returns the daily alerts this spend crossed for the first time today (50 / 80 / 90 %).
  struct Spend {
    std::string provider;
    std::int64_t tokens = 0;
    double cost = 0;
    std::string correlation_id, task_key, answer_json;
  };
  std::vector<Alert> record(std::int64_t reservation, const Spend& spend, const Quota& quota, std::int64_t now_ms);
  // Every reservation this process holds goes (it is stopping).
  void release_own();

  // A provider is not called before `until_ms`; a later deadline replaces an earlier one, never the reverse.
  void cool_down(const std::string& provider, std::int64_t until_ms, const std::string& reason);
  std::int64_t cooldown_until(const std::string& provider);

  ProviderUsage usage(const std::string& provider, std::int64_t now_ms);
  std::int64_t reservations();  // in flight, every process
  // Requests still allowed now on `provider` (reservations count as used); INT64_MAX: no request limit.
  std::int64_t requests_left(const std::string& provider, const Quota& quota, std::int64_t now_ms);

  // Answered tasks, by a key of their content: a batch run again is not asked again.
  std::optional<std::string> answer(const std::string& task_key);

  void put_handoff(const std::string& task_id, const Handoff& h, std::int64_t now_ms);
  std::optional<Handoff> handoff(const std::string& task_id);

  static std::int64_t day_of(std::int64_t ms) { return ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000; }
  static std::int64_t next_midnight(std::int64_t ms) { return (day_of(ms) + 1) * 86400000; }

 private:
  struct Used {
    std::int64_t req_day = 0, tok_day = 0, req_min = 0, tok_min = 0, res_req = 0, res_tok = 0;
  };
  Used used(const std::string& provider, std::int64_t now_ms);
  void reap_dead_owners(std::int64_t now_ms);
  template <class F>
  auto locked(F&& work);
  std::unique_ptr<LedgerDb> db_;
  std::string host_, owner_;
};

}  // namespace ai
