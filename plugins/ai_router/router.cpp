#include "router.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <climits>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "http.hpp"
#include "ledger.hpp"
#include "wire.hpp"

namespace ai {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;

constexpr std::size_t kSummaryChars = 500;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string sha256_hex(const std::string& text) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d);
  return hex(d, sizeof d);
}

std::string iso_time(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Task task_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw std::invalid_argument(where + ": a task is a JSON object");
  static const std::set<std::string> known = {"id", "prompt", "system", "model", "max_tokens", "provider", "parent"};
  for (const auto& [k, v] : j.items())
    if (!known.count(k))
      throw std::invalid_argument(where + ": unknown key '" + k + "' (known: id, prompt, system, model, max_tokens, provider, parent)");
  auto text = [&](const char* k) -> std::string {
    if (!j.contains(k)) return "";
    if (!j[k].is_string()) throw std::invalid_argument(where + ": '" + k + "' must be a string");
    return j[k].get<std::string>();
  };
  Task t;
  t.id = text("id");
  t.prompt = text("prompt");
  if (t.prompt.empty()) throw std::invalid_argument(where + ": 'prompt' is required and must not be empty");
  t.system = text("system");
  if (j.contains("model")) t.model_class = text("model");
  t.provider_hint = text("provider");
  t.parent = text("parent");
  if (j.contains("max_tokens")) {
    const json& m = j["max_tokens"];
    if (!m.is_number_integer() || m.get<std::int64_t>() < 1 || m.get<std::int64_t>() > 1000000)
      throw std::invalid_argument(where + ": 'max_tokens' must be a whole number from 1 to 1000000");
    t.max_tokens = static_cast<int>(m.get<std::int64_t>());
  }
  return t;
}

std::string content_of(const Task& t) {
  return dump({{"id", t.id}, {"prompt", t.prompt}, {"system", t.system}, {"model", t.model_class}, {"max_tokens", t.max_tokens},
               {"provider", t.provider_hint}, {"parent", t.parent}});
}

}  // namespace

std::string answer_key(const Task& t) {
  return sha256_hex(dump({{"prompt", t.prompt}, {"system", t.system}, {"model", t.model_class}, {"max_tokens", t.max_tokens}, {"parent", t.parent}}));
}

TaskBatch parse_tasks(const std::string& request) {
  json r = json::parse(request, nullptr, false);
  if (r.is_discarded()) throw std::invalid_argument("the request is not JSON");
  TaskBatch b;
  if (r.is_object() && r.contains("fresh")) {
    if (!r["fresh"].is_boolean()) throw std::invalid_argument("'fresh' must be true or false");
    b.fresh = r["fresh"].get<bool>();
    r.erase("fresh");
  }
  if (r.is_object() && r.contains("file")) {
    const std::string path = r["file"].is_string() ? r["file"].get<std::string>() : "";
    std::ifstream in(path);
    if (!in) throw std::invalid_argument(path + ": cannot read the tasks file");
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      const auto first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#') continue;
      const std::string where = path + ":" + std::to_string(n);
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) throw std::invalid_argument(where + ": not a JSON object (one task per line)");
      b.tasks.push_back(task_from_json(j, where));
    }
    if (b.tasks.empty()) throw std::invalid_argument(path + ": no tasks in the file");
  } else if (r.is_object() && r.contains("tasks")) {
    if (!r["tasks"].is_array()) throw std::invalid_argument("'tasks' must be a list");
    for (std::size_t i = 0; i < r["tasks"].size(); ++i) b.tasks.push_back(task_from_json(r["tasks"][i], "task " + std::to_string(i)));
  } else {
    b.tasks.push_back(task_from_json(r, "the task"));
  }
  return b;
}

struct Router::Impl {
  struct Job {
    std::int64_t handle = 0;
    Task task;
    std::string key, correlation_id;
    bool fresh = false;
  };

  // io_ first: destroyed last, after everything that runs on it.
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  Config c_;
  Hooks hooks_;
  TlsContext tls_;
  Ledger ledger_;
  std::vector<Url> urls_;
  std::mt19937_64 rng_{std::random_device{}()};
  Router* self_ = nullptr;

  // io thread only
  std::deque<std::shared_ptr<Job>> queue_;
  std::multiset<std::string> unfinished_ids_;  // ids of queued or running tasks: a child waits for its parent
  std::set<std::string> disabled_;             // providers whose key was refused (401/403)
  int in_flight_ = 0;
  bool stopping_ = false;

