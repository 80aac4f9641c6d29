#include "run/decision_log.hpp"

#include "core/number_format.hpp"
#include "enrich/enricher.hpp"

namespace onepath {

std::string risk_json(const RiskAnswer& a) {
  std::string s = std::string("{\"approved\":") + (a.approved ? "true" : "false") + ",\"quantity\":" + format_double(a.quantity) + ",\"reasons\":[";
  for (std::size_t i = 0; i < a.reasons.size(); ++i) {
    const RiskReason& r = a.reasons[i];
    s += (i ? "," : "") + std::string("{\"code\":\"") + r.code + "\",\"limit\":" + format_double(r.limit) + ",\"proposed\":" +
         format_double(r.proposed) + "}";
  }
  return s + "]}";
}

void DecisionLog::add(const DecisionView& d) {
  columns_ = d.columns;
  if (versions_.empty() || versions_.back() != d.strategy_version) versions_.emplace_back(d.strategy_version);
  entries_.push_back({d.ts, d.symbol, d.action, static_cast<std::uint32_t>(versions_.size() - 1), *d.decision});
  features_.insert(features_.end(), d.features, d.features + d.columns);
}

DecisionRecord DecisionLog::record(std::size_t i) const {
  const Entry& e = entries_[i];
  const double* row = features_.data() + i * columns_;
  DecisionRecord r;
  r.ts = e.ts;
  r.symbol = e.symbol;
  r.action = e.action == IntentAction::buy ? "buy" : e.action == IntentAction::sell ? "sell" : "close";
  r.outcome = outcome_name(e.decision.outcome);
  r.filter = e.decision.filter;
  r.reason = e.decision.reason;
  if (e.action != IntentAction::close) r.risk = risk_json(e.decision.risk);
  r.features.assign(row, row + columns_);
  r.feature_row_hash = row_hash(row, columns_);
  r.quantity = e.decision.quantity;
  r.strategy_version = versions_[e.version];
  return r;
}

std::vector<DecisionRecord> DecisionLog::records() const {
  std::vector<DecisionRecord> out;
  out.reserve(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i) out.push_back(record(i));
  return out;
}

void DecisionLog::clear() {
  entries_.clear();
  features_.clear();
  versions_.clear();
}

}  // namespace onepath
