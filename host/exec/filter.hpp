#pragma once
// The filter chain: an ordered list of stateful filters between a strategy's intents and
// the risk manager. A filter may pass an intent (perhaps changed) or drop it with a
// reason. Exits always pass: filters gate entries. Native filters live here; Lua filters
// join the same chain through this interface.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/params.hpp"
#include "exec/order.hpp"

namespace onepath {

struct FilterContext {
  int symbol = 0;
  std::int64_t bar = 0;  // the symbol's bar count
  TimestampMs ts = 0;
  int open_positions = 0;  // symbols with open lots or a pending entry
  bool has_position = false;
  double close = 0;  // the bar's close
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  // Returns an empty string to pass (the intent may be changed), else why it drops it.
  virtual std::string apply(Intent& intent, const FilterContext& ctx) = 0;
  // An entry of this symbol was placed at this bar (it passed every filter and risk).
  virtual void on_entry(int /*symbol*/, std::int64_t /*bar*/) {}
  // A trade of this symbol closed at this bar.
  virtual void on_exit(int /*symbol*/, std::int64_t /*bar*/) {}
  // Filters that watch the market (a volatility regime) see every candle; the others are
  // not called per candle at all.
  virtual bool wants_bars() const { return false; }
  virtual void on_bar(int /*symbol*/, const Candle& /*candle*/) {}
  virtual std::string save() const = 0;
  virtual void load(std::string_view bytes) = 0;
};

// The built-in kinds:
// No entry on a symbol while bar <= its last exit bar + bars.
std::unique_ptr<Filter> make_cooldown_filter(int bars, std::size_t symbols);
// No entry that would make more than `limit` symbols hold a position.
std::unique_ptr<Filter> make_max_concurrent_filter(int limit);
// No entry on a symbol fewer than `bars` bars after its last entry.
std::unique_ptr<Filter> make_min_bars_between_entries_filter(int bars, std::size_t symbols);

// Filter kinds by name: the built-in ones (their one number is `count`: the bars or the
// limit), and those native plugins add (they read `params`).
struct FilterArgs {
  int count = 0;
  ScriptParams params;
  std::vector<std::string> symbols;
};
using FilterFactory = std::function<std::unique_ptr<Filter>(const FilterArgs&)>;
struct FilterKind {
  std::string name, origin;  // origin: "built-in" or the plugin file
  std::string count_key;     // built-in kinds: the config key of their number ("bars", "limit")
};
std::vector<FilterKind> filter_kinds();
const FilterKind* find_filter_kind(const std::string& name);
// InputError naming the known kinds for an unknown one.
std::unique_ptr<Filter> make_filter(const std::string& kind, const FilterArgs& args);
// InputError when the name is taken.
void add_filter_kind(FilterKind kind, FilterFactory make);
// Hot reload of a plugin: the kind's name now builds with `make`; returns the factory it had.
FilterFactory replace_filter_kind(const std::string& name, FilterFactory make);

struct ChainVerdict {
  bool passed = true;
  std::string filter, reason;  // who dropped it and why
};

class FilterChain {
 public:
  void add(std::unique_ptr<Filter> f) {
    if (f->wants_bars()) watching_.push_back(f.get());
    filters_.push_back(std::move(f));
  }
  ChainVerdict apply(Intent& intent, const FilterContext& ctx);
  void on_entry(int symbol, std::int64_t bar);  // an entry was placed (it passed filters and risk)
  void on_exit(int symbol, std::int64_t bar);
  void on_bar(int symbol, const Candle& candle) {
    for (Filter* f : watching_) f->on_bar(symbol, candle);
  }
  std::string save() const;
  void load(std::string_view bytes);
  std::size_t size() const { return filters_.size(); }

 private:
  std::vector<std::unique_ptr<Filter>> filters_;
  std::vector<Filter*> watching_;  // those that want every candle
};

}  // namespace onepath
