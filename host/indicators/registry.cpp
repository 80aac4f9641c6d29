#include "indicators/registry.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <utility>

#include "core/number_format.hpp"
#include "core/state_archive.hpp"
#include "indicators/average.hpp"
#include "indicators/events.hpp"
#include "indicators/momentum.hpp"
#include "indicators/statistics.hpp"
#include "indicators/trend.hpp"
#include "indicators/volatility.hpp"
#include "indicators/volume.hpp"

namespace onepath {
namespace {

constexpr std::uint32_t kStateFormat = 1;

const double* plain_column(const CandleSeries& s, Source src) {
  switch (src) {
    case Source::open:
      return s.open.data();
    case Source::high:
      return s.high.data();
    case Source::low:
      return s.low.data();
    case Source::close:
      return s.close.data();
    case Source::volume:
      return s.volume.data();
    default:
      return nullptr;
  }
}

template <class T>
class Model final : public Indicator {
 public:
  explicit Model(T impl) : impl_(std::move(impl)) {}

  std::string_view kind() const override { return T::kKind; }
  std::string params_text() const override { return impl_.params_text(); }
  std::span<const std::string_view> outputs() const override { return T::kOutputs; }
  int series_inputs() const override {
    if constexpr (requires(T t) { t.update_values(1.0, 1.0); })
      return 2;
    else if constexpr (requires(T t) { t.update_value(1.0); })
      return 1;
    else
      return 0;
  }
  [[gnu::flatten]] void update(const Candle& c) override {  // streaming: see update_many
    if (Refusal why = impl_.update(c); why != Refusal::none) detail::throw_refused_candle(T::kKind, why, c);
  }
  void update_values(const double* x) override {
    Refusal why = Refusal::none;
    if constexpr (requires(T t) { t.update_values(1.0, 1.0); })
      why = impl_.update_values(x[0], x[1]);
    else if constexpr (requires(T t) { t.update_value(1.0); })
      why = impl_.update_value(x[0]);
    else
      throw InputError(std::string(T::kKind) + " reads whole candles; it cannot take another feature as input");
    if (why != Refusal::none) detail::throw_refused_value(T::kKind, why, std::isfinite(x[0]) && x[0] > 0 ? x[1] : x[0]);
  }
  void emit(double* out) const override { impl_.emit(out); }
  [[gnu::flatten]] void update_emit(const Candle& c, double* out) override {
    if (Refusal why = impl_.update(c); why != Refusal::none) detail::throw_refused_candle(T::kKind, why, c);
    impl_.emit(out);
  }
  // flatten: the kind's update and everything it calls (window pushes, the EMA step) inline
  // into this loop, whatever the inliner's size limits say, so the state stays in registers
  // instead of going through memory on every call; only what is out of line on purpose
  // (a window's block end, libm, the error paths) stays a call.
  [[gnu::flatten]] void update_many(const CandleSeries& s, std::size_t begin, std::size_t end, double* const* columns) override {
    // The loop runs on a local moved out of the model and the output columns are restrict
    // parameters, so the state stays in registers; a refusal ends the loop (no exception
    // edges inside it) and is raised once the state is back home.
    T ind = std::move(impl_);
    std::size_t stop = end;
    Refusal why = Refusal::none;
    auto step = [&](std::size_t i, Refusal r) {
      if (r == Refusal::none) [[likely]]
        return true;
      why = r, stop = i;
      return false;
    };
    if constexpr (requires(T t) { t.update_input(1.0); }) {
      const Source src = ind.input();
      if (const double* col = plain_column(s, src))  // one column, read straight
        rows(ind, begin, end, columns, [&](T& t, std::size_t i) { return step(i, t.update_input(col[i])); });
      else
        rows(ind, begin, end, columns, [&](T& t, std::size_t i) { return step(i, t.update_input(select(s, src, i))); });
    } else {
      rows(ind, begin, end, columns, [&](T& t, std::size_t i) {  // unread fields are dead loads
        return step(i, t.update(Candle{s.ts[i], s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]}));
      });
    }
    impl_ = std::move(ind);
    if (why != Refusal::none) detail::throw_refused_candle(T::kKind, why, s[stop]);
  }
  int warmup() const override { return impl_.warmup(); }
  int settle_bars() const override {
    if constexpr (requires(const T t) { t.settle_bars(); })
      return impl_.settle_bars();
    else
      return impl_.warmup() + 1;
  }
  bool ready() const override { return impl_.ready(); }
  void reset() override { impl_.reset(); }
  std::string save() const override {
    StateWriter w;
    w.all(kStateFormat, std::string(T::kKind), impl_.params_text(), impl_);
    return w.bytes();
  }
  void load(std::string_view bytes) override {
    StateReader r(bytes);
    std::uint32_t format = 0;
    std::string kind, params;
    r.all(format, kind, params);
    if (format != kStateFormat)
      throw InputError(std::string(T::kKind) + ": saved state has format " + std::to_string(format) + ", this build reads " +
                       std::to_string(kStateFormat));
    if (kind != T::kKind || params != impl_.params_text())
      throw InputError(std::string(T::kKind) + "(" + impl_.params_text() + "): saved state belongs to " + kind + "(" + params + ")");
    T restored = impl_;
    r(restored);
    if (!r.at_end()) throw InputError(std::string(T::kKind) + ": saved state has trailing bytes");
    impl_ = std::move(restored);  // only a complete, checked state replaces the current one
  }
  std::size_t state_bytes() const override { return sizeof(T) + impl_.heap_bytes(); }
  std::unique_ptr<Indicator> clone() const override { return std::make_unique<Model>(impl_); }
  std::string twin_key() const override {
    if constexpr (kHasTwin) return impl_.twin_key();
    return {};
  }
  const void* twin_state() const override {
    if constexpr (kHasTwin) return &impl_.twin_state();
    return nullptr;
  }
  void update_twin(const void* state, const Candle& c, double* out) override {
    if constexpr (kHasTwin) {
      const auto& shared = *static_cast<const typename T::TwinState*>(state);
      if constexpr (requires { impl_.update_with(shared, c); }) impl_.update_with(shared, c);
      impl_.emit_with(shared, out);
    }
  }
  void adopt_twin(const void* state) override {
    if constexpr (kHasTwin) impl_.twin_state() = *static_cast<const typename T::TwinState*>(state);
  }

