#include "run/session.hpp"

#include <cstring>

#include "run/feature_share.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/state_archive.hpp"
#include "data/candle_io.hpp"
#include "enrich/cross_symbol.hpp"
#include "enrich/enricher.hpp"
#include "lua/lua_filter.hpp"
#include "plugin/loader.hpp"
#include "run/market_merge.hpp"

namespace onepath {
namespace {

constexpr std::uint32_t kSessionStateFormat = 2;  // 2: the other symbols' features (1 still loads)

std::unique_ptr<Filter> filter_of(const FilterSpec& f, const SessionConfig& c) {
  if (!f.script.empty()) return std::make_unique<LuaFilter>(f.script, c.scripts_root, f.params, c.limits, c.symbols);
  return make_filter(f.kind, {f.value, f.params, c.symbols});
}

}  // namespace

// The strategy's gate column, or -1; InputError when it names no column.
int gate_column_of(LuaStrategy& s, const std::vector<std::string>& columns) {
  if (s.gate().empty()) return -1;
  for (std::size_t k = 0; k < columns.size(); ++k)
    if (columns[k] == s.gate()) return static_cast<int>(k);
  std::string known;
  for (const auto& col : columns) known += (known.empty() ? "" : ", ") + col;
  throw InputError(s.path() + ": gate '" + s.gate() + "' is not one of its feature columns (" + known + ")");
}

// A strategy's version: the SHA-256 (12 hex) of every file its state ran (names and the
// SHA-256 of the bytes it loaded, never read again) and of its params.
std::string version_of(const LuaRuntime& rt, const ScriptParams& params) {
  Sha256 h;
  for (const auto& [key, value] : params) {
    std::string text = key + "=";
    std::visit([&](const auto& v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) text += v;
      else text += std::to_string(v);
    }, value);
    h.update(text.data(), text.size() + 1);
  }
  for (std::size_t i = 0; i < rt.files().size(); ++i) {
    h.update(rt.files()[i].data(), rt.files()[i].size() + 1);
    h.update(rt.files_sha256()[i].data(), rt.files_sha256()[i].size());
  }
  return h.hex().substr(0, 12);
}

// The engine's ledger, into the Session: fills wait for the strategy, results go to the sink.
struct Session::Ledger : LedgerSink {
  Session& s;
  explicit Ledger(Session& session) : s(session) {}
  void on_trade(const Trade& t) override {
    s.pending_fills_.push_back(t);
    s.sink_.on_trade(t);
  }
  void on_mark(const EquityPoint& m) override { s.sink_.on_mark(m); }
  void on_final_mark(const EquityPoint& m) override { s.sink_.on_final_mark(m); }
};

Session::Session(const SessionConfig& c, Timeframe tf, SessionSink& sink, Driver driver)
    : config_(c), timeframe_(tf), sink_(sink), ledger_(std::make_unique<Ledger>(*this)),
      services_(driver == Driver::validation ? nullptr : std::make_unique<Services>(driver == Driver::paper ? "paper" : "backtest")),
      strategy_(c.strategy.empty() ? throw InputError("the config has no [strategy]: 'strategy.script' (scripts/strategies/) or 'strategy.signal' is "
                                                      "required to run it; only 'onepath train' reads a config without one")
                                   : std::make_unique<LuaStrategy>(c.strategy, c.scripts_root, c.symbols, c.params, c.limits)),
      engine_(c.execution, c.risk, c.symbols, ledger_.get()) {
  if (c.symbols.empty()) throw InputError("a session needs at least one symbol");
  for (std::size_t s = 0; s < c.symbols.size(); ++s) enrichers_.push_back(std::make_unique<Enricher>(strategy_->features(), tf));
  if (!symbols_read(strategy_->features()).empty()) {
    cross_ = std::make_unique<CrossSymbolJoin>(strategy_->features(), tf, c.symbols);
    externals_.assign(cross_->count(), 0.0);
  }
  strategy_->bind(enrichers_[0]->columns());
  gate_ = gate_column_of(*strategy_, enrichers_[0]->columns());
  strategy_version_ = version_of(strategy_->runtime(), c.params);
  for (const auto& f : c.filters) engine_.filters().add(filter_of(f, c));
  seen_.assign(c.symbols.size(), 0);
}

