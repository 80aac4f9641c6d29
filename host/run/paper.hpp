#pragma once
// A paper session: the Session fed by a candle feed from an event loop (Boost.Asio, one
// thread), so timers, signals, HTTP and the step never run at the same time and the step
// is always whole. Crash-only: snapshots every N time slices and on shutdown, written
// atomically after the journal has committed what they have seen; a restart resumes from
// the last one, drops journal rows past it, catches up and ends with the ledger a session
// that never stopped would have.
#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "run/feed.hpp"
#include "run/run_config.hpp"

namespace onepath {

struct PaperOptions {
  std::string git_revision = "unknown";
  bool progress = false;                          // a status line on stderr
  bool fresh = false;                             // start afresh even when a snapshot exists
  std::vector<double>* latencies_ns = nullptr;    // per candle: arrival -> orders out (bench)
  std::function<void(int port)> on_listening;     // once HTTP listens (tests)
  // Tests and benchmarks: asked after every time slice with the candles so far; true
  // reloads the strategy then (as POST /control/reload does).
  std::function<bool(std::size_t candles)> reload_after;
  // Tests and benchmarks: told the outcome of every reload (its JSON, as journaled).
  std::function<void(const std::string& result_json)> on_reload;
  // How often the registry is asked which model versions are in production (a promotion or
  // rollback is picked up at the first candle after); 0: after every time slice (tests).
  std::chrono::milliseconds model_poll{1000};
};

struct PaperOutcome {
  bool complete = false;  // the feed ended (a replay's files); else stopped by a signal or /control/stop
  bool resumed = false;
  std::int64_t run_id = 0;  // 0: no journal
  std::size_t candles = 0, decisions = 0, placed = 0, trades = 0;
  double equity = 0, seconds = 0;
  std::string snapshot;  // where the last snapshot is (empty once complete)
  std::size_t reloads = 0, reloads_rejected = 0;
  std::uint64_t shadow_checks = 0, shadow_rows = 0, shadow_divergences = 0;  // [paper] shadow_every, this process
};

// Runs until the feed ends or SIGINT / SIGTERM / POST /control/stop. Throws InputError
// (config, data, a snapshot of another config) or ScriptError / std::exception (the work).
PaperOutcome run_paper(const RunConfig& config, const PaperOptions& options);
PaperOutcome run_paper(const RunConfig& config, std::unique_ptr<CandleFeed> feed, const PaperOptions& options);

// onepath bench paper: per-candle latency over generated candles replayed at full speed
// through the whole paper path (feed, event loop, Session), no journal, no HTTP.
struct PaperBench {
  std::size_t candles = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0;
};
PaperBench bench_paper(const RunConfig& config, std::size_t candles);

// onepath bench reload: from a change of the strategy file on disk to the swap (inotify,
// the settle time, the dry run in a child, the swap), over `reloads` reloads of a copy of
// the config's strategy while a paper session replays generated candles.
struct ReloadBench {
  std::size_t reloads = 0, dry_run_candles = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0, validate_p50_ms = 0;
};
ReloadBench bench_reload(const RunConfig& config, std::size_t reloads);

}  // namespace onepath
