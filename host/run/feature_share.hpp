#pragma once
// Feature rows shared by runs over the same candles with the same feature set — a sweep's
// cells that differ only in filters, risk or execution (seed 001's variants): the first such
// run records each symbol's rows as it streams them, the runs after it replay those rows
// instead of computing them again. Replayed rows are the recorded bits, so a run that
// replays equals a run that computes (tested against `onepath backtest` alone). The most
// recently used are kept; a run holding rows keeps them alive.
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace onepath {

struct FeatureRows {
  std::size_t width = 0;       // columns per row
  std::vector<double> values;  // row after row
  std::size_t rows() const { return width ? values.size() / width : 0; }
};

class FeatureShare {
 public:
  explicit FeatureShare(std::size_t kept = 64) : kept_(kept) {}
  std::shared_ptr<const FeatureRows> find(const std::string& key) const;
  void keep(const std::string& key, std::shared_ptr<const FeatureRows> rows);
  std::size_t replayed() const;  // finds that found rows

 private:
  mutable std::mutex lock_;
  mutable std::list<std::pair<std::string, std::shared_ptr<const FeatureRows>>> recent_;  // most recent first
  std::size_t kept_;
  mutable std::size_t replayed_ = 0;
};

}  // namespace onepath