Session::~Session() = default;

const std::vector<std::string>& Session::feature_columns() const { return enrichers_[0]->columns(); }
const std::string& Session::feature_set_version() const { return enrichers_[0]->version(); }
const FeatureSet& Session::feature_set() const { return strategy_->features(); }
void Session::replay_features(int symbol, std::shared_ptr<const FeatureRows> rows) {
  if (rows->width != feature_columns().size()) throw std::logic_error("replayed feature rows have another width than this feature set");
  feature_sources_.resize(enrichers_.size());
  feature_sources_[static_cast<std::size_t>(symbol)] = {std::move(rows), 0, nullptr};
}

void Session::record_features(int symbol, FeatureRows* record) {
  feature_sources_.resize(enrichers_.size());
  record->width = feature_columns().size();
  feature_sources_[static_cast<std::size_t>(symbol)] = {nullptr, 0, record};
}

std::vector<std::string> Session::never_ready(int symbol) const {
  return enrichers_[static_cast<std::size_t>(symbol)]->never_ready(static_cast<std::size_t>(seen_[static_cast<std::size_t>(symbol)]));
}
void Session::emit_features(int symbol, double* row) const { enrichers_[static_cast<std::size_t>(symbol)]->emit(row); }
std::size_t Session::warmup_bars() const { return enrichers_[0]->warmup_bars(); }
std::size_t Session::first_value_bars() const { return enrichers_[0]->first_value_bars(); }
const std::string& Session::warmup_feature() const { return enrichers_[0]->warmup_feature(); }

void Session::warm_up(const std::vector<CandleSeries>& history) {
  if (history.size() != enrichers_.size()) throw std::logic_error("warm_up: history for another number of symbols");
  if (cross_) cross_->bootstrap(history);
  for (std::size_t s = 0; s < enrichers_.size(); ++s) {
    if (history[s].empty()) continue;
    Enricher& e = *enrichers_[s];
    const FeatureColumns externals = cross_ ? cross_->join(history[s].ts) : FeatureColumns{};
    e.bootstrap(history[s], e.warmup_bars() == 0, cross_ ? &externals : nullptr);
    seen_[s] = history[s].size();
  }
}

void Session::open(const TimeSlice& slice) {
  opened_ = slice.ts;
  if (cross_)
    for (const auto& [symbol, candle] : slice.candles) cross_->update(symbol, candle);
}

bool Session::warm() const {
  return std::all_of(seen_.begin(), seen_.end(), [n = first_value_bars()](std::uint64_t s) { return s >= n; });
}

bool Session::settled() const {
  return std::all_of(seen_.begin(), seen_.end(), [n = warmup_bars()](std::uint64_t s) { return s >= n; });
}

void Session::start() { strategy_->on_start(); }

