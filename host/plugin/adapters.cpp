#include "plugin/adapters.hpp"

#include <cmath>
#include <cstddef>
#include <cstring>

#include "core/number_format.hpp"
#include "core/state_archive.hpp"
#include "core/time.hpp"
#include "plugin/loader.hpp"

namespace onepath {
namespace {

constexpr std::uint32_t kStateFormat = 1;
constexpr std::size_t kErrSize = 512;

// The host's Candle and the ABI's onepath_candle have one layout, so a candle crosses the
// boundary as a pointer, not a copy.
static_assert(sizeof(Candle) == sizeof(onepath_candle) && offsetof(Candle, ts) == offsetof(onepath_candle, ts) &&
              offsetof(Candle, open) == offsetof(onepath_candle, open) && offsetof(Candle, close) == offsetof(onepath_candle, close) &&
              offsetof(Candle, volume) == offsetof(onepath_candle, volume));
const onepath_candle* as_c(const Candle& c) { return reinterpret_cast<const onepath_candle*>(&c); }

onepath_status append_to_string(void* ctx, const void* bytes, std::size_t size) {
  try {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(bytes), size);
    return ONEPATH_OK;
  } catch (...) {
    return ONEPATH_ERROR;
  }
}

// A plugin's message without the kind's name it may already start with: the host names the
// kind itself (no "ewvol: ewvol: ...").
std::string message_of(const char* kind, const char* err, const char* otherwise) {
  std::string_view m = err && *err ? err : otherwise;
  const std::string_view k = kind;
  if (m.starts_with(k) && m.substr(k.size()).starts_with(": ")) m.remove_prefix(k.size() + 2);
  return std::string(m);
}

// Indicator parameters as the C ABI gives them, and back as text for params_text().
ScriptParams script_params(const IndicatorConfig& c) {
  ScriptParams p;
  for (const auto& [k, v] : c.params) std::visit([&](const auto& x) { p[k] = x; }, v);
  return p;
}

std::string params_text(const IndicatorConfig& c) {
  std::string s;
  for (const auto& [k, v] : c.params) {
    s += (s.empty() ? "" : ",") + k + "=";
    std::visit([&](const auto& x) {
      if constexpr (std::is_same_v<std::decay_t<decltype(x)>, double>) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", x);
        s += buf;
      } else {
        s += x;
      }
    }, v);
  }
  return s;
}

bool declares_tolerance(const onepath_indicator_kind& k) {
  return k.struct_size >= offsetof(onepath_indicator_kind, tolerance_why) + sizeof(k.tolerance_why) && k.tolerance > 0;
}

class PluginIndicator final : public Indicator {
 public:
  PluginIndicator(const onepath_indicator_kind* kind, void* instance, std::string params, std::string file)
      : k_(kind), p_(instance), update_(kind->update), emit_(kind->emit), params_(std::move(params)), file_(std::move(file)) {
    for (std::uint32_t i = 0; i < k_->output_count; ++i) outputs_.emplace_back(k_->outputs[i]);
  }
  ~PluginIndicator() override { k_->destroy(p_); }

