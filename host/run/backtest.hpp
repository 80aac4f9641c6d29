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
};

// Reads RUN.toml; `overrides` are "key.path=value" (--set). Unknown keys and wrong types
// are InputErrors naming the key's path.
BacktestConfig load_backtest_config(const std::string& path, const std::vector<std::string>& overrides = {});

struct BacktestResult {
  std::vector<std::string> symbols;
  Timeframe timeframe = Timeframe::parse("15m");
  std::string feature_set_version;
  std::vector<std::string> feature_columns;
  std::size_t candles = 0, decisions = 0, placed = 0;
  std::vector<Trade> trades;
  std::vector<EquityPoint> equity;
  Metrics metrics;
  double seconds = 0;
};

using BacktestProgress = std::function<void(std::size_t done, std::size_t total)>;
// Throws InputError (bad data or config), ScriptError (the strategy failed).
BacktestResult run_backtest(const BacktestConfig& config, const BacktestProgress& progress = {});
// The same on candles already in memory (one series per configured symbol).
BacktestResult run_backtest_on(const BacktestConfig& config, const std::vector<CandleSeries>& market, Timeframe tf,
                               const BacktestProgress& progress = {});

// onepath bench backtest: the config's strategy over generated candles in memory.
struct BacktestBench {
  std::size_t candles = 0;
  double bars_per_second = 0, total_ns = 0, enrich_ns = 0, lua_ns = 0, kernel_ns = 0;
};
BacktestBench bench_backtest(const BacktestConfig& config, std::size_t candles);

// trades.csv, equity.csv and metrics.json in the output folder, each whole or not at all.
void write_backtest_outputs(const BacktestConfig& config, const BacktestResult& result);
std::string metrics_json(const BacktestConfig& config, const BacktestResult& result);

}  // namespace onepath
