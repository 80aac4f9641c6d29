#pragma once
// The Session: the one per-candle step every driver runs. It owns the per-symbol
// enrichers and feature rows, the strategy, the execution engine (filters, risk, kernel),
// and hands every result to a sink as it happens. Drivers only feed it:
//   on_candle(symbol, candle)   for each symbol with a bar at a timestamp, in any order
//   close(ts)                   once all of them are in: the equity mark
//   finish()                    end of data: every position closed at its last close
// A backtest merges history in time order and feeds it; a paper session feeds it from an
// event loop. Nothing else decides per candle. The services of loaded native plugins run
// for as long as the Session does.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/candle.hpp"
#include "core/timeframe.hpp"
#include "enrich/shadow.hpp"
#include "exec/engine.hpp"
#include "run/session_config.hpp"

namespace onepath {

class Enricher;
class CrossSymbolJoin;
struct FeatureRows;
struct TimeSlice;
class Services;

// One intent's decision at a bar's close, as the step saw it. `features` points at the
// symbol's row for this bar and is valid only during the call.
struct DecisionView {
  TimestampMs ts = 0;
  int symbol = 0;
  IntentAction action = IntentAction::buy;
  const Decision* decision = nullptr;
  const double* features = nullptr;
  std::size_t columns = 0;
  std::string_view strategy_version;  // the code that decided (Session::strategy_version)
};

// Results as they happen. The Session keeps none of them.
class SessionSink {
 public:
  virtual ~SessionSink() = default;
  virtual void on_decision(const DecisionView& d) = 0;
  virtual void on_trade(const Trade& t) = 0;
  virtual void on_mark(const EquityPoint& m) = 0;
  // After the end-of-data close-out: replaces the last mark (LedgerSink::on_final_mark).
  virtual void on_final_mark(const EquityPoint& m) = 0;
};

// Keeps nothing: a session run for its state or its errors (a reload's dry run, a probe).
struct DiscardResults final : SessionSink {
  void on_decision(const DecisionView&) override {}
  void on_trade(const Trade&) override {}
  void on_mark(const EquityPoint&) override {}
  void on_final_mark(const EquityPoint&) override {}
};

// What drives a session. Plugins' services are started for a backtest or a paper session
// and told which (their `onepath.driver` parameter); a validation (a reload candidate's
// dry run) starts none.
enum class Driver { backtest, paper, validation };

class Session {
 public:
  // Loads the strategy and its filters; throws InputError or ScriptError.
  Session(const SessionConfig& config, Timeframe timeframe, SessionSink& sink, Driver driver = Driver::backtest);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const SessionConfig& config() const { return config_; }
  Timeframe timeframe() const { return timeframe_; }
  const std::vector<std::string>& feature_columns() const;
  const FeatureSet& feature_set() const;
  // A symbol's features that its candles so far never gave a value (docs: a warning).
  std::vector<std::string> never_ready(int symbol) const;
  // A symbol's current feature row (feature_columns().size() values); changes nothing.
  void emit_features(int symbol, double* row) const;
  const std::string& feature_set_version() const;
  // docs/warmup.md: candles until every feature has a value, and until none depends on
  // where the data began (what a paper session bootstraps with).
  std::size_t first_value_bars() const;
  std::size_t warmup_bars() const;
  const std::string& warmup_feature() const;
  // Candles of a symbol the features have seen, history included.
  std::uint64_t seen(int symbol) const { return seen_[static_cast<std::size_t>(symbol)]; }
  // The column whose non-zero value lets on_bar run (the strategy's `gate`), or -1.
  int gate_column() const { return gate_; }

  // Before the first candle: the symbols' features warmed on history (one series per symbol)
  // the strategy and the venue never see (paper). InputError when a history is shorter than
  // the warm-up.
  void warm_up(const std::vector<CandleSeries>& history);
  // The strategy's on_start, once, before the first candle of a fresh session.
  void start();
  // The step: the venue's open and range (fills, brackets), the fills to the strategy,
  // the features, the strategy's decision at the close, each intent through filters,
  // risk and the kernel.
  // Features that read another symbol (enrich/cross_symbol.hpp) see every candle of the
  // slice first, so the order the symbols' candles arrive in changes nothing.
  void open(const TimeSlice& slice);
  void on_candle(int symbol, const Candle& candle);
  void close(TimestampMs ts);
  // End of data: positions closed at their last close, the strategy's on_stop.
  void finish();

  // A strategy's runtime error (on_bar, on_fill) is thrown (a backtest fails on it), or,
  // once this is on (a paper session), kept: that call's intents are skipped, the rest of
  // the step goes on and the driver takes the errors after the step.
  struct StrategyError {
    int symbol = 0;
    TimestampMs ts = 0;
    std::string message;
  };
  void keep_strategy_errors(bool on) { keep_errors_ = on; }
  std::vector<StrategyError> take_strategy_errors() { return std::exchange(errors_, {}); }

  // Parity while running (a paper session's [paper] shadow_every): every `every` candles of
  // a symbol, its last `window` re-enriched in batch from the state before them and compared
  // bit for bit with the rows streamed (enrich/shadow.hpp). every = 0 turns it off.
  void shadow_every(std::size_t every, std::size_t window);
  struct ShadowFinding {
    int symbol = 0;
    ShadowDivergence divergence;
  };
  std::vector<ShadowFinding> take_shadow_divergences() { return std::exchange(shadow_divergences_, {}); }
  std::uint64_t shadow_checks() const;
  std::uint64_t shadow_rows() const;