  std::string_view kind() const override { return k_->name; }
  std::string params_text() const override { return params_; }
  std::span<const std::string_view> outputs() const override { return outputs_; }
  int series_inputs() const override { return 0; }
  void update(const Candle& c) override {
    if (const onepath_status st = update_(p_, as_c(c)); st != ONEPATH_OK) [[unlikely]]
      failed(st, c);
  }
  void update_values(const double*) override {
    throw InputError(std::string(k_->name) + " (a plugin kind) reads whole candles; it cannot take another feature as input");
  }
  void emit(double* out) const override { emit_(p_, out); }
  void update_many(const CandleSeries& s, std::size_t begin, std::size_t end, double* const* columns) override {
    const std::size_t n = outputs_.size();
    double row[4];
    for (std::size_t i = begin; i < end; ++i) {
      const onepath_candle x{s.ts[i], s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]};
      if (const onepath_status st = update_(p_, &x); st != ONEPATH_OK) [[unlikely]]
        failed(st, s[i]);
      emit_(p_, row);
      for (std::size_t k = 0; k < n; ++k) columns[k][i] = row[k];
    }
  }
  int warmup() const override { return k_->warmup(p_); }
  int settle_bars() const override { return k_->settle_bars ? k_->settle_bars(p_) : k_->warmup(p_) + 1; }
  double tolerance() const override { return declares_tolerance(*k_) ? k_->tolerance : 0; }
  std::string tolerance_why() const override { return declares_tolerance(*k_) ? k_->tolerance_why : ""; }
  bool ready() const override {
    double row[4];
    k_->emit(p_, row);
    return !std::isnan(row[0]);
  }
  void reset() override { k_->reset(p_); }
  std::string save() const override {
    StringBuffer b;
    if (k_->save(p_, &b.c) != ONEPATH_OK) throw std::runtime_error(std::string(k_->name) + " (" + file_ + "): saving its state failed");
    StateWriter w;
    w.all(kStateFormat, std::string(k_->name), params_, b.bytes);
    return w.bytes();
  }
  void load(std::string_view bytes) override {
    StateReader r(bytes);
    std::uint32_t format = 0;
    std::string kind, params, state;
    r.all(format, kind, params, state);
    if (format != kStateFormat || !r.at_end()) throw InputError(std::string(k_->name) + ": saved state is damaged");
    if (kind != k_->name || params != params_)
      throw InputError(std::string(k_->name) + "(" + params_ + "): saved state belongs to " + kind + "(" + params + ")");
    char err[kErrSize] = "";
    if (k_->load(p_, state.data(), state.size(), err, sizeof err) != ONEPATH_OK)
      throw InputError(std::string(k_->name) + " (plugin " + file_ + "): " + message_of(k_->name, err, "(no message)"));
  }
  std::size_t state_bytes() const override {
    StringBuffer b;
    k_->save(p_, &b.c);
    return sizeof(*this) + b.bytes.size();
  }
  std::unique_ptr<Indicator> clone() const override {
    void* copy = nullptr;
    char err[kErrSize] = "";
    if (k_->clone(p_, &copy, err, sizeof err) != ONEPATH_OK)
      throw std::runtime_error(std::string(k_->name) + " (plugin " + file_ + "): " + message_of(k_->name, err, "(no message)"));
    return std::make_unique<PluginIndicator>(k_, copy, params_, file_);
  }

 private:
  // ONEPATH_REFUSED: the candle is bad input data (the user's, exit 2); anything else: the
  // plugin failed (a failure of the run, exit 1), named with its file and its message.
  [[noreturn]] void failed(onepath_status st, const Candle& c) const {
    if (st == ONEPATH_REFUSED) {
      for (double v : {c.open, c.high, c.low, c.close, c.volume})
        if (!std::isfinite(v)) detail::throw_refused_candle(k_->name, Refusal::not_finite, c);
      throw InputError(std::string(k_->name) + " (plugin " + file_ + ") refused the candle of " + format_iso(c.ts) + " (open " +
                       format_double(c.open) + ", high " + format_double(c.high) + ", low " + format_double(c.low) + ", close " +
                       format_double(c.close) + ", volume " + format_double(c.volume) + "): a value this kind cannot use");
    }
    const bool has_message = k_->struct_size > offsetof(onepath_indicator_kind, last_error) && k_->last_error;
    throw std::runtime_error("plugin " + file_ + ": indicator kind '" + k_->name + "' failed at the candle of " + format_iso(c.ts) + ": " +
                             message_of(k_->name, has_message ? k_->last_error(p_) : nullptr, "(no message: the kind has no last_error)"));
  }
  const onepath_indicator_kind* k_;
  void* p_;
  // the two per-candle calls, held here: one load less on the hot path
  onepath_status (*update_)(void*, const onepath_candle*);
  void (*emit_)(const void*, double*);
  std::string params_, file_;
  std::vector<std::string_view> outputs_;
};

onepath_intent to_c(const Intent& in) {
  onepath_intent x{};
  x.struct_size = sizeof x;
  x.action = static_cast<std::int32_t>(in.action);
  x.type = static_cast<std::int32_t>(in.type);
  x.price = in.price;
  x.size_mode = static_cast<std::int32_t>(in.size.mode);
  x.size_value = in.size.value;
  x.max_fraction = in.size.max_fraction;
  x.stop_mode = static_cast<std::int32_t>(in.stop_loss.mode);
  x.stop_value = in.stop_loss.value;
  x.take_mode = static_cast<std::int32_t>(in.take_profit.mode);
  x.take_value = in.take_profit.value;
  x.atr = in.atr;
  x.exit_after_bars = in.exit_after_bars;
  x.valid_bars = in.valid_bars;
  x.close_quantity = in.close_quantity;
  return x;
}