void Session::on_candle(int sym, const Candle& candle) {
  engine_.on_bar(sym, candle);  // the open and the range: fills, brackets
  deliver_fills();
  Enricher& e = *enrichers_[static_cast<std::size_t>(sym)];
  double* row = strategy_->row(sym);
  FeatureSource* source = feature_sources_.empty() ? nullptr : &feature_sources_[static_cast<std::size_t>(sym)];
  if (source && source->replay) {
    const FeatureRows& r = *source->replay;
    if (source->next >= r.rows()) throw std::logic_error("replayed feature rows ran out: they were recorded over other candles");
    std::memcpy(row, r.values.data() + source->next++ * r.width, r.width * sizeof(double));
  } else {
    ShadowWindow* shadow = shadows_.empty() ? nullptr : shadows_[static_cast<std::size_t>(sym)].get();
    if (shadow) shadow->before(e, config_.symbols[static_cast<std::size_t>(sym)]);
    if (cross_) {
      if (candle.ts != opened_) throw std::logic_error("Session: open(slice) comes before its candles");
      cross_->externals(candle.ts, externals_.data());
      e.set_externals(externals_.data());
    }
    e.update(candle);
    e.emit(row);
    if (shadow)
      if (auto d = shadow->after(e, candle, row, externals_.data())) [[unlikely]]
        shadow_divergences_.push_back({sym, std::move(*d)});
    if (source && source->record) source->record->values.insert(source->record->values.end(), row, row + source->record->width);
  }
  ++candles_;
  ++seen_[static_cast<std::size_t>(sym)];
  last_ts_ = candle.ts;
  // The event gate: no event (zero, or not yet known), no decision; the features above
  // are already up to date.
  if (gate_ >= 0 && !(row[gate_] != 0 && !std::isnan(row[gate_]))) return;
  const Kernel& k = engine_.kernel();
  const std::vector<Intent>* decided = nullptr;
  try {
    decided = &strategy_->on_bar(sym, candle, k.bar(sym), k.position(sym), k.equity(), k.cash());
  } catch (const ScriptError& e) {
    if (!keep_errors_) throw;
    errors_.push_back({sym, candle.ts, e.what()});
    return;
  }
  const auto& intents = *decided;
  if (intents.empty()) return;
  DecisionView view{candle.ts, sym, IntentAction::buy, nullptr, row, feature_columns().size(), strategy_version_};
  for (const Intent& in : intents) {
    Decision d;
    if (entries_paused_ && in.action != IntentAction::close) {
      d.outcome = Decision::Outcome::filtered;
      d.filter = "kill_switch";
      d.reason = "entries paused";
    } else {
      d = engine_.decide(sym, in);
    }
    ++decisions_;
    placed_ += d.outcome == Decision::Outcome::placed;
    view.action = in.action;
    view.decision = &d;
    sink_.on_decision(view);
  }
  deliver_fills();
}

void Session::close(TimestampMs ts) { engine_.mark(ts); }

void Session::shadow_every(std::size_t every, std::size_t window) {
  shadows_.clear();
  if (every == 0) return;
  for (std::size_t s = 0; s < enrichers_.size(); ++s) shadows_.push_back(std::make_unique<ShadowWindow>(every, window));
}

void Session::drop_shadows() {
  for (auto& s : shadows_) s->drop();
}

std::uint64_t Session::shadow_checks() const {
  std::uint64_t n = 0;
  for (const auto& s : shadows_) n += s->checks();
  return n;
}

std::uint64_t Session::shadow_rows() const {
  std::uint64_t n = 0;
  for (const auto& s : shadows_) n += s->rows();
  return n;
}

void Session::finish() {
  engine_.finish();
  deliver_fills();
  strategy_->on_stop();
}