 private:
  static constexpr bool kHasTwin = requires { typename T::TwinState; };
  template <class Update>
  static void rows(T& ind, std::size_t begin, std::size_t end, double* const* columns, Update update) {
    constexpr std::size_t k = T::kOutputs.size();
    static_assert(k >= 1 && k <= 4);
    rows_into(ind, begin, end, update, columns[0], k > 1 ? columns[1] : nullptr, k > 2 ? columns[2] : nullptr, k > 3 ? columns[3] : nullptr);
  }
  template <class Update>
  static void rows_into(T& ind, std::size_t begin, std::size_t end, Update& update, double* __restrict c0, double* __restrict c1,
                        double* __restrict c2, double* __restrict c3) {
    constexpr std::size_t k = T::kOutputs.size();
    double row[k];
    for (std::size_t i = begin; i < end; ++i) {
      if (!update(ind, i)) [[unlikely]]
        return;
      ind.emit(row);
      c0[i] = row[0];
      if constexpr (k > 1) c1[i] = row[1];
      if constexpr (k > 2) c2[i] = row[2];
      if constexpr (k > 3) c3[i] = row[3];
    }
  }

  T impl_;
};

// Reads parameters, remembering which were used so that a misspelt one is an error.
class Params {
 public:
  explicit Params(const IndicatorConfig& c, std::vector<IndicatorParam>* record = nullptr) : c_(c), record_(record) {}

