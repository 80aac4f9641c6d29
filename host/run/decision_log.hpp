#pragma once
// Decisions kept compactly while a run goes: the decision as the engine answered it and
// the feature row it was made on, in one flat array. No strings are built and nothing is
// hashed on the per-candle path; a journal record (risk JSON, row hash) is made only when
// one is read.
#include <vector>

#include "run/session.hpp"
#include "store/journal.hpp"

namespace onepath {

class DecisionLog {
 public:
  void add(const DecisionView& d);
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  DecisionRecord record(std::size_t i) const;
  std::vector<DecisionRecord> records() const;
  void clear();

 private:
  struct Entry {
    TimestampMs ts;
    int symbol;
    IntentAction action;
    std::uint32_t version;  // index into versions_
    Decision decision;
  };
  std::vector<Entry> entries_;
  std::vector<std::string> versions_;  // the strategy versions that decided, in order
  std::vector<double> features_;  // columns_ values per entry
  std::size_t columns_ = 0;
};

// The risk manager's answer as the journal stores it.
std::string risk_json(const RiskAnswer& a);

}  // namespace onepath