Session::Reload Session::reload_strategy(const std::vector<CandleSeries>& history, const std::string& script, const ScriptParams& params,
                                         std::shared_ptr<const SourceMap> sources, bool partial_warmup) {
  // Everything new is built and checked before anything of the running session changes.
  ScriptLimits limits = config_.limits;
  limits.sources = std::move(sources);
  auto fresh = std::make_unique<LuaStrategy>(script, config_.scripts_root, config_.symbols, params, limits);
  Reload r;
  r.old_version = strategy_version_;
  r.new_version = version_of(fresh->runtime(), params);
  std::vector<std::unique_ptr<Enricher>> enrichers;
  for (std::size_t s = 0; s < config_.symbols.size(); ++s) enrichers.push_back(std::make_unique<Enricher>(fresh->features(), timeframe_));
  r.features_changed = enrichers[0]->version() != enrichers_[0]->version();
  std::unique_ptr<CrossSymbolJoin> cross;
  if (r.features_changed && !symbols_read(fresh->features()).empty()) {
    cross = std::make_unique<CrossSymbolJoin>(fresh->features(), timeframe_, config_.symbols);
    cross->bootstrap(history);
  }
  if (r.features_changed) {
    if (history.size() != enrichers.size()) throw std::logic_error("reload: history for another number of symbols");
    // Features computed as before go on with their running state; the others warm up on the
    // history, so their first decision sees warm values.
    const std::size_t cross_need = cross ? cross->warmup_bars_beyond(cross_.get()) : 0;
    if (cross) cross->carry_state(cross_.get());
    for (std::size_t s = 0; s < enrichers.size(); ++s) {
      const std::size_t need = std::max(enrichers[s]->warmup_bars_beyond(*enrichers_[s]), cross_need);
      if (history[s].size() < need && !partial_warmup)
        throw InputError("the new feature set needs " + std::to_string(need) + " candles of " + config_.symbols[s] + " to warm up; the session keeps " +
                         std::to_string(history[s].size()) + " (the last [paper] reload_candles, the warm-up history included): raise reload_candles to at least " +
                         std::to_string(need) + ", or set [paper] reload_partial_warmup = true to warm them on what there is");
      r.partial_warmup = r.partial_warmup || history[s].size() < need;
      if (history[s].empty()) continue;
      const FeatureColumns externals = cross ? cross->join(history[s].ts) : FeatureColumns{};
      enrichers[s]->bootstrap(history[s], true, cross ? &externals : nullptr);
      enrichers[s]->carry_state(*enrichers_[s]);
    }
  }
  const auto& columns = (r.features_changed ? enrichers : enrichers_)[0]->columns();
  fresh->bind(columns);
  const int gate = gate_column_of(*fresh, columns);
  fresh->adopt_state(strategy_->save_state(), r.old_version);
  // The swap: nothing below throws.
  if (r.features_changed) {
    enrichers_ = std::move(enrichers), drop_shadows();
    cross_ = std::move(cross);
    externals_.assign(cross_ ? cross_->count() : 0, 0.0);
  }
  for (std::size_t s = 0; s < enrichers_.size(); ++s) enrichers_[s]->emit(fresh->row(static_cast<int>(s)));
  strategy_ = std::move(fresh);
  config_.strategy = script;
  config_.params = params;
  gate_ = gate;
  strategy_version_ = r.new_version;
  return r;
}

std::string Session::strategy_state() const { return strategy_->save_state(); }

void Session::adopt_strategy_state(std::string_view bytes, const std::string& old_version) { strategy_->adopt_state(bytes, old_version); }

void Session::rebuild_native() {
  std::vector<std::unique_ptr<Enricher>> enrichers;
  for (std::size_t s = 0; s < enrichers_.size(); ++s) {
    auto e = std::make_unique<Enricher>(strategy_->features(), timeframe_);
    if (enrichers_[s]->has_data()) e->load_snapshot(enrichers_[s]->save_snapshot(config_.symbols[s]), config_.symbols[s]);
    enrichers.push_back(std::move(e));
  }
  FilterChain chain;
  for (const auto& f : config_.filters) chain.add(filter_of(f, config_));
  chain.load(engine_.filters().save());
  if (cross_) cross_->rebuild();
  enrichers_ = std::move(enrichers);
  drop_shadows();
  engine_.replace_filters(std::move(chain));
}

std::vector<std::string> Session::script_files() const { return strategy_->runtime().files(); }
std::shared_ptr<const SourceMap> Session::strategy_sources() const { return strategy_->runtime().loaded_sources(); }

// Fills reach the strategy here and nowhere else, after the engine has finished with them.
void Session::deliver_fills() {
  if (pending_fills_.empty()) return;
  std::vector<Trade> fills = std::exchange(pending_fills_, {});
  for (const Trade& t : fills) {
    try {
      strategy_->on_fill(t.symbol, t);
    } catch (const ScriptError& e) {
      if (!keep_errors_) throw;
      errors_.push_back({t.symbol, t.exit_ts, e.what()});
    }
  }
}