  double number(const std::string& name, std::optional<double> fallback = std::nullopt) {
    note(name, fallback ? format_double(*fallback) : "");
    used_.insert(name);
    auto it = c_.params.find(name);
    if (it == c_.params.end()) {
      if (!fallback) throw InputError(c_.kind + ": parameter '" + name + "' is required");
      return *fallback;
    }
    if (const double* d = std::get_if<double>(&it->second)) return *d;
    throw InputError(c_.kind + ": parameter '" + name + "' = '" + std::get<std::string>(it->second) + "': must be a number");
  }
  int integer(const std::string& name, std::optional<int> fallback = std::nullopt) {
    double v = number(name, fallback ? std::optional<double>(*fallback) : std::nullopt);
    if (v != std::floor(v) || v < -1e9 || v > 1e9)
      throw InputError(c_.kind + ": parameter '" + name + "' = " + format_double(v) + ": must be a whole number");
    return static_cast<int>(v);
  }
  std::string text(const std::string& name, const std::string& fallback) {
    note(name, "\"" + fallback + "\"");
    used_.insert(name);
    auto it = c_.params.find(name);
    if (it == c_.params.end()) return fallback;
    if (const std::string* s = std::get_if<std::string>(&it->second)) return *s;
    throw InputError(c_.kind + ": parameter '" + name + "' = " + format_double(std::get<double>(it->second)) + ": must be text");
  }
  Source source(const std::string& name = "input", Source fallback = Source::close) {
    std::string s = text(name, std::string(source_name(fallback)));
    try {
      return parse_source(s);
    } catch (const InputError& e) {
      throw InputError(c_.kind + ": parameter '" + name + "': " + e.what());
    }
  }
  void finish() const {
    for (const auto& [name, value] : c_.params) {
      if (used_.count(name)) continue;
      std::string known;
      for (const auto& u : used_) known += (known.empty() ? "" : ", ") + u;
      throw InputError(c_.kind + ": unknown parameter '" + name + "' (known: " + (known.empty() ? "none" : known) + ")");
    }
  }

 private:
  // Describing a kind: each parameter once, as first asked for (a number's default as
  // written, a text's quoted).
  void note(const std::string& name, std::string fallback) {
    if (!record_ || used_.count(name)) return;
    std::string example;
    if (auto it = c_.params.find(name); it != c_.params.end())
      example =
          std::holds_alternative<double>(it->second) ? format_double(std::get<double>(it->second)) : "\"" + std::get<std::string>(it->second) + "\"";
    record_->push_back({name, std::move(fallback), std::move(example)});
  }

