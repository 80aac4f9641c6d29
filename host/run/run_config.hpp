#pragma once
// RUN.toml: one file for a backtest and a paper session of the same strategy. The
// session's part (strategy, filters, execution, risk) is shared; [data] is the history a
// backtest replays (and a paper session warms up from or replays); [paper] adds what only
// a paper session needs.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/timeframe.hpp"
#include "data/synth.hpp"
#include "infer/promotion.hpp"
#include "infer/train.hpp"
#include "run/alerts.hpp"
#include "run/session_config.hpp"
#include "store/journal.hpp"

namespace onepath {

struct PaperConfig {
  std::string feed = "replay";       // "replay", "generated", or a plugin's feed kind
  ScriptParams feed_params;          // [paper.feed_params]: a plugin feed's parameters
  double speed = 1;                  // x real time; 0: as fast as possible ("max")
  std::optional<TimestampMs> start;  // replay: candles before it only warm the features up
  std::string dir;                   // snapshots; default runs/<config name>/paper
  std::size_t snapshot_every = 1000;  // candles (time slices) between snapshots
  std::string pause_file;            // while it exists, no new entries
  std::string host = "127.0.0.1";
  int port = 0;                      // 0: pick a free one and log it; -1: no HTTP
  std::string token_env = "ONEPATH_TOKEN";  // required off loopback
  std::size_t history_bars = 0;      // generated feed: bars of its past to warm up from; 0: the warm-up the features need
  bool reload = true;                // hot reload the strategy when its files change
  std::size_t reload_candles = 500;  // per symbol: a candidate's dry run, and new features' warm-up
  bool reload_partial_warmup = false;  // new features may warm up on fewer candles than they need
  // A strategy's runtime error: its decision is skipped, then entries paused, or nothing
  // more, or the session snapshotted and stopped. Within `reload_probation` time slices of
  // a hot reload the previous version comes back first (0: never).
  enum class OnError : std::uint8_t { pause, skip, stop };
  OnError on_error = OnError::pause;
  std::size_t reload_probation = 1000;
  // Parity while running: every `shadow_every` candles of a symbol, its last `shadow_window`
  // are enriched again in batch and compared bit for bit with the rows streamed (0: off).
  std::size_t shadow_every = 2000, shadow_window = 20;  // about 1% of the step (docs/paper.md)
  std::size_t drift_window = 2000;  // rows of each model input the drift alerts compare with training
};

struct RunConfig {
  std::string path, text;  // the config file and its (overridden) text
  SessionConfig session;
  // [data]: files per symbol, or a generated market
  std::optional<Timeframe> timeframe;
  std::map<std::string, std::vector<std::string>> files;  // per symbol, globs expanded, in order
  std::optional<TimestampMs> start, end;  // [data] start / end: candles in [start, end) only
  std::optional<SynthOptions> generate;
  // [output]
  bool report = false;                    // [output] report: report.html beside the files
  std::string output_dir;                 // "{run}" is the run's id (resolve_output_dir); empty: no files
  std::string journal = kDefaultJournal;  // a SQLite file or postgresql://...; empty: none
  std::string registry = kDefaultJournal; // where models named by registry name are found (the journal, also with --no-journal)
  std::size_t equity_every = 1;           // journal every n-th equity mark
  PaperConfig paper;
  TrainConfig train;  // [train]: what `onepath train` makes of [data]
  PromotionGates promotion;  // [promotion]: what `onepath models promote` checks first
  std::vector<AlertRule> alerts;  // [[alerts]]: where a paper session's events go
};

// Reads RUN.toml; `overrides` are "key.path=value" (--set). Unknown keys and wrong types
// are InputErrors naming the key's path.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides = {});
// Every key the reader knows, as dotted paths ("data.generate.bars"; "strategy.params.*"
// for a table of any keys): docs/config.md is tested against this list.
std::vector<std::string> run_config_keys();

// A config's text with overrides applied and any [sweep] table removed, as TOML (comments
// and layout are not kept): a sweep's chosen cell as a RUN.toml of its own.
std::string run_config_with(const std::string& text, const std::string& path, const std::vector<std::string>& overrides);

// The same from a config's text (a journal keeps it); relative paths resolve against `path`.
RunConfig load_run_config_text(const std::string& text, const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace onepath