  // Kill switch: while on, entries are dropped (filter "kill_switch"); exits, marks and
  // indicator updates go on.
  void pause_entries(bool on) { entries_paused_ = on; }
  bool entries_paused() const { return entries_paused_; }

  const Kernel& kernel() const { return engine_.kernel(); }
  std::size_t candles() const { return candles_; }
  std::size_t decisions() const { return decisions_; }
  std::size_t placed() const { return placed_; }
  TimestampMs last_ts() const { return last_ts_; }
  // Every symbol has seen first_value_bars() candles (history included): its features have
  // values (a paper session is ready). settled(): warmup_bars(), none depends on the start.
  bool warm() const;
  bool settled() const;

  // A symbol's feature rows from `rows` (this feature set's rows over the very candles this
  // run will see, recorded by an earlier run) instead of its enricher; or every row its
  // enricher emits appended to `record`. For runs that share features (run/feature_share.hpp).
  void replay_features(int symbol, std::shared_ptr<const FeatureRows> rows);
  void record_features(int symbol, FeatureRows* record);

  // The strategy's version: SHA-256 (12 hex) of every file its Lua state ran and its params.
  const std::string& strategy_version() const { return strategy_version_; }
  // The files the strategy's Lua state ran (the script and the modules it required), and
  // their bytes as it loaded them.
  std::vector<std::string> script_files() const;
  std::shared_ptr<const SourceMap> strategy_sources() const;
  // Hot reload, between candles: loads the strategy's script afresh, carries every symbol's
  // ctx.state (through its migrate(old_state, old_version) when it has one), and, when its
  // feature set changed, bootstraps new enrichers from `history` (per symbol, the last
  // candles) so its first decision sees warm features. Positions, orders, filters and
  // risk are the engine's and stay as they are. Throws (InputError, ScriptError) before
  // changing anything when the new script cannot run.
  struct Reload {
    std::string old_version, new_version;
    bool features_changed = false;
    bool partial_warmup = false;  // some symbol's history was shorter than the new features' warm-up
  };
  // `script` and `params` may differ from the running ones (a signal config changed);
  // `sources`, the script files' bytes as validated: those are loaded, not the disk's.
  // History shorter than the new features' warm-up is an InputError unless `partial_warmup`.
  Reload reload_strategy(const std::vector<CandleSeries>& history, const std::string& script, const ScriptParams& params,
                         std::shared_ptr<const SourceMap> sources = {}, bool partial_warmup = false);
  // Every symbol's ctx.state, and adopting another version's (through migrate): a reload's
  // dry run migrates the running state exactly as the swap will.
  std::string strategy_state() const;
  void adopt_strategy_state(std::string_view bytes, const std::string& old_version);
  // Hot reload of native code and Lua filters: new enrichers and a new filter chain, built
  // by the kinds' current code (a plugin's new build, a filter script as it now is) and
  // loaded with the running ones' saved state. Throws, changing nothing, when the state
  // does not load.
  void rebuild_native();

  // Everything that continues a session: engine (portfolio, orders, filters, risk day),
  // enrichers, every symbol's ctx.state, the counters. Restoring into a Session built from
  // the same config and continuing is bit-identical to never stopping.
  std::string save() const;
  void load(std::string_view bytes);  // InputError for another config's or a damaged state
  // Which part of two saved states differs ("" when none): "the execution engine", "the
  // strategy's state", "the enricher of BTC", "the counters" (certify names it).
  static std::string state_difference(std::string_view a, std::string_view b);

 private:
  struct Ledger;
  void deliver_fills();

  SessionConfig config_;
  Timeframe timeframe_;
  SessionSink& sink_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Services> services_;  // native plugins' services, before anything that may call them
  std::unique_ptr<LuaStrategy> strategy_;
  std::string strategy_version_;
  std::vector<std::unique_ptr<Enricher>> enrichers_;
  std::unique_ptr<CrossSymbolJoin> cross_;  // when the features read other symbols
  std::vector<double> externals_;           // a bar's joined values of other symbols
  TimestampMs opened_ = 0;                  // the slice open() was given
  ExecutionEngine engine_;
  std::vector<Trade> pending_fills_;  // closed trades the strategy has not yet seen
  int gate_ = -1;
  bool entries_paused_ = false;
  bool keep_errors_ = false;
  std::vector<StrategyError> errors_;
  std::size_t candles_ = 0, decisions_ = 0, placed_ = 0;
  std::vector<std::uint64_t> seen_;  // candles per symbol, warm-up included
  std::vector<std::unique_ptr<ShadowWindow>> shadows_;
  struct FeatureSource {
    std::shared_ptr<const FeatureRows> replay;
    std::size_t next = 0;
    FeatureRows* record = nullptr;
  };
  std::vector<FeatureSource> feature_sources_;  // per symbol; empty: every symbol computes its own  // per symbol, when shadow_every is on
  std::vector<ShadowFinding> shadow_divergences_;
  void drop_shadows();
  TimestampMs last_ts_ = 0;
};

}  // namespace onepath