  // shared with callers
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::int64_t, std::string> ready_;
  std::map<std::int64_t, std::shared_ptr<Job>> open_;  // submitted, not yet finished
  std::int64_t next_handle_ = 1;
  std::thread thread_;

  Impl(Config c, Hooks h) : c_(std::move(c)), hooks_(std::move(h)), tls_(c_.ca_file), ledger_(c_.ledger) {
    for (const auto& p : c_.providers) {
      urls_.push_back(parse_url(p.base_url));
      if (p.key.empty() && p.wire != Wire::openai_compatible)
        log(2, "provider " + p.name + ": $" + p.key_env + " is not set; it will not be used");
    }
    thread_ = std::thread([this] { io_.run(); });
  }

  void log(int level, const std::string& m) {
    if (hooks_.log) hooks_.log(level, self_ ? self_->redact(m) : m);
  }
  void event(const std::string& name, const json& fields) {
    if (hooks_.event) hooks_.event(name, self_->redact(dump(fields)));
  }
  std::int64_t now() const { return hooks_.now_ms(); }
  bool usable(const Provider& p) const { return !disabled_.count(p.name) && (!p.key.empty() || p.wire == Wire::openai_compatible); }

  // min(concurrency, requests left / 2), at least 1; providers without request limits leave it at concurrency.
  int limit() {
    const std::int64_t t = now();
    std::int64_t left = 0;
    for (const auto& p : c_.providers) {
      if (!usable(p) || ledger_.cooldown_until(p.name) > t) continue;
      const std::int64_t l = ledger_.requests_left(p.name, p.quota, t);
      if (l == INT64_MAX) return c_.concurrency;
      left += l;
    }
    return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(c_.concurrency, left / 2)));
  }

  void finish(const std::shared_ptr<Job>& job, json result) {
    result["index"] = job->handle;
    if (!job->task.id.empty()) result["id"] = job->task.id;
    result["correlation_id"] = job->correlation_id;
    std::string text = self_->redact(dump(result));
    {
      std::lock_guard lock(mu_);
      ready_[job->handle] = std::move(text);
      open_.erase(job->handle);
    }
    cv_.notify_all();
  }

  json failure(const std::string& error, const json& attempts) {
    return {{"ok", false}, {"error", error}, {"attempts", attempts}};
  }

  // Starts what may start: queued tasks whose parent is not still to come, up to the limit.
  void pump() {
    if (stopping_) return;
    while (!queue_.empty() && in_flight_ < limit()) {
      auto it = std::find_if(queue_.begin(), queue_.end(), [&](const auto& j) { return j->task.parent.empty() || !unfinished_ids_.count(j->task.parent); });
      if (it == queue_.end()) return;
      std::shared_ptr<Job> job = *it;
      queue_.erase(it);
      ++in_flight_;
      asio::co_spawn(io_, run(job), [this, job](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            finish(job, failure(std::string("internal error: ") + x.what(), json::array()));
          }
        }
        --in_flight_;
        if (!job->task.id.empty()) unfinished_ids_.erase(unfinished_ids_.find(job->task.id));
        pump();
      });
    }
  }

  std::int64_t backoff_ms(int retry) {
    const int shift = std::min(retry - 1, 30);
    const std::int64_t base = std::min<std::int64_t>(c_.retry.max_ms, c_.retry.base_ms << shift);
    const std::int64_t jitter = c_.retry.jitter_ms > 0 ? std::uniform_int_distribution<std::int64_t>(0, c_.retry.jitter_ms)(rng_) : 0;
    return base + jitter;
  }

  asio::awaitable<void> sleep_real(std::int64_t ms) {
    if (ms <= 0) co_return;
    asio::steady_timer t(io_);
    t.expires_after(std::chrono::milliseconds(ms));
    co_await t.async_wait(asio::use_awaitable);
  }
  std::int64_t scaled(std::int64_t ms) const { return static_cast<std::int64_t>(static_cast<double>(ms) * c_.retry.time_scale); }

  asio::awaitable<void> run(std::shared_ptr<Job> job) {
    const Task& task = job->task;
    json attempts = json::array();
    Prompt prompt{task.system, "", task.prompt, task.max_tokens};
    std::string chain_id = job->correlation_id;
    json handoff_in;
    if (!task.parent.empty()) {
      const auto h = ledger_.handoff(task.parent);
      if (!h) {
        finish(job, failure("hand-off context of parent task '" + task.parent + "' not found (it failed, or never ran with this ledger)",
                            attempts));
        co_return;
      }
      prompt.context = h->context;
      chain_id = h->chain_id;
      handoff_in = {{"parent", task.parent}, {"summary", h->summary}};
    }
    if (!job->fresh)
      if (const auto kept = ledger_.answer(job->key)) {
        json r = json::parse(*kept, nullptr, false);
        if (r.is_object()) {
          r["cached"] = true;
          finish(job, r);
          co_return;
        }
      }
    const std::int64_t estimate =
        static_cast<std::int64_t>((prompt.system.size() + prompt.context.size() + prompt.prompt.size() + 3) / 4) + task.max_tokens;

    // Routing order: the hint first, then the tiers.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < c_.providers.size(); ++i)
      if (c_.providers[i].name == task.provider_hint) order.push_back(i);
    for (std::size_t i = 0; i < c_.providers.size(); ++i)
      if (c_.providers[i].name != task.provider_hint) order.push_back(i);

    std::set<std::size_t> excluded;
    std::map<std::size_t, int> retries;
    int task_retries = 0;
    std::string last_error;
    for (;;) {
      if (stopping_) co_return;
      if (!attempts.empty() && ++task_retries > c_.retry.task_retries) {
        finish(job, failure("gave up after " + std::to_string(c_.retry.task_retries) + " retries; last: " + last_error, attempts));
        co_return;
      }
      const std::int64_t t0 = now();
      std::size_t chosen = SIZE_MAX;
      std::int64_t reservation = 0, earliest = INT64_MAX;
      std::string refusals;
      for (std::size_t i : order) {
        const Provider& p = c_.providers[i];
        if (excluded.count(i) || !usable(p)) continue;
        if (const std::int64_t until = ledger_.cooldown_until(p.name); until > t0) {
          earliest = std::min(earliest, until);
          continue;
        }
        std::string why;
        if (auto r = ledger_.reserve(p.name, p.quota, estimate, t0, &why)) {
          chosen = i;
          reservation = *r;
          break;
        }
        refusals += (refusals.empty() ? "" : "; ") + p.name + ": " + why;
      }
      if (chosen == SIZE_MAX) {
        if (earliest != INT64_MAX) {  // every provider with quota is cooling down: wait for the first
          attempts.push_back({{"wait_ms", earliest - t0}, {"outcome", "cooling_down"}});
          co_await sleep_real(earliest - t0);
          continue;
        }
        std::string e = !refusals.empty() ? "quota exhausted (" + refusals + ")" : !last_error.empty() ? last_error : "no usable provider";
        finish(job, failure(e, attempts));
        co_return;
      }

      const Provider& p = c_.providers[chosen];
      const std::string model = model_for(p, task.model_class);
      const WireRequest req = build_request(p, model, prompt);
      const auto started = std::chrono::steady_clock::now();
      WireResult res;
      int status = 0;
      try {
        const HttpResponse http = co_await http_post(tls_, urls_[chosen], req.target, req.headers, req.body, std::chrono::milliseconds(p.timeout_ms));
        status = http.status;
        res = parse_response(p, http.status, http.headers, http.body, now());
        // Before anything keeps it (results, events, the ledger's cooldowns and answers): a
        // provider's error text may echo the key.
        res.error = self_->redact(std::move(res.error));
      } catch (const TransportError& e) {
        res.outcome = Outcome::retryable;
        res.error = e.what();
      }
      const std::int64_t latency =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
      json attempt = {{"provider", p.name}, {"model", model}, {"status", status}, {"outcome", outcome_name(res.outcome)}, {"latency_ms", latency}};
      if (!res.error.empty()) attempt["error"] = res.error;

      if (stopping_) co_return;  // cancelled meanwhile: the reservation goes with release_own
      if (res.outcome == Outcome::ok) {
        const bool known = res.input_tokens >= 0 && res.output_tokens >= 0;
        const std::int64_t in = known ? res.input_tokens : estimate - task.max_tokens, out = known ? res.output_tokens : task.max_tokens;
        const double cost = (static_cast<double>(in) * p.price_in + static_cast<double>(out) * p.price_out) / 1e6;
        attempts.push_back(attempt);
        json result = {{"ok", true},
                       {"text", res.text},
                       {"provider", p.name},
                       {"model", model},
                       {"input_tokens", in},
                       {"output_tokens", out},
                       {"usage_known", known},
                       {"cost_usd", cost},
                       {"latency_ms", latency},
                       {"attempts", attempts},
                       {"chain_id", chain_id}};
        if (!handoff_in.is_null()) result["handoff"] = handoff_in;
        const std::string summary = res.text.substr(0, kSummaryChars);
        if (!task.id.empty()) result["summary"] = summary;
        // Spend and answer in one transaction: a restart finds both or neither.
        const auto alerts = ledger_.record(reservation, {p.name, in + out, cost, job->correlation_id, job->key, dump(result)}, p.quota, now());
        if (!task.id.empty()) ledger_.put_handoff(task.id, {chain_id, summary, res.text}, now());
        event("call", {{"correlation_id", job->correlation_id}, {"chain_id", chain_id}, {"task", job->handle}, {"provider", p.name},
                       {"model", model}, {"status", status}, {"outcome", "ok"}, {"input_tokens", in}, {"output_tokens", out},
                       {"usage_known", known}, {"cost_usd", cost}, {"latency_ms", latency}});
        for (const Alert& a : alerts) {
          log(2, "quota: " + a.provider + " has used " + std::to_string(a.threshold) + "% of its " + a.metric + " (" + std::to_string(a.used) +
                     " of " + std::to_string(a.limit) + ")");
          event("quota_alert",
                {{"provider", a.provider}, {"metric", a.metric}, {"threshold", a.threshold}, {"used", a.used}, {"limit", a.limit}});
        }
        finish(job, result);
        co_return;
      }

      ledger_.release(reservation);
      last_error = p.name + ": " + res.error;
      switch (res.outcome) {
        case Outcome::exhausted_today:
          ledger_.cool_down(p.name, Ledger::next_midnight(now()), "exhausted today: " + res.error);
          excluded.insert(chosen);
          log(2, "provider " + p.name + " is out of quota until 00:00 UTC: " + res.error);
          break;
        case Outcome::fail_over:
          excluded.insert(chosen);
          if (res.auth && disabled_.insert(p.name).second) log(3, "provider " + p.name + " refused its key; not used again: " + res.error);
          break;
        case Outcome::retryable: {
          const int n = ++retries[chosen];
          const std::int64_t planned = std::max(backoff_ms(n), res.retry_after_ms);
          attempt["retry_after_ms"] = res.retry_after_ms;
          attempt["planned_delay_ms"] = planned;
          ledger_.cool_down(p.name, now() + scaled(planned), res.error);  // the later deadline stays
          if (n > c_.retry.max_retries || planned > c_.retry.max_ms + c_.retry.jitter_ms) {
            excluded.insert(chosen);  // its retries are spent, or it asks for longer than we wait: the next provider
          } else {
            attempts.push_back(attempt);
            event("call", {{"correlation_id", job->correlation_id}, {"chain_id", chain_id}, {"task", job->handle}, {"provider", p.name},
                           {"model", model}, {"status", status}, {"outcome", outcome_name(res.outcome)}, {"error", res.error},
                           {"latency_ms", latency}});
            // Wait for the provider's deadline: ours, or a later one another task set.
            co_await sleep_real(std::max(scaled(planned), ledger_.cooldown_until(p.name) - now()));
            continue;
          }
          break;
        }
        case Outcome::ok: break;
      }
      attempts.push_back(attempt);
      event("call", {{"correlation_id", job->correlation_id}, {"chain_id", chain_id}, {"task", job->handle}, {"provider", p.name},
                     {"model", model}, {"status", status}, {"outcome", outcome_name(res.outcome)}, {"error", res.error}, {"latency_ms", latency}});
    }
  }

  std::string new_correlation_id() {
    unsigned char b[16];
    for (auto& x : b) x = static_cast<unsigned char>(rng_() & 0xff);
    return hex(b, sizeof b);
  }
};

