// The replay feed: history merged in time order and paced by the candles' own timestamps.
#include <fmt/core.h>

#include "data/fingerprint.hpp"
#include "core/error.hpp"
#include "core/state_archive.hpp"
#include "run/backtest.hpp"
#include "run/feed.hpp"

namespace onepath {
namespace {

class ReplayFeed final : public CandleFeed {
 public:
  ReplayFeed(std::vector<CandleSeries> market, Timeframe tf, double speed, std::optional<TimestampMs> start)
      : CandleFeed(tf), market_(std::move(market)), merge_(market_), speed_(speed), start_(start) {}

  std::string describe() const override { return speed_ > 0 ? fmt::format("replay x{:g}", speed_) : "replay at full speed"; }
  std::string fingerprint() const override { return market_fingerprint(market_); }

  std::vector<CandleSeries> history(std::size_t) override {
    std::vector<CandleSeries> h(market_.size());
    if (!start_) return h;
    for (std::size_t s = 0; s < market_.size(); ++s) {
      h[s].symbol = market_[s].symbol;
      for (std::size_t i = 0; i < market_[s].size() && market_[s].ts[i] < *start_; ++i) h[s].push_back(market_[s][i]);
    }
    merge_.skip_through(*start_ - 1);
    last_ts_ = *start_ - 1;
    return h;
  }

  Next next(TimeSlice& slice, SteadyTime& due) override {
    if (!merge_.next(slice)) return Next::ended;
    last_ts_ = slice.ts;
    const SteadyTime now = std::chrono::steady_clock::now();
    if (speed_ <= 0) {
      due = now;
      return Next::slice;
    }
    if (!paced_) {  // the first slice (or the first after a restart) is due at once
      paced_ = true;
      origin_ts_ = slice.ts;
      origin_ = now;
    }
    const double wall_ms = static_cast<double>(slice.ts - origin_ts_) / speed_;
    due = origin_ + std::chrono::microseconds(static_cast<std::int64_t>(wall_ms * 1000));
    return Next::slice;
  }

  std::string save() const override {
    StateWriter w;
    w(last_ts_);
    return w.bytes();
  }
  void load(std::string_view bytes) override {
    StateReader r(bytes);
    TimestampMs ts = 0;
    r(ts);
    merge_.skip_through(ts);
    last_ts_ = ts;
    paced_ = false;
  }

 private:
  std::vector<CandleSeries> market_;
  MarketMerge merge_;
  double speed_;
  std::optional<TimestampMs> start_;
  TimestampMs last_ts_ = std::numeric_limits<TimestampMs>::min();
  bool paced_ = false;
  TimestampMs origin_ts_ = 0;
  SteadyTime origin_;
};

}  // namespace

std::unique_ptr<CandleFeed> make_replay_feed(std::vector<CandleSeries> market, Timeframe tf, double speed,
                                             std::optional<TimestampMs> start) {
  return std::make_unique<ReplayFeed>(std::move(market), tf, speed, start);
}

std::unique_ptr<CandleFeed> make_replay_feed(const RunConfig& c) {
  Timeframe tf = c.timeframe.value_or(Timeframe::parse("15m"));
  std::vector<CandleSeries> market = load_market(c, tf);
  if (c.paper.start) {
    bool any = false;
    for (const auto& m : market) any = any || (!m.ts.empty() && m.ts.back() >= *c.paper.start);
    if (!any) throw InputError(c.path + ": [paper] start " + format_iso(*c.paper.start) + " is after the end of the data");
  }
  return make_replay_feed(std::move(market), tf, c.paper.speed, c.paper.start);
}

std::unique_ptr<CandleFeed> make_feed(const RunConfig& c) {
  if (c.paper.feed == "replay") return make_replay_feed(c);
  if (c.paper.feed == "generated") return make_generated_feed(c);
  return make_plugin_feed(c);
}

}  // namespace onepath
