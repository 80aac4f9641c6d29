#pragma once
// Where a paper (later: live) session's candles come from: one time slice at a time, each
// with the moment it is due. The session's driver waits until then and feeds the Session;
// feed plugins will implement this same interface.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "run/market_merge.hpp"
#include "run/run_config.hpp"

namespace onepath {

using SteadyTime = std::chrono::steady_clock::time_point;

class CandleFeed {
 public:
  virtual ~CandleFeed() = default;
  virtual std::string describe() const = 0;
  Timeframe timeframe() const { return timeframe_; }
  // Each symbol's candles before the first live one, to warm its features (may be empty):
  // `bars` is what the features need. Called once, before the first next() of a fresh session.
  virtual std::vector<CandleSeries> history(std::size_t bars) = 0;
  // The next slice and when it is due (the past: at once); `pending`: none yet (ask again
  // later, a live source); `ended`: the feed is over (a replay's files).
  enum class Next : std::uint8_t { slice, pending, ended };
  virtual Next next(TimeSlice& slice, SteadyTime& due) = 0;
  // The SHA-256 of every candle it replays (market_fingerprint), when it knows them all in
  // advance (a replay: `runs verify` can run them again); "" for a live or endless source.
  virtual std::string fingerprint() const { return ""; }
  // Where it stands, for snapshots: load() continues right after the last slice handed over.
  virtual std::string save() const = 0;
  virtual void load(std::string_view bytes) = 0;

 protected:
  explicit CandleFeed(Timeframe tf) : timeframe_(tf) {}
  Timeframe timeframe_;
};

// [paper] feed = "replay": the configured [data] (files or generated), at `speed`; the
// candles before [paper] start (if given) are history.
std::unique_ptr<CandleFeed> make_replay_feed(const RunConfig& config);
// The same over candles in memory (benchmarks, tests).
std::unique_ptr<CandleFeed> make_replay_feed(std::vector<CandleSeries> market, Timeframe tf, double speed,
                                             std::optional<TimestampMs> start = std::nullopt);
// [paper] feed = "generated": an endless synthetic market continuing the seeded generator,
// its candles closing on the wall clock (x speed). Its past warms up: the bars the features
// need, or [paper] history_bars when that is more.
std::unique_ptr<CandleFeed> make_generated_feed(const RunConfig& config);
// A native plugin's feed kind ([paper] feed = its name, [paper.feed_params]).
std::unique_ptr<CandleFeed> make_plugin_feed(const RunConfig& config);
// The feed the config names ([paper] feed).
std::unique_ptr<CandleFeed> make_feed(const RunConfig& config);

}  // namespace onepath