Intent from_c(const onepath_intent& x, const char* filter) {
  auto in_range = [&](std::int32_t v, std::int32_t last, const char* what) {
    if (v < 0 || v > last) throw std::runtime_error(std::string(filter) + ": returned an intent with " + what + " " + std::to_string(v));
    return v;
  };
  Intent in;
  in.action = static_cast<IntentAction>(in_range(x.action, 2, "action"));
  in.type = static_cast<OrderType>(in_range(x.type, 2, "order type"));
  in.price = x.price;
  in.size = {static_cast<SizeMode>(in_range(x.size_mode, 2, "size mode")), x.size_value, x.max_fraction};
  in.stop_loss = {static_cast<LevelMode>(in_range(x.stop_mode, 3, "stop mode")), x.stop_value};
  in.take_profit = {static_cast<LevelMode>(in_range(x.take_mode, 3, "take mode")), x.take_value};
  in.atr = x.atr;
  in.exit_after_bars = x.exit_after_bars;
  in.valid_bars = x.valid_bars;
  in.close_quantity = x.close_quantity;
  return in;
}

class PluginFilter final : public Filter {
 public:
  PluginFilter(const onepath_filter_kind* kind, void* instance, std::vector<std::string> symbols, std::string file)
      : k_(kind), p_(instance), symbols_(std::move(symbols)), file_(std::move(file)) {}
  ~PluginFilter() override { k_->destroy(p_); }
  std::string_view name() const override { return k_->name; }
  std::string apply(Intent& intent, const FilterContext& ctx) override {
    onepath_intent x = to_c(intent);
    const onepath_filter_ctx c{sizeof(onepath_filter_ctx), ctx.symbol, symbols_[static_cast<std::size_t>(ctx.symbol)].c_str(), ctx.bar,
                               ctx.ts, ctx.open_positions, ctx.has_position, ctx.close};
    char reason[kErrSize] = "";
    const onepath_status st = k_->apply(p_, &x, &c, reason, sizeof reason);
    if (st == ONEPATH_DROP) return std::string(k_->name) + ": " + (reason[0] ? reason : "dropped");
    if (st != ONEPATH_OK) throw std::runtime_error(std::string(k_->name) + " (plugin " + file_ + "): " + message_of(k_->name, reason, "(no message)"));
    intent = from_c(x, k_->name);
    validate_intent(intent);
    return {};
  }
  void on_entry(int symbol, std::int64_t bar) override {
    if (k_->on_entry) k_->on_entry(p_, symbol, bar);
  }
  void on_exit(int symbol, std::int64_t bar) override {
    if (k_->on_exit) k_->on_exit(p_, symbol, bar);
  }
  bool wants_bars() const override { return k_->on_bar != nullptr; }
  void on_bar(int symbol, const Candle& c) override { k_->on_bar(p_, symbol, as_c(c)); }
  std::string save() const override {
    StringBuffer b;
    if (k_->save(p_, &b.c) != ONEPATH_OK) throw std::runtime_error(std::string(k_->name) + " (" + file_ + "): saving its state failed");
    return b.bytes;
  }
  void load(std::string_view bytes) override {
    char err[kErrSize] = "";
    if (k_->load(p_, bytes.data(), bytes.size(), err, sizeof err) != ONEPATH_OK)
      throw InputError(std::string(k_->name) + " (plugin " + file_ + "): " + message_of(k_->name, err, "(no message)"));
  }

 private:
  const onepath_filter_kind* k_;
  void* p_;
  std::vector<std::string> symbols_;
  std::string file_;
};

}  // namespace

StringBuffer::StringBuffer() : c{&bytes, append_to_string} {}

std::unique_ptr<Indicator> make_plugin_indicator(const onepath_indicator_kind* kind, const IndicatorConfig& config,
                                                 const std::string& file) {
  CParams params(script_params(config));
  void* instance = nullptr;
  char err[kErrSize] = "";
  if (kind->create(static_cast<const onepath_params*>(params.get()), &instance, err, sizeof err) != ONEPATH_OK)
    throw InputError(std::string(kind->name) + " (plugin " + file + "): " + message_of(kind->name, err, "cannot be created with these parameters"));
  return std::make_unique<PluginIndicator>(kind, instance, params_text(config), file);
}

std::unique_ptr<Filter> make_plugin_filter(const onepath_filter_kind* kind, const FilterArgs& args, const std::string& file) {
  CParams params(args.params);
  std::vector<const char*> symbols;
  for (const auto& s : args.symbols) symbols.push_back(s.c_str());
  void* instance = nullptr;
  char err[kErrSize] = "";
  if (kind->create(static_cast<const onepath_params*>(params.get()), symbols.data(), symbols.size(), &instance, err, sizeof err) !=
      ONEPATH_OK)
    throw InputError(std::string(kind->name) + " filter (plugin " + file + "): " + message_of(kind->name, err, "cannot be created with these parameters"));
  return std::make_unique<PluginFilter>(kind, instance, args.symbols, file);
}

}  // namespace onepath
