// A native plugin's feed behind the CandleFeed interface: each slice is due when the plugin
// hands it over (a live source paces itself).
#include <fmt/core.h>

#include "core/error.hpp"
#include "plugin/adapters.hpp"
#include "plugin/loader.hpp"
#include "run/feed.hpp"

namespace onepath {
namespace {

constexpr std::size_t kErrSize = 512;

class PluginFeed final : public CandleFeed {
 public:
  PluginFeed(const onepath_feed_kind* kind, void* instance, std::size_t symbols, Timeframe tf, std::string file)
      : CandleFeed(tf), k_(kind), p_(instance), candles_(symbols), present_(symbols), file_(std::move(file)) {}
  ~PluginFeed() override { k_->destroy(p_); }

  std::string describe() const override { return fmt::format("{} (plugin {})", k_->name, file_); }
  std::vector<CandleSeries> history(std::size_t) override { return std::vector<CandleSeries>(candles_.size()); }

  Next next(TimeSlice& slice, SteadyTime& due) override {
    std::int64_t ts = 0;
    std::fill(present_.begin(), present_.end(), 0);
    char err[kErrSize] = "";
    const onepath_status st = k_->next(p_, &ts, candles_.data(), present_.data(), err, sizeof err);
    if (st == ONEPATH_PENDING) return Next::pending;
    if (st == ONEPATH_END) return Next::ended;
    if (st != ONEPATH_OK) throw std::runtime_error(std::string(k_->name) + " feed (" + file_ + "): " + err);
    slice.ts = ts;
    slice.candles.clear();
    for (std::size_t s = 0; s < candles_.size(); ++s) {
      if (!present_[s]) continue;
      const onepath_candle& c = candles_[s];
      if (c.ts != ts) throw std::runtime_error(std::string(k_->name) + " feed: a candle at " + std::to_string(c.ts) + " in the slice of " + std::to_string(ts));
      slice.candles.emplace_back(static_cast<int>(s), Candle{c.ts, c.open, c.high, c.low, c.close, c.volume});
    }
    due = std::chrono::steady_clock::now();
    return slice.candles.empty() ? Next::pending : Next::slice;
  }

  std::string save() const override {
    StringBuffer b;
    if (k_->save(p_, &b.c) != ONEPATH_OK) throw std::runtime_error(std::string(k_->name) + " feed: saving its position failed");
    return b.bytes;
  }
  void load(std::string_view bytes) override {
    char err[kErrSize] = "";
    if (k_->load(p_, bytes.data(), bytes.size(), err, sizeof err) != ONEPATH_OK)
      throw InputError(std::string(k_->name) + " feed (" + file_ + "): " + err);
  }

 private:
  const onepath_feed_kind* k_;
  void* p_;
  std::vector<onepath_candle> candles_;
  std::vector<std::uint8_t> present_;
  std::string file_;
};

}  // namespace

std::unique_ptr<CandleFeed> make_plugin_feed(const RunConfig& c) {
  std::string file;
  const onepath_feed_kind* kind = find_feed_kind(c.paper.feed, &file);
  if (!kind) throw InputError(c.path + ": no feed '" + c.paper.feed + "'");
  const Timeframe tf = c.timeframe.value_or(Timeframe::parse("15m"));
  CParams params(c.paper.feed_params);
  std::vector<const char*> symbols;
  for (const auto& s : c.session.symbols) symbols.push_back(s.c_str());
  void* instance = nullptr;
  char err[kErrSize] = "";
  if (kind->create(static_cast<const onepath_params*>(params.get()), symbols.data(), symbols.size(), tf.duration_ms(), &instance, err,
                   sizeof err) != ONEPATH_OK)
    throw InputError(c.path + ": feed '" + c.paper.feed + "' (" + file + "): " + err);
  return std::make_unique<PluginFeed>(kind, instance, symbols.size(), tf, file);
}

}  // namespace onepath
