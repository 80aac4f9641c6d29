#include "run/alerts.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/log.hpp"
#include "core/subprocess.hpp"
#include "core/time.hpp"
#include "net/webhook.hpp"

namespace onepath {
namespace {
constexpr double kDrainSeconds = 10, kFirstBackoffSeconds = 1;
}  // namespace

bool AlertRule::routes(const std::string& event) const {
  return std::any_of(events.begin(), events.end(), [&](const std::string& e) { return e == "*" || e == event; });
}

struct AlertRouter::Impl {
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::size_t rule = 0;
    std::string event, body;
  };
  std::vector<AlertRule> rules;
  std::string session;
  std::vector<double> tokens;                  // per rule: its rate limit's bucket
  std::vector<Clock::time_point> refilled;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Job> queue;
  bool stopping = false;
  Clock::time_point drain_until;
  Counts counts;
  std::uint64_t seq = 0;
  std::thread worker;

  bool draining_over() { return stopping && Clock::now() >= drain_until; }

  // One attempt: true when it was delivered.
  bool attempt(const AlertRule& r, const Job& job, std::string& why) {
    bool ok = true;
    if (!r.webhook.empty()) {
      try {
        const WebhookReply reply = post_json(r.webhook, job.body, 5000);
        if (reply.status < 200 || reply.status >= 300) ok = false, why = "HTTP " + std::to_string(reply.status);
      } catch (const std::exception& e) {
        ok = false, why = e.what();
      }
    }
    if (!r.command.empty()) {
      std::vector<std::string> argv = r.command;
      argv.push_back(job.body);
      try {
        const ProgramResult p = run_program(argv);
        if (p.status != 0) ok = false, why = r.command[0] + " exited " + std::to_string(p.status);
      } catch (const std::exception& e) {
        ok = false, why = e.what();
      }
    }
    return ok;
  }

  void run() {
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty() || draining_over()) return;
      const Job job = std::move(queue.front());
      queue.pop_front();
      const AlertRule& r = rules[job.rule];
      lock.unlock();
      std::string why;
      bool ok = attempt(r, job, why);
      double backoff = kFirstBackoffSeconds;
      for (int k = 0; !ok && k < r.retries; ++k) {
        lock.lock();  // a backoff that ends early when the session is past its drain time
        wake.wait_for(lock, std::chrono::duration<double>(backoff), [&] { return draining_over(); });
        const bool give_up = draining_over();
        lock.unlock();
        if (give_up) break;
        backoff *= 2;
        ok = attempt(r, job, why);
      }
      if (!ok) log::event(log::Level::error, "alert_delivery_failed", {{"rule", r.origin}, {"event", job.event}, {"error", why}});
      lock.lock();
      (ok ? counts.delivered : counts.failed)++;
    }
  }
};

AlertRouter::AlertRouter(std::vector<AlertRule> rules, std::string session) : impl_(std::make_unique<Impl>()) {
  impl_->rules = std::move(rules);
  impl_->session = std::move(session);
  for (const auto& r : impl_->rules) impl_->tokens.push_back(r.rate_per_minute), impl_->refilled.push_back(Impl::Clock::now());
  if (!impl_->rules.empty()) impl_->worker = std::thread([this] { impl_->run(); });
}

AlertRouter::~AlertRouter() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    impl_->drain_until = Impl::Clock::now() + std::chrono::duration_cast<Impl::Clock::duration>(std::chrono::duration<double>(kDrainSeconds));
  }
  impl_->wake.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

void AlertRouter::notify(const std::string& event, const std::string& message, const std::string& fields_json) {
  if (impl_->rules.empty()) return;
  std::lock_guard lock(impl_->mutex);
  const auto now = Impl::Clock::now();
  const std::string id = impl_->session + "#" + std::to_string(++impl_->seq);
  nlohmann::json body = {{"id", id},
                         {"event", event},
                         {"message", message},
                         {"text", "onepath " + impl_->session + ": " + event + ": " + message},  // what a chat bot shows
                         {"session", impl_->session},
                         {"time", format_iso(now_ms())}};
  if (!fields_json.empty()) body["fields"] = nlohmann::json::parse(fields_json, nullptr, false);
  for (std::size_t k = 0; k < impl_->rules.size(); ++k) {
    const AlertRule& r = impl_->rules[k];
    if (!r.routes(event)) continue;
    const double minutes = std::chrono::duration<double>(now - impl_->refilled[k]).count() / 60;
    impl_->tokens[k] = std::min(r.rate_per_minute, impl_->tokens[k] + minutes * r.rate_per_minute);
    impl_->refilled[k] = now;
    if (impl_->tokens[k] < 1) {
      ++impl_->counts.dropped;
      log::warn("alert_rate_limited", {{"rule", r.origin}, {"event", event}, {"rate_per_minute", r.rate_per_minute}});
      continue;
    }
    impl_->tokens[k] -= 1;
    impl_->queue.push_back({k, event, body.dump()});
  }
  impl_->wake.notify_all();
}

AlertRouter::Counts AlertRouter::counts() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counts;
}

}  // namespace onepath