  const IndicatorConfig& c_;
  std::vector<IndicatorParam>* record_;
  std::set<std::string> used_;
};

using Factory = std::function<std::unique_ptr<Indicator>(Params&)>;

template <class T, class... Args>
std::unique_ptr<Indicator> model(Args&&... args) {
  return std::make_unique<Model<T>>(T(std::forward<Args>(args)...));
}

IndicatorConfig cfg(std::string kind, std::map<std::string, std::variant<double, std::string>> p = {}) { return {std::move(kind), std::move(p)}; }

struct Entry {
  IndicatorKind info;
  Factory make;
};

struct Added {
  IndicatorKind info;
  IndicatorFactory make;
};
std::vector<Added>& added() {
  static std::vector<Added> list;
  return list;
}

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {{"sma", cfg("sma", {{"period", 20.0}})}, [](Params& p) { return model<Sma>(p.integer("period"), p.source()); }},
      {{"ema", cfg("ema", {{"period", 12.0}})},
       [](Params& p) {
         int period = p.integer("period");
         std::string seed = p.text("seed", "sma");
         if (seed != "sma" && seed != "first") throw InputError("ema: parameter 'seed' = '" + seed + "': must be sma or first");
         return model<Ema>(period, seed == "sma" ? EmaSeed::sma : EmaSeed::first, p.source());
       }},
      {{"wma", cfg("wma", {{"period", 20.0}})}, [](Params& p) { return model<Wma>(p.integer("period"), p.source()); }},
      {{"rsi", cfg("rsi")}, [](Params& p) { return model<Rsi>(p.integer("period", 14), p.source()); }},
      {{"trange", cfg("trange")}, [](Params&) { return model<TrueRange>(); }},
      {{"atr", cfg("atr")}, [](Params& p) { return model<Atr>(p.integer("period", 14)); }},
      {{"natr", cfg("natr")}, [](Params& p) { return model<Natr>(p.integer("period", 14)); }},
      {{"adx", cfg("adx")}, [](Params& p) { return model<Adx>(p.integer("period", 14)); }},
      {{"macd", cfg("macd")},
       [](Params& p) {
         int fast = p.integer("fast", 12), slow = p.integer("slow", 26), signal = p.integer("signal", 9);
         return model<Macd>(fast, slow, signal, p.source());
       }},
      {{"bbands", cfg("bbands")},
       [](Params& p) {
         int period = p.integer("period", 20);
         double k = p.number("k", 2.0);
         return model<Bbands>(period, k, p.source());
       }},
      {{"stddev", cfg("stddev")}, [](Params& p) { return model<Stddev>(p.integer("period", 20), p.source()); }},
      {{"stoch", cfg("stoch")},
       [](Params& p) {
         int kp = p.integer("k_period", 14), ks = p.integer("k_smooth", 3), dp = p.integer("d_period", 3);
         return model<Stoch>(kp, ks, dp);
       }},
      {{"willr", cfg("willr")}, [](Params& p) { return model<Willr>(p.integer("period", 14)); }},
      {{"cci", cfg("cci")}, [](Params& p) { return model<Cci>(p.integer("period", 20)); }},
      {{"obv", cfg("obv")}, [](Params& p) { return model<Obv>(p.source()); }},
      {{"mfi", cfg("mfi")}, [](Params& p) { return model<Mfi>(p.integer("period", 14)); }},
      {{"returns", cfg("returns")}, [](Params& p) { return model<Returns>(p.integer("period", 1), p.source()); }},
      {{"log_returns", cfg("log_returns")}, [](Params& p) { return model<LogReturns>(p.integer("period", 1), p.source()); }},
      {{"zscore", cfg("zscore")}, [](Params& p) { return model<Zscore>(p.integer("period", 20), p.source()); }},
      {{"min", cfg("min", {{"period", 20.0}})}, [](Params& p) { return model<RollingMin>(p.integer("period"), p.source()); }},
      {{"max", cfg("max", {{"period", 20.0}})}, [](Params& p) { return model<RollingMax>(p.integer("period"), p.source()); }},
      {{"quantile", cfg("quantile", {{"period", 100.0}, {"q", 0.9}})},
       [](Params& p) {
         int period = p.integer("period");
         double q = p.number("q", 0.5);
         return model<Quantile>(period, q, p.source());
       }},
      {{"percentile_rank", cfg("percentile_rank", {{"period", 100.0}})},
       [](Params& p) { return model<PercentileRank>(p.integer("period"), 0.5, p.source()); }},
      {{"donchian", cfg("donchian")}, [](Params& p) { return model<Donchian>(p.integer("period", 20)); }},
      {{"parkinson", cfg("parkinson")}, [](Params& p) { return model<Parkinson>(p.integer("period", 20)); }},
      {{"garman_klass", cfg("garman_klass")}, [](Params& p) { return model<GarmanKlass>(p.integer("period", 20)); }},
      {{"realized_vol", cfg("realized_vol")}, [](Params& p) { return model<RealizedVol>(p.integer("period", 20), p.source()); }},
      {{"volume_ratio", cfg("volume_ratio")}, [](Params& p) { return model<VolumeRatio>(p.integer("period", 20)); }},
      {{"correlation", cfg("correlation")},
       [](Params& p) {
         int period = p.integer("period", 20);
         Source a = p.source("input", Source::close), b = p.source("input2", Source::volume);
         return model<Correlation>(period, a, b);
       }},
      {{"beta", cfg("beta")},
       [](Params& p) {
         int period = p.integer("period", 20);
         Source a = p.source("input", Source::close), b = p.source("input2", Source::volume);
         return model<Beta>(period, a, b);
       }},
      {{"cusum", cfg("cusum", {{"threshold", 0.01}})}, [](Params& p) { return model<Cusum>(p.number("threshold"), p.source()); }},
      {{"calendar", cfg("calendar")}, [](Params&) { return model<Calendar>(); }},
  };
  return table;
}

}  // namespace

std::unique_ptr<Indicator> make_indicator(const IndicatorConfig& config) {
  for (const auto& e : entries()) {
    if (e.info.kind != config.kind) continue;
    Params p(config);
    auto ind = e.make(p);
    p.finish();
    return ind;
  }
  for (const auto& a : added())
    if (a.info.kind == config.kind) return a.make(config);
  std::string known;
  for (const auto& k : indicator_kinds()) known += (known.empty() ? "" : " ") + k.kind;
  throw InputError("unknown indicator kind '" + config.kind + "' (known: " + known + ")");
}