std::string Session::save() const {
  StateWriter w;
  std::vector<std::string> enrichers;
  for (std::size_t s = 0; s < enrichers_.size(); ++s) enrichers.push_back(enrichers_[s]->save_snapshot(config_.symbols[s]));
  w.all(kSessionStateFormat, config_.symbols, engine_.save(), strategy_->save_state(), enrichers);
  w.all(static_cast<std::uint64_t>(candles_), static_cast<std::uint64_t>(decisions_), static_cast<std::uint64_t>(placed_), last_ts_,
        static_cast<std::uint8_t>(entries_paused_), seen_, cross_ ? cross_->save() : std::string());
  return w.bytes();
}

std::string Session::state_difference(std::string_view a, std::string_view b) {
  struct Parts {
    std::uint32_t format = 0;
    std::vector<std::string> symbols, enrichers;
    std::string engine, strategy, cross;
  };
  auto parts = [](std::string_view bytes) {
    Parts p;
    StateReader r(bytes);
    r.all(p.format, p.symbols, p.engine, p.strategy, p.enrichers);
    std::uint64_t candles = 0, decisions = 0, placed = 0;
    std::uint8_t paused = 0;
    TimestampMs last_ts = 0;
    std::vector<std::uint64_t> seen;
    r.all(candles, decisions, placed, last_ts, paused, seen);
    if (p.format >= 2) r.all(p.cross);
    return p;
  };
  const Parts x = parts(a), y = parts(b);
  if (x.symbols != y.symbols) return "the symbols";
  if (x.engine != y.engine) return "the execution engine (portfolio, open orders, filters, risk)";
  if (x.strategy != y.strategy) return "the strategy's state (ctx.state)";
  for (std::size_t s = 0; s < x.enrichers.size() && s < y.enrichers.size(); ++s)
    if (x.enrichers[s] != y.enrichers[s]) return "the enricher of " + x.symbols[s];
  if (x.cross != y.cross) return "the enrichers of the symbols other symbols' features read";
  return a == b ? "" : "the counters";
}

void Session::load(std::string_view bytes) {
  StateReader r(bytes);
  std::uint32_t format = 0;
  std::vector<std::string> symbols, enrichers;
  std::string engine, strategy;
  r.all(format, symbols);
  if (format != kSessionStateFormat && format != 1) throw InputError("session state has format " + std::to_string(format));
  if (symbols != config_.symbols) throw InputError("session state belongs to another set of symbols");
  std::uint64_t candles = 0, decisions = 0, placed = 0;
  std::uint8_t paused = 0;
  TimestampMs last_ts = 0;
  std::vector<std::uint64_t> seen;
  std::string cross;
  r.all(engine, strategy, enrichers, candles, decisions, placed, last_ts, paused, seen);
  if (format >= 2) r.all(cross);
  if (!r.at_end()) throw InputError("session state has trailing bytes");
  if (cross.empty() != !cross_) throw InputError("session state belongs to a feature set that reads other symbols otherwise");
  if (enrichers.size() != enrichers_.size() || seen.size() != seen_.size())
    throw InputError("session state has another number of symbols");
  engine_.load(engine);
  strategy_->load_state(strategy);
  for (std::size_t s = 0; s < enrichers_.size(); ++s) enrichers_[s]->load_snapshot(enrichers[s], config_.symbols[s]);
  if (cross_) cross_->load(cross);
  drop_shadows();
  candles_ = static_cast<std::size_t>(candles), decisions_ = static_cast<std::size_t>(decisions);
  placed_ = static_cast<std::size_t>(placed);
  last_ts_ = last_ts;
  entries_paused_ = paused != 0;
  seen_ = std::move(seen);
}

}  // namespace onepath
