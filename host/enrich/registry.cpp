#include "enrich/registry.hpp"

#include <chrono>
#include <utility>

#include "core/log.hpp"

namespace onepath {

EnricherLease& EnricherLease::operator=(EnricherLease&& o) noexcept {
  if (this != &o) {
    if (registry_) registry_->release(key_);
    registry_ = std::exchange(o.registry_, nullptr);
    key_ = std::move(o.key_);
    enricher_ = std::move(o.enricher_);
  }
  return *this;
}

EnricherLease::~EnricherLease() {
  if (registry_) registry_->release(key_);
}

EnricherRegistry::EnricherRegistry(TimestampMs idle_ms, Clock clock) : idle_ms_(idle_ms), clock_(std::move(clock)) {
  if (!clock_)
    clock_ = [] { return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count(); };
}

std::string EnricherRegistry::key(const std::string& symbol, const std::string& version, Timeframe tf) {
  return symbol + "|" + std::string(tf.name()) + "|" + version;
}

EnricherLease EnricherRegistry::acquire(const std::string& symbol, const FeatureSet& set, Timeframe tf) {
  std::string k = key(symbol, feature_set_version(set), tf);
  std::lock_guard lock(mutex_);
  Entry& e = entries_[k];
  if (!e.enricher) {
    e.enricher = std::make_shared<Enricher>(set, tf);
    log::info("enricher_created", {{"symbol", symbol}, {"timeframe", std::string(tf.name())}, {"feature_set_version", e.enricher->version()}});
  }
  ++e.leases;
  EnricherLease lease;
  lease.registry_ = this;
  lease.key_ = k;
  lease.enricher_ = e.enricher;
  return lease;
}

void EnricherRegistry::release(const std::string& k) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(k);
  if (it == entries_.end()) return;
  if (--it->second.leases == 0) it->second.idle_since = clock_();
}

std::size_t EnricherRegistry::evict_idle() {
  std::lock_guard lock(mutex_);
  const TimestampMs now = clock_();
  std::size_t evicted = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.leases == 0 && now - it->second.idle_since >= idle_ms_) {
      log::info("enricher_evicted", {{"key", it->first}});
      it = entries_.erase(it);
      ++evicted;
    } else {
      ++it;
    }
  }
  return evicted;
}

std::size_t EnricherRegistry::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t EnricherRegistry::leases(const std::string& symbol, const std::string& version, Timeframe tf) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key(symbol, version, tf));
  return it == entries_.end() ? 0 : it->second.leases;
}

}  // namespace onepath
