#include "exec/filter.hpp"

#include <utility>

#include "core/error.hpp"
#include "core/state_archive.hpp"

namespace onepath {
namespace {

constexpr std::int64_t kNever = -1'000'000'000'000LL;

// The per-symbol "last bar something happened" filters share this shape.
class LastBarFilter : public Filter {
 public:
  LastBarFilter(const char* filter, int bars, std::size_t symbols) : bars_(bars), last_(symbols, kNever) {
    if (bars < 0) throw InputError(std::string(filter) + " filter: 'bars' must be 0 or more");
  }
  std::string save() const override {
    StateWriter w;
    w(last_);
    return w.bytes();
  }
  void load(std::string_view bytes) override {
    StateReader r(bytes);
    std::vector<std::int64_t> last;
    r(last);
    if (last.size() != last_.size() || !r.at_end()) throw InputError(std::string(name()) + " filter: saved state does not fit");
    last_ = std::move(last);
  }

 protected:
  int bars_;
  std::vector<std::int64_t> last_;
};

class Cooldown final : public LastBarFilter {
 public:
  Cooldown(int bars, std::size_t symbols) : LastBarFilter("cooldown", bars, symbols) {}
  std::string_view name() const override { return "cooldown"; }
  std::string apply(Intent&, const FilterContext& ctx) override {
    if (ctx.bar <= last_[ctx.symbol] + bars_)
      return "cooldown: last exit " + std::to_string(ctx.bar - last_[ctx.symbol]) + " bars ago (needs more than " +
             std::to_string(bars_) + ")";
    return {};
  }
  void on_exit(int symbol, std::int64_t bar) override { last_[symbol] = bar; }
};

class MinBarsBetweenEntries final : public LastBarFilter {
 public:
  MinBarsBetweenEntries(int bars, std::size_t symbols) : LastBarFilter("min_bars_between_entries", bars, symbols) {}
  std::string_view name() const override { return "min_bars_between_entries"; }
  std::string apply(Intent&, const FilterContext& ctx) override {
    if (ctx.bar - last_[ctx.symbol] < bars_)
      return "min_bars_between_entries: last entry " + std::to_string(ctx.bar - last_[ctx.symbol]) + " bars ago (needs " +
             std::to_string(bars_) + ")";
    return {};
  }
  void on_entry(int symbol, std::int64_t bar) override { last_[symbol] = bar; }
};

class MaxConcurrent final : public Filter {
 public:
  explicit MaxConcurrent(int limit) : limit_(limit) {
    if (limit < 1) throw InputError("max_concurrent filter: 'limit' must be at least 1");
  }
  std::string_view name() const override { return "max_concurrent"; }
  std::string apply(Intent&, const FilterContext& ctx) override {
    if (!ctx.has_position && ctx.open_positions >= limit_)
      return "max_concurrent: " + std::to_string(ctx.open_positions) + " positions open (limit " + std::to_string(limit_) + ")";
    return {};
  }
  std::string save() const override { return {}; }  // stateless: the context carries the count
  void load(std::string_view bytes) override {
    if (!bytes.empty()) throw InputError("max_concurrent filter: saved state does not fit");
  }

 private:
  int limit_;
};

}  // namespace

std::unique_ptr<Filter> make_cooldown_filter(int bars, std::size_t symbols) { return std::make_unique<Cooldown>(bars, symbols); }
std::unique_ptr<Filter> make_max_concurrent_filter(int limit) { return std::make_unique<MaxConcurrent>(limit); }
std::unique_ptr<Filter> make_min_bars_between_entries_filter(int bars, std::size_t symbols) {
  return std::make_unique<MinBarsBetweenEntries>(bars, symbols);
}

namespace {

struct Registered {
  FilterKind kind;
  FilterFactory make;
};

std::vector<Registered>& registered() {
  static std::vector<Registered> list = {
      {{"cooldown", "built-in", "bars"}, [](const FilterArgs& a) { return make_cooldown_filter(a.count, a.symbols.size()); }},
      {{"max_concurrent", "built-in", "limit"}, [](const FilterArgs& a) { return make_max_concurrent_filter(a.count); }},
      {{"min_bars_between_entries", "built-in", "bars"},
       [](const FilterArgs& a) { return make_min_bars_between_entries_filter(a.count, a.symbols.size()); }},
  };
  return list;
}

}  // namespace

std::vector<FilterKind> filter_kinds() {
  std::vector<FilterKind> v;
  for (const auto& r : registered()) v.push_back(r.kind);
  return v;
}

const FilterKind* find_filter_kind(const std::string& name) {
  for (const auto& r : registered())
    if (r.kind.name == name) return &r.kind;
  return nullptr;
}

std::unique_ptr<Filter> make_filter(const std::string& kind, const FilterArgs& args) {
  for (const auto& r : registered())
    if (r.kind.name == kind) return r.make(args);
  std::string known;
  for (const auto& r : registered()) known += (known.empty() ? "" : ", ") + r.kind.name;
  throw InputError("no filter kind '" + kind + "' (known: " + known + "; a Lua filter is given as script = ...)");
}

FilterFactory replace_filter_kind(const std::string& name, FilterFactory make) {
  for (auto& r : registered())
    if (r.kind.name == name && r.kind.origin != "built-in") return std::exchange(r.make, std::move(make));
  throw InputError("filter kind '" + name + "' is not a plugin's");
}

void add_filter_kind(FilterKind kind, FilterFactory make) {
  if (const FilterKind* k = find_filter_kind(kind.name))
    throw InputError("filter kind '" + kind.name + "' of " + kind.origin + " is already defined (" + k->origin + ")");
  registered().push_back({std::move(kind), std::move(make)});
}

ChainVerdict FilterChain::apply(Intent& intent, const FilterContext& ctx) {
  if (intent.action == IntentAction::close) return {};
  for (auto& f : filters_) {
    std::string why = f->apply(intent, ctx);
    if (!why.empty()) return {false, std::string(f->name()), std::move(why)};
  }
  return {};
}

void FilterChain::on_entry(int symbol, std::int64_t bar) {
  for (auto& f : filters_) f->on_entry(symbol, bar);
}

void FilterChain::on_exit(int symbol, std::int64_t bar) {
  for (auto& f : filters_) f->on_exit(symbol, bar);
}

std::string FilterChain::save() const {
  StateWriter w;
  std::vector<std::string> states;
  for (const auto& f : filters_) states.push_back(f->save());
  w(states);
  return w.bytes();
}

void FilterChain::load(std::string_view bytes) {
  StateReader r(bytes);
  std::vector<std::string> states;
  r(states);
  if (states.size() != filters_.size() || !r.at_end()) throw InputError("filter chain: saved state has another set of filters");
  std::string before = save();
  try {
    for (std::size_t i = 0; i < filters_.size(); ++i) filters_[i]->load(states[i]);
  } catch (...) {
    load(before);  // all filters or none
    throw;
  }
}

}  // namespace onepath