Router::Router(Config config, Hooks hooks) : impl_(std::make_unique<Impl>(std::move(config), std::move(hooks))) { impl_->self_ = this; }

Router::~Router() { cancel(); }

std::int64_t Router::submit(std::vector<Task> tasks, bool fresh) {
  std::int64_t first = 0;
  std::vector<std::shared_ptr<Impl::Job>> jobs;
  {
    std::lock_guard lock(impl_->mu_);
    first = impl_->next_handle_;
    std::map<std::string, int> seen;  // identical tasks in one batch are separate tasks
    for (auto& t : tasks) {
      auto job = std::make_shared<Impl::Job>();
      job->handle = impl_->next_handle_++;
      const std::string content = content_of(t);
      job->key = sha256_hex(content + "#" + std::to_string(seen[content]++));
      job->fresh = fresh;
      job->task = std::move(t);
      impl_->open_[job->handle] = job;
      jobs.push_back(job);
    }
  }
  asio::post(impl_->io_, [impl = impl_.get(), jobs] {
    for (const auto& j : jobs) {
      j->correlation_id = impl->new_correlation_id();
      if (!j->task.id.empty()) impl->unfinished_ids_.insert(j->task.id);
      impl->queue_.push_back(j);
    }
    impl->pump();
  });
  return first;
}

