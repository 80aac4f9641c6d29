#pragma once
// The checks a certificate is made of, one case (a market and the session that runs on it)
// at a time. Each fills `first` with the first divergence it finds and stops there.
#include <optional>
#include <string>
#include <vector>

#include "certify/certify.hpp"
#include "core/rng.hpp"
#include "enrich/enricher.hpp"
#include "exec/kernel.hpp"
#include "run/session_config.hpp"
#include "store/journal.hpp"

namespace onepath {

struct CertifyCase {
  std::string name;
  SessionConfig session;
  std::vector<CandleSeries> market;
  Timeframe tf = Timeframe::parse("15m");
  FeatureSet features;                  // the strategy's
  std::vector<FeatureColumns> batch;    // per symbol, the batch columns (Eq. 1's reference)
  std::vector<std::string> columns;
  std::string registry;                 // where models named by registry name are found
  std::vector<std::string> script_files;  // every file the strategy's Lua state ran
  std::vector<std::size_t> restore_at;    // slices Eq. 3 and 4 restore at besides their random ones
  bool probe = false;                     // a probe strategy's case: only Eq. 3 and 4 apply
};
// A case of this session over this market: the strategy's feature set, probed once, and the
// batch columns every check compares with.
CertifyCase make_case(std::string name, const RunConfig& config, SessionConfig session, std::vector<CandleSeries> market, Timeframe tf);

// The config's filters, risk and execution under a probe strategy's bursts of buys and a
// long drought (seed 001 §11bis), restored inside each; none when the data is too short.
std::optional<CertifyCase> burst_drought_case(const RunConfig& config, const CertifyCase& config_case);

// What a run decided and did, and its state before the end-of-data close-out.
struct RunRecord {
  std::vector<DecisionRecord> decisions;
  std::vector<Trade> trades;
  std::vector<EquityPoint> marks;
  std::string state;
};
// The case's session over its market; with `restore_after`, saved after that many time
// slices and continued in a new Session loaded from the bytes.
RunRecord run_case(const CertifyCase& c, std::optional<std::size_t> restore_after = std::nullopt,
                   const std::vector<CandleSeries>* market = nullptr);

StageResult check_features(const CertifyCase& c, Rng& rng, int splits, std::optional<ParityDivergence>& first);
StageResult check_models(const CertifyCase& c, std::optional<ParityDivergence>& first);
// One model's scores three ways, row after row (`outputs` per row), and each row's (symbol, bar).
struct ModelScores {
  std::vector<std::pair<int, std::size_t>> where;
  std::size_t outputs = 1;
  std::vector<float> batch, rows, xgb;  // native batch, native one row at a time, libxgboost
};
// Eq. 2's comparison: the first row whose scores differ, named with both values' bits.
void compare_scores(const CertifyCase& c, const std::string& model, const ModelScores& scores, StageResult& r, std::optional<ParityDivergence>& first);
// Eq. 3 (decisions: the strategy and the filter chain) and Eq. 4 (trades, marks, orders and
// the whole state) under save/restore at random slices.
std::vector<StageResult> check_restore(const CertifyCase& c, const RunRecord& straight, Rng& rng, int splits, std::optional<ParityDivergence>& first);
StageResult check_paper(const CertifyCase& c, const RunRecord& straight, std::optional<ParityDivergence>& first);
StageResult check_lookahead(const CertifyCase& c, const RunRecord& straight, Rng& rng, int cuts, std::optional<ParityDivergence>& first);
std::vector<WarmupTruth> measure_warmup(const CertifyCase& c, Rng& rng);

}  // namespace onepath
