#pragma once
// A headless backtest: the same per-candle step paper and live sessions will run.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/timeframe.hpp"
#include "data/synth.hpp"
#include "exec/kernel.hpp"
#include "exec/metrics.hpp"
#include "exec/risk.hpp"
#include "lua/runtime.hpp"
#include "lua/strategy.hpp"
#include "store/journal.hpp"

namespace onepath {

struct BacktestConfig {
  std::string path, text;  // the config file and its (overridden) text
  // data: files per symbol, or a generated market
  std::vector<std::string> symbols;
  std::optional<Timeframe> timeframe;
  std::map<std::string, std::string> files;
  std::optional<SynthOptions> generate;
  // strategy: a script, perhaps named by a signal config
  std::string strategy, signal;
  ScriptParams params;
  std::string scripts_root = "scripts";
  ScriptLimits limits;
  // filters, in order: native kinds with their bar / limit counts, or Lua scripts
  struct FilterSpec {
    std::string kind, script;
    int value = 0;
    ScriptParams params;
  };
  std::vector<FilterSpec> filters;
  ExecConfig execution;
  RiskLimits risk;
  std::string output_dir;  // empty: no files
  std::string journal = kDefaultJournal;  // [output] db: a SQLite file or postgresql://...; empty: none
  std::size_t equity_every = 1;           // [output] equity_every: journal every n-th equity mark
};

// Reads RUN.toml; `overrides` are "key.path=value" (--set). Unknown keys and wrong types
// are InputErrors naming the key's path.
BacktestConfig load_backtest_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from a config's text (a journal keeps it); relative paths resolve against `path`.
BacktestConfig load_backtest_config_text(const std::string& text, const std::string& path,
                                         const std::vector<std::string>& overrides = {});

struct BacktestResult {
  std::vector<std::string> symbols;
  Timeframe timeframe = Timeframe::parse("15m");
  std::string feature_set_version;
  std::vector<std::string> feature_columns;
  std::size_t candles = 0, decisions = 0, placed = 0;
  std::string data_fingerprint;  // SHA-256 of every candle of every symbol
  std::vector<DecisionRecord> decision_log;
  std::vector<Trade> trades;
  std::vector<EquityPoint> equity;
  Metrics metrics;
  double seconds = 0;
};

// SHA-256 over every candle of every symbol: the name, then each column's bytes.
std::string market_fingerprint(const std::vector<CandleSeries>& market);

using BacktestProgress = std::function<void(std::size_t done, std::size_t total)>;
// Throws InputError (bad data or config), ScriptError (the strategy failed).
BacktestResult run_backtest(const BacktestConfig& config, const BacktestProgress& progress = {});
// The configured market, checked (what run_backtest reads).
std::vector<CandleSeries> load_backtest_market(const BacktestConfig& config, Timeframe& tf);
// The same on candles already in memory (one series per configured symbol).
BacktestResult run_backtest_on(const BacktestConfig& config, const std::vector<CandleSeries>& market, Timeframe tf,
                               const BacktestProgress& progress = {});

// onepath bench backtest: the config's strategy over generated candles in memory.
struct BacktestBench {
  std::size_t candles = 0;
  double bars_per_second = 0, total_ns = 0, enrich_ns = 0, lua_ns = 0, kernel_ns = 0;
};
BacktestBench bench_backtest(const BacktestConfig& config, std::size_t candles);

// Runs a backtest recorded in the journal (when the config names one): the run shows as
// running at once, failed with its error if it fails, complete with its results together.
BacktestResult run_journaled_backtest(const BacktestConfig& config, const std::string& git_revision, std::int64_t* run_id,
                                      const BacktestProgress& progress = {});

// trades.csv, equity.csv and metrics.json in the output folder, each whole or not at all.
void write_backtest_outputs(const BacktestConfig& config, const BacktestResult& result);
std::string metrics_json(const BacktestConfig& config, const BacktestResult& result);

}  // namespace onepath
