#pragma once
// One enricher per (symbol, timeframe, feature_set_version), shared by every consumer of
// that key: enrichment state is a fact of the candles, not of a user. Consumers hold
// leases; an enricher nobody leases is evicted after an idle time (default 10 minutes).
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "enrich/enricher.hpp"

namespace onepath {

class EnricherRegistry;

// A consumer's hold on a shared enricher; releases it when destroyed.
class EnricherLease {
 public:
  EnricherLease() = default;
  EnricherLease(EnricherLease&& o) noexcept { *this = std::move(o); }
  EnricherLease& operator=(EnricherLease&& o) noexcept;
  ~EnricherLease();
  Enricher* operator->() const { return enricher_.get(); }
  Enricher& operator*() const { return *enricher_; }
  const std::shared_ptr<Enricher>& get() const { return enricher_; }

 private:
  friend class EnricherRegistry;
  EnricherRegistry* registry_ = nullptr;
  std::string key_;
  std::shared_ptr<Enricher> enricher_;
};

class EnricherRegistry {
 public:
  using Clock = std::function<TimestampMs()>;  // injectable for tests
  explicit EnricherRegistry(TimestampMs idle_ms = 10 * kMsPerMinute, Clock clock = {});

  EnricherLease acquire(const std::string& symbol, const FeatureSet& set, Timeframe tf);
  // Drops enrichers nobody has leased for the idle time; returns how many.
  std::size_t evict_idle();
  std::size_t size() const;
  std::size_t leases(const std::string& symbol, const std::string& version, Timeframe tf) const;

 private:
  friend class EnricherLease;
  struct Entry {
    std::shared_ptr<Enricher> enricher;
    std::size_t leases = 0;
    TimestampMs idle_since = 0;
  };
  static std::string key(const std::string& symbol, const std::string& version, Timeframe tf);
  void release(const std::string& key);

  TimestampMs idle_ms_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace onepath