std::vector<std::string> Router::poll(int wait_ms) {
  std::unique_lock lock(impl_->mu_);
  if (impl_->ready_.empty() && wait_ms > 0)
    impl_->cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return !impl_->ready_.empty(); });
  std::vector<std::string> out;
  for (auto& [h, r] : impl_->ready_) out.push_back(std::move(r));
  impl_->ready_.clear();
  return out;
}

std::size_t Router::unfinished() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->open_.size() + impl_->ready_.size();
}

void Router::cancel() {
  if (impl_->thread_.joinable()) {
    impl_->work_.reset();
    impl_->io_.stop();
    impl_->thread_.join();
    impl_->stopping_ = true;  // coroutines left on the stopped loop never resume
    impl_->ledger_.release_own();
  }
  std::vector<std::shared_ptr<Impl::Job>> left;
  {
    std::lock_guard lock(impl_->mu_);
    for (auto& [h, j] : impl_->open_) left.push_back(j);
  }
  for (auto& j : left) impl_->finish(j, impl_->failure("cancelled", json::array()));
}

std::string Router::quota_report() {
  std::promise<std::string> answer;
  auto build = [this] {
    Impl& m = *impl_;
    const std::int64_t t = m.now();
    json providers = json::array();
    for (const auto& p : m.c_.providers) {
      const ProviderUsage u = m.ledger_.usage(p.name, t);
      json x = {{"name", p.name},
                {"wire", wire_name(p.wire)},
                {"tier", p.tier},
                {"key", p.key.empty() ? (p.key_env.empty() ? "none" : "missing ($" + p.key_env + ")") : "set ($" + p.key_env + ")"},
                {"requests_today", u.requests_day},
                {"requests_per_day", p.quota.requests_day},
                {"tokens_today", u.tokens_day},
                {"tokens_per_day", p.quota.tokens_day},
                {"requests_last_minute", u.requests_minute},
                {"requests_per_minute", p.quota.requests_minute},
                {"tokens_last_minute", u.tokens_minute},
                {"tokens_per_minute", p.quota.tokens_minute},
                {"reserved_requests", u.reserved_requests},
                {"reserved_tokens", u.reserved_tokens},
                {"cost_today_usd", u.cost_day},
                {"cost_total_usd", u.cost_total},
                {"disabled", m.disabled_.count(p.name) > 0}};
      if (u.cooldown_until) {
        x["cooldown_until"] = iso_time(u.cooldown_until);
        x["cooldown_reason"] = u.cooldown_reason;
      }
      providers.push_back(x);
    }
    return redact(dump({{"ledger", m.c_.ledger}, {"day", iso_time(t).substr(0, 10)}, {"reservations", m.ledger_.reservations()}, {"providers", providers}}));
  };
  if (!impl_->thread_.joinable()) return build();
  asio::post(impl_->io_, [&] {
    try {
      answer.set_value(build());
    } catch (...) {
      answer.set_exception(std::current_exception());
    }
  });
  return answer.get_future().get();
}

