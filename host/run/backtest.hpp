#pragma once
// A headless backtest: history merged in time order and fed to a Session, the same step a
// paper session runs; the results collected for the outputs, the metrics and the journal.
#include <functional>
#include <string>
#include <vector>

#include "core/timeframe.hpp"
#include "exec/metrics.hpp"
#include "run/decision_log.hpp"
#include "run/run_config.hpp"

namespace onepath {

class FeatureShare;

struct BacktestResult {
  std::vector<std::string> symbols;
  Timeframe timeframe = Timeframe::parse("15m");
  std::string feature_set_version;
  std::vector<std::string> feature_columns;
  std::size_t candles = 0, decisions = 0, placed = 0;
  std::string data_fingerprint;  // SHA-256 of every candle of every symbol (run_backtest)
  std::vector<std::string> script_files;  // every file the strategy's Lua state ran
  DecisionLog decision_log;
  std::vector<Trade> trades;
  std::vector<EquityPoint> equity;
  Metrics metrics;
  double seconds = 0;          // the run itself: enrichment, strategy, execution
  double load_seconds = 0;     // reading and checking the data
  double journal_seconds = 0;  // recording the run
  double files_seconds = 0;    // writing the output files
  std::string output_dir;      // where the files went ("" when none were asked for)
};


using BacktestProgress = std::function<void(std::size_t done, std::size_t total)>;
// Throws InputError (bad data or config), ScriptError (the strategy failed).
BacktestResult run_backtest(const RunConfig& config, const BacktestProgress& progress = {});
// The configured market, checked (what run_backtest reads), and its timeframe.
std::vector<CandleSeries> load_market(const RunConfig& config, Timeframe& tf);
// Feature sets may name models by registry name: they are looked up in this journal.
void use_model_registry(const std::string& journal_address);
// The same on candles already in memory (one series per configured symbol). With `share`,
// each symbol's feature rows are replayed when an earlier run over the same candles with the
// same feature set recorded them, else recorded for the next (a sweep's cells).
BacktestResult run_backtest_on(const SessionConfig& config, const std::vector<CandleSeries>& market, Timeframe tf,
                               const BacktestProgress& progress = {}, FeatureShare* share = nullptr);

// onepath bench backtest: the config's strategy over generated candles in memory.
struct BacktestBench {
  std::size_t candles = 0;
  double bars_per_second = 0, total_ns = 0, enrich_ns = 0, lua_ns = 0, kernel_ns = 0;
  double cold_ns = 0;  // the first run, apart: its pages are touched for the first time
};
BacktestBench bench_backtest(const RunConfig& config, std::size_t candles, int runs = 3);

// Runs a backtest, writes its output files, and records it in the journal when the config
// names one: the run shows as running at once, failed with its error if it fails,
// complete with its results together.
BacktestResult run_recorded_backtest(const RunConfig& config, const std::string& git_revision, std::int64_t* run_id,
                                     const BacktestProgress& progress = {});

// "SHA-256  path" lines for the config, its scripts, plugins and data files, and `more`.
std::string files_digest(const RunConfig& config, const std::vector<std::string>& more = {});
// A run of this config as the journal first records it: its kind, the config (absolute path,
// text, SHA-256), the revision and the symbols.
RunInfo run_info(const RunConfig& config, std::string kind, std::string git_revision);

// trades.csv, equity.csv, metrics.json and outputs.json (the manifest, last) in `dir`: the
// whole set, or, when any of them cannot be written (a full disk), none of it.
void write_backtest_outputs(const RunConfig& config, const BacktestResult& result, const std::string& dir);
// Removes that set (and `dir`, when nothing else is in it).
void remove_backtest_outputs(const std::string& dir);
// [output] dir with "{run}" replaced by the run's id in the journal, or, with no journal, by
// the UTC time to the millisecond (20261202T113005.123Z): each run its own folder.
std::string resolve_output_dir(const std::string& dir, std::int64_t run_id);
std::string metrics_json(const RunConfig& config, const BacktestResult& result);

}  // namespace onepath