namespace {
const char* summary_of(const std::string& kind) {
  static const std::map<std::string, const char*> text = {{"sma", "simple moving average"},
                                                          {"ema", "exponential moving average (TA-Lib seeding)"},
                                                          {"wma", "linearly weighted moving average"},
                                                          {"rsi", "Wilder's relative strength index, 0..100"},
                                                          {"trange", "true range"},
                                                          {"atr", "Wilder's average true range"},
                                                          {"natr", "ATR as a percentage of the close"},
                                                          {"adx", "average directional index with +DI and -DI"},
                                                          {"macd", "MACD line, signal and histogram"},
                                                          {"bbands", "Bollinger bands: upper, middle, lower"},
                                                          {"stddev", "population standard deviation"},
                                                          {"stoch", "slow stochastic %K and %D"},
                                                          {"willr", "Williams %R, -100..0"},
                                                          {"cci", "commodity channel index"},
                                                          {"obv", "on-balance volume"},
                                                          {"mfi", "money flow index, 0..100"},
                                                          {"returns", "simple return over `period` bars"},
                                                          {"log_returns", "log return over `period` bars"},
                                                          {"zscore", "(x - mean) / standard deviation over the window"},
                                                          {"min", "rolling minimum"},
                                                          {"max", "rolling maximum"},
                                                          {"quantile", "rolling quantile q (linear interpolation)"},
                                                          {"percentile_rank", "share of the window at or below the latest value"},
                                                          {"donchian", "Donchian channel: highest high, lowest low, middle"},
                                                          {"parkinson", "Parkinson high-low volatility"},
                                                          {"garman_klass", "Garman-Klass OHLC volatility"},
                                                          {"realized_vol", "standard deviation of log returns"},
                                                          {"volume_ratio", "volume over its moving average"},
                                                          {"correlation", "Pearson correlation of two series"},
                                                          {"beta", "beta of `input` on `input2`"},
                                                          {"cusum", "symmetric CUSUM event filter: +1 / -1 when the drift passes the threshold"},
                                                          {"calendar", "hour of day, day of week (UTC)"}};
  auto it = text.find(kind);
  return it == text.end() ? "" : it->second;
}
}  // namespace

IndicatorDescription describe_indicator_kind(const std::string& kind) {
  IndicatorDescription d;
  std::unique_ptr<Indicator> built;
  for (const auto& e : entries()) {
    if (e.info.kind != kind) continue;
    d.kind = e.info;
    Params p(e.info.example, &d.params);
    built = e.make(p);
    // Required first, the inputs last; the rest as the factory asked for them.
    auto rank = [](const IndicatorParam& x) { return x.fallback.empty() ? 0 : x.name.starts_with("input") ? 2 : 1; };
    std::stable_sort(d.params.begin(), d.params.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  }
  for (const auto& a : added())
    if (a.info.kind == kind) d.kind = a.info, built = a.make(a.info.example);
  if (!built) {
    make_indicator({kind, {}});  // throws, naming the known kinds
    throw InputError("unknown indicator kind " + kind);
  }
  d.summary = summary_of(kind);
  if (d.summary.empty()) d.summary = d.kind.summary;
  d.reads_candles = built->series_inputs() == 0;
  for (auto o : built->outputs()) d.outputs.emplace_back(o);
  d.warmup = built->warmup();
  return d;
}

std::vector<IndicatorKind> indicator_kinds() {
  std::vector<IndicatorKind> v;
  for (const auto& e : entries()) v.push_back(e.info);
  for (const auto& a : added()) v.push_back(a.info);
  return v;
}

IndicatorFactory replace_indicator_kind(const std::string& kind, IndicatorFactory make) {
  for (auto& a : added())
    if (a.info.kind == kind) return std::exchange(a.make, std::move(make));
  throw InputError("indicator kind '" + kind + "' is not a plugin's");
}

void add_indicator_kind(IndicatorKind info, IndicatorFactory make) {
  for (const auto& k : indicator_kinds())
    if (k.kind == info.kind) throw InputError("indicator kind '" + info.kind + "' of " + info.origin + " is already defined (" + k.origin + ")");
  added().push_back({std::move(info), std::move(make)});
}

}  // namespace onepath