namespace {

// Marks in `hide` every run of `text` of at least `min_run` characters that also stands in
// `secret`: the whole key, and what a provider echoes of it ("sk-abcd1234****").
void mark_runs(const std::string& text, const std::string& secret, std::size_t min_run, std::vector<bool>& hide) {
  for (std::size_t i = 0; i < text.size(); ++i)
    for (std::size_t j = 0; j < secret.size(); ++j) {
      std::size_t n = 0;
      while (i + n < text.size() && j + n < secret.size() && text[i + n] == secret[j + n]) ++n;
      if (n >= min_run) std::fill(hide.begin() + static_cast<std::ptrdiff_t>(i), hide.begin() + static_cast<std::ptrdiff_t>(i + n), true);
    }
}

}  // namespace

std::string Router::redact(std::string text) const {
  std::vector<bool> hide(text.size(), false);
  bool any = false;
  for (const auto& p : impl_->c_.providers) {
    if (p.key.size() < 4) continue;
    const std::size_t min_run = std::min<std::size_t>(p.key.size(), 8);
    const std::string escaped = json(p.key).dump();  // the key as JSON text carries it, quotes and all
    for (const std::string& form : {p.key, escaped.substr(1, escaped.size() - 2)}) mark_runs(text, form, min_run, hide);
  }
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!hide[i]) {
      out += text[i];
      continue;
    }
    if (i == 0 || !hide[i - 1]) out += "[redacted]", any = true;
  }
  return any ? out : text;
}

}  // namespace ai
