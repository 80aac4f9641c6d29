// The generated feed: an endless synthetic market. The seeded generator makes it in blocks;
// block k starts where block k-1 closed, with its own seed, so any block can be made again
// from (k, its start prices) and a restarted session continues the same market. A candle
// is due when it closes on the feed's clock: the wall clock, x speed.
#include <algorithm>
#include <chrono>

#include <fmt/core.h>

#include "core/error.hpp"
#include "core/state_archive.hpp"
#include "run/feed.hpp"

namespace onepath {
namespace {

constexpr std::size_t kBlockBars = 4096;

TimestampMs wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class GeneratedFeed final : public CandleFeed {
 public:
  GeneratedFeed(SynthOptions options, double speed, std::size_t min_history)
      : CandleFeed(options.timeframe), options_(std::move(options)), speed_(speed), min_history_(min_history) {
    live_from_ = timeframe_.floor(wall_ms());  // the candle forming now is the first live one
    origin_ = live_from_;
    for (const auto& s : options_.symbols) start_prices_.push_back(s.start_price);
    anchor_clock(live_from_);
  }

  std::string describe() const override {
    return "generated " + std::string(timeframe_.name()) + " market" + (speed_ > 0 ? fmt::format(" x{:g}", speed_) : " at full speed");
  }

  std::vector<CandleSeries> history(std::size_t bars) override {
    const std::size_t with_gaps = bars + bars / 8 + 64;  // the generator leaves gaps: room for them
    origin_ = live_from_ - static_cast<TimestampMs>(std::max(with_gaps, min_history_)) * timeframe_.duration_ms();
    made_ = ~std::uint64_t{0};
    std::vector<CandleSeries> h(options_.symbols.size());
    for (std::size_t s = 0; s < h.size(); ++s) h[s].symbol = options_.symbols[s].name;
    TimeSlice slice;
    while (peek(slice) && slice.ts < live_from_) {
      for (const auto& [s, c] : slice.candles) h[static_cast<std::size_t>(s)].push_back(c);
      advance();
    }
    return h;
  }

  Next next(TimeSlice& slice, SteadyTime& due) override {
    peek(slice);  // endless
    advance();
    last_ts_ = slice.ts;
    if (speed_ <= 0) {
      due = std::chrono::steady_clock::now();
    } else {
      const double wall = static_cast<double>(slice.ts + timeframe_.duration_ms() - clock_ts_) / speed_;
      due = clock_origin_ + std::chrono::microseconds(static_cast<std::int64_t>(wall * 1000));
    }
    return Next::slice;
  }

  std::string save() const override {
    StateWriter w;
    w.all(origin_, live_from_, block_, row_, last_ts_, start_prices_);
    return w.bytes();
  }
  void load(std::string_view bytes) override {
    StateReader r(bytes);
    r.all(origin_, live_from_, block_, row_, last_ts_, start_prices_);
    if (start_prices_.size() != options_.symbols.size()) throw InputError("generated feed state is for another set of symbols");
    made_ = ~std::uint64_t{0};
    // Real time catches up on what it missed; a faster clock goes on from the last candle.
    anchor_clock(speed_ == 1 ? wall_ms() : last_ts_ + timeframe_.duration_ms());
  }

 private:
  void anchor_clock(TimestampMs feed_now) {
    clock_ts_ = feed_now;
    clock_origin_ = std::chrono::steady_clock::now();
  }
  // The block holding the current row, made when first needed.
  const std::vector<CandleSeries>& block() {
    if (made_ != block_) {
      SynthOptions o = options_;
      o.bars = kBlockBars;
      o.seed = options_.seed + 7919 * block_;
      o.start_ms = origin_ + static_cast<TimestampMs>(block_ * kBlockBars) * timeframe_.duration_ms();
      for (std::size_t s = 0; s < o.symbols.size(); ++s) o.symbols[s].start_price = start_prices_[s];
      market_ = generate_market(o);
      made_ = block_;
    }
    return market_;
  }
  // The slice at the current row (symbols a gap left out are absent).
  bool peek(TimeSlice& slice) {
    for (;;) {
      const auto& m = block();
      const TimestampMs ts = origin_ + static_cast<TimestampMs>(block_ * kBlockBars + row_) * timeframe_.duration_ms();
      slice.ts = ts;
      slice.candles.clear();
      for (std::size_t s = 0; s < m.size(); ++s) {
        const CandleSeries& series = m[s];
        // rows only ever go missing, so the candle of row r sits at an index <= r
        const auto end = series.ts.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(row_ + 1, series.size()));
        const auto it = std::lower_bound(series.ts.begin(), end, ts);
        if (it != end && *it == ts) slice.candles.emplace_back(static_cast<int>(s), series[static_cast<std::size_t>(it - series.ts.begin())]);
      }
      if (!slice.candles.empty()) return true;
      advance();  // every symbol has a gap here: nothing closes at this time
    }
  }
  void advance() {
    if (++row_ < kBlockBars) return;
    const auto& m = block();
    for (std::size_t s = 0; s < m.size(); ++s)
      if (!m[s].close.empty()) start_prices_[s] = m[s].close.back();
    ++block_;
    row_ = 0;
  }

  SynthOptions options_;
  double speed_;
  std::size_t min_history_;
  TimestampMs origin_ = 0, live_from_ = 0, last_ts_ = 0;
  std::uint64_t block_ = 0, row_ = 0;
  std::vector<double> start_prices_;  // of the current block
  std::vector<CandleSeries> market_;
  std::uint64_t made_ = ~std::uint64_t{0};
  TimestampMs clock_ts_ = 0;
  SteadyTime clock_origin_;
};

}  // namespace

std::unique_ptr<CandleFeed> make_generated_feed(const RunConfig& c) {
  SynthOptions o = c.generate.value_or(SynthOptions{});
  if (!c.generate) {
    o.timeframe = c.timeframe.value_or(Timeframe::parse("15m"));
    for (const auto& s : c.session.symbols) o.symbols.push_back(preset_symbol(s, 0.8));
  }
  return std::make_unique<GeneratedFeed>(o, c.paper.speed, c.paper.history_bars);
}

}  // namespace onepath
