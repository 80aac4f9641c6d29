#pragma once
// onepath certify: proof, on a user's own config, data, plugins and models, that the one
// code path is one — batch and streaming features, native and libxgboost scores, runs saved
// and restored anywhere, a paper replay and the backtest, all give the same bits (seed 001's
// Eq. 1-5) — that nothing reads the future (lookahead analysis), and how much history each
// feature really needs (recursive analysis). The result is a certificate (JSON and one HTML
// page) naming the SHA-256 of every input, so `certify --check` can say whether it still
// applies. docs/certify.md says it in users' words.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/candle.hpp"
#include "run/run_config.hpp"

namespace onepath {

struct CertifyOptions {
  bool fixtures = false;          // also the 9-case grid: BTC / ETH / SOL x quiet / volatile / stress
  std::size_t fixture_bars = 3000;
  int splits = 5;                 // random save/restore (and bootstrap/stream) points per check
  int lookahead = 10;             // random cut points of the lookahead analysis
  bool allow_in_sample = false;   // a model trained on the certified data is then a warning
  std::uint64_t seed = 1;         // the random points; a certificate names it
  std::string version, git_revision;
  std::function<void(const std::string& line)> progress;  // one line per case and stage
};

// The first place two paths disagree, with what a person needs to find why.
struct ParityDivergence {
  std::string stage;       // "Eq. 1 features", ..., "lookahead"
  std::string case_name;   // "config data", "BTC quiet", ...
  std::string symbol, field;
  TimestampMs ts = 0;
  std::string a, b;        // both values as text (numbers: shortest round-trip form and bits)
  std::string how;         // "batch vs stream", "restored at bar 812", "cut at 2024-03-01T10:00:00Z"
  std::optional<Candle> candle;
  std::vector<std::pair<std::string, double>> row;  // the features at that bar
};

struct StageResult {
  std::string stage, verdict;  // verdict: "identical", "diverged", "skipped (why)"
  std::size_t compared = 0;    // values, decisions or rows compared
  std::string note;            // the tolerance used, what was covered
  double seconds = 0;
};

struct CaseResult {
  std::string name;
  std::size_t symbols = 0, candles = 0;
  std::vector<StageResult> stages;
};

// Recursive analysis of one feature column.
struct WarmupTruth {
  std::string column;
  std::size_t declared = 0;  // the bars the enricher bootstraps it with
  std::size_t measured = 0;  // the least history (of the grid tried) whose values equal the full history's within 1e-9 relative; 0: none
  bool exact = false;        // ... and bit for bit
  bool short_declared = false;  // the declared history did not settle it
};

// A rung of the tolerance ladder other than exact: a plugin kind's declaration, and the
// column it applied to.
struct CertifiedTolerance {
  std::string column, kind, why;
  double relative = 0;
};

struct CertifiedInput {
  std::string kind, path, sha256;  // kind: config | data | script | plugin | model
};

struct Certificate {
  bool passed = false;
  std::optional<ParityDivergence> divergence;
  std::vector<CaseResult> cases;
  std::vector<WarmupTruth> warmup;
  // docs/warmup.md: a paper session is ready after first_value_bars candles, bootstraps on
  // warmup_bars (declared; settled_by needs them); `warmup` holds what the data shows.
  std::size_t first_value_bars = 0, warmup_bars = 0;
  std::string settled_by;
  std::vector<CertifiedTolerance> tolerances;  // empty: every comparison was exact
  std::vector<std::string> warnings, failures;  // failures besides a divergence (a model in sample)
  std::vector<CertifiedInput> inputs;
  std::string config_path, created, version, git_revision, compiler, luajit, xgboost;
  std::uint64_t seed = 0;
  int splits = 0, lookahead = 0;
  double seconds = 0;
};

// Throws InputError for a config or data it cannot run (exit 2); a divergence is a failed
// certificate, not an exception.
Certificate certify(const RunConfig& config, const CertifyOptions& options);

std::string certificate_json(const Certificate& c);
std::string certificate_html(const Certificate& c);
// The divergence as the terminal shows it (several lines).
std::string describe(const ParityDivergence& d);

// certify --check: the certificate's input files hashed again.
struct CertificateCheck {
  bool applies = true;
  std::vector<std::string> changed;  // "data market/BTC.csv: sha256 ab12... now cd34..." or "...: gone"
  std::size_t checked = 0;
};
CertificateCheck check_certificate(const std::string& certificate_json_path);

}  // namespace onepath
