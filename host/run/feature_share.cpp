#include "run/feature_share.hpp"

namespace onepath {

std::shared_ptr<const FeatureRows> FeatureShare::find(const std::string& key) const {
  std::lock_guard<std::mutex> hold(lock_);
  for (auto it = recent_.begin(); it != recent_.end(); ++it)
    if (it->first == key) {
      recent_.splice(recent_.begin(), recent_, it);
      ++replayed_;
      return it->second;
    }
  return nullptr;
}

void FeatureShare::keep(const std::string& key, std::shared_ptr<const FeatureRows> rows) {
  std::lock_guard<std::mutex> hold(lock_);
  for (const auto& [k, r] : recent_)
    if (k == key) return;
  recent_.emplace_front(key, std::move(rows));
  if (recent_.size() > kept_) recent_.pop_back();
}

std::size_t FeatureShare::replayed() const {
  std::lock_guard<std::mutex> hold(lock_);
  return replayed_;
}

}  // namespace onepath
