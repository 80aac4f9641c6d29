#pragma once
// The enrichment engine for one (symbol, timeframe, feature set). Streaming:
// bootstrap(history), then update(candle) on every candle and emit() when a row is wanted.
// Batch: enrich_batch(series) gives the whole feature matrix. Both run the same indicator
// update code in the same order, so the batch row at T is the streaming row at T, bit for
// bit, and a batch run leaves the state a streaming run would have left.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "data/resample.hpp"
#include "enrich/feature_set.hpp"
#include "indicators/indicator.hpp"

namespace onepath {

// Columns of a feature matrix: cols[k][row].
using FeatureColumns = std::vector<std::vector<double>>;

class Enricher {
 public:
  // Throws InputError naming the feature's origin: unknown kinds or parameters, unknown
  // or cyclic inputs, a higher timeframe that does not fit the base one.
  Enricher(FeatureSet set, Timeframe base);
  ~Enricher();
  Enricher(const Enricher&) = delete;
  Enricher& operator=(const Enricher&) = delete;

  const std::vector<std::string>& columns() const { return columns_; }
  // A feature's columns: the first and how many (InputError for a name not in the set).
  std::pair<std::size_t, std::size_t> columns_of(const std::string& feature) const;
  const FeatureSet& feature_set() const { return set_; }
  const std::string& version() const { return version_; }
  Timeframe base_timeframe() const { return base_; }
  // Candles a bootstrap needs so that its rows equal those of a history started at any
  // earlier point (within 1e-9 relative; path-dependent kinds excepted, docs/enrichment.md).
  std::size_t warmup_bars() const { return warmup_bars_; }
  // The feature whose settling sets warmup_bars() (a message names it).
  const std::string& warmup_feature() const { return warmup_feature_; }
  // Candles until every column has its first value (the kinds' declared warm-up; at most, a
  // higher timeframe's first bar may close sooner): from then on a strategy sees no NaN
  // that warm-up explains, and a paper session is ready (docs/warmup.md).
  std::size_t first_value_bars() const { return first_value_bars_; }

  // Starts afresh from history. Fewer than warmup_bars() candles is an error
  // (enrichment_bootstrap_insufficient_history) unless allow_partial; none is always one.
  void bootstrap(const CandleSeries& history, bool allow_partial = false, const FeatureColumns* externals = nullptr);
  // One candle. A candle not after the last one, or with a value that is not finite or a
  // price not positive, is rejected with InputError and changes nothing.
  void update(const Candle& c);
  // The current row (columns().size() values). Skipping it changes nothing.
  void emit(double* row) const;
  std::vector<double> emit() const;

  // Starts afresh and enriches a whole series, column by column; threads > 1 runs
  // independent features in parallel (same bits). The same checks as update().
  FeatureColumns enrich_batch(const CandleSeries& series, int threads = 1);
  // The same into a caller's matrix, reusing its memory when it already has the size;
  // `externals`: the other symbols' values per row (external_count() columns), else NaN.
  void enrich_batch(const CandleSeries& series, FeatureColumns& out, int threads = 1, const FeatureColumns* externals = nullptr);
  // Batch from where the state is: candles after the last one, column by column; the rows
  // are those update() would have emitted (a paper session's shadow check compares them).
  void continue_batch(const CandleSeries& series, FeatureColumns& out, const FeatureColumns* externals = nullptr);

  // Features of another symbol (FeatureSpec::symbol) are not computed here: their values
  // come joined from that symbol's enricher (enrich/cross_symbol.hpp), external_count() of
  // them per row in the set's order of those features' columns, given before each update().
  std::size_t external_count() const { return external_count_; }
  void set_externals(const double* values);

  // Features that `candles` candles never give a value (a period longer than the data), as
  // "name (its first value needs about N candles)": a column of NaN deserves a warning.
  std::vector<std::string> never_ready(std::size_t candles) const;

  // The SHA-256 of the canonical text of the features these columns come from, with every
  // feature they read, in the set's order: what a model trained on these columns pins
  // (a model feature refuses a set that computes its inputs otherwise).
  std::string inputs_config_sha256(const std::vector<std::string>& columns) const;
  // One column's part of that: the canonical text of the features it comes from (a
  // model's manifest keeps it per input, so a mismatch can name the input that changed).
  std::string input_config_text(const std::string& column) const;

  // The tolerance ladder (docs/certify.md): per column, the relative difference batch and
  // streaming may show; 0 (nearly always) means the same bits. From a plugin kind's
  // declaration, the feature's own or an input's.
  const std::vector<double>& tolerances() const { return tolerance_; }
  struct Tolerance {
    std::string column, kind, why;  // kind: the plugin kind that declared it
    double relative = 0;
  };
  std::vector<Tolerance> declared_tolerances() const;

  // A reload's new enricher, bootstrapped on recent history, takes over the running one's
  // state of every feature both compute alike (same name, same canonical text): those go on
  // exactly as if never reloaded, and only the others (new, changed, another model) depend
  // on that history. warmup_bars_beyond(old): the warm-up those others need.
  std::size_t warmup_bars_beyond(const Enricher& old) const;
  void carry_state(const Enricher& old);

  bool has_data() const { return has_data_; }
  TimestampMs last_ts() const { return last_ts_; }
  // Kill switch: while paused, updates change nothing and emit repeats the last emitted
  // row. Starts paused when ONEPATH_ENRICHMENT_PAUSE=1.
  void pause(bool on);
  bool paused() const { return paused_; }
  // Bytes of state held for this key (indicators, resamplers, the current row).
  std::size_t state_bytes() const;

  // Versioned, checksummed snapshot carrying the key and the last timestamp; restore and
  // continue is bit-identical to never stopping. load refuses a damaged snapshot or one of
  // another key, and changes nothing when it refuses.
  std::string save_snapshot(std::string_view symbol) const;
  void load_snapshot(std::string_view bytes, std::string_view symbol);

 private:
  struct Node;
  struct Input;
  void reset();
  std::vector<bool> dirty_against(const Enricher& old) const;
  void check_candle(const Candle& c, std::int64_t row) const;
  [[noreturn, gnu::cold, gnu::noinline]] void refuse_candle(const Candle& c, std::int64_t row, bool late) const;
  void feed(Node& n, const Candle& c);
  void batch(const CandleSeries& series, FeatureColumns& out, int threads, bool fresh, const FeatureColumns* externals);

  FeatureSet set_;
  Timeframe base_;
  std::string version_;
  std::vector<std::string> columns_;
  std::vector<std::unique_ptr<Node>> nodes_;  // in dependency order
  std::vector<Resampler> resamplers_;         // one per higher timeframe
  std::size_t warmup_bars_ = 0, first_value_bars_ = 0;
  std::string warmup_feature_;
  void emit_all();  // current_ from the indicators' state
  FeatureSet inputs_subset(const std::vector<std::string>& columns) const;  // the features these columns come from
  void plan();      // direct_ and rest_ from nodes_
  struct Direct {
    Indicator* indicator;
    std::size_t first_column;
  };
  std::vector<Direct> direct_;  // base-timeframe nodes that read candles: one call each per candle
  struct Twin {
    Indicator* indicator;
    const void* state;  // the twin in direct_ that keeps the state both would hold
    std::size_t first_column;
  };
  std::vector<Twin> twins_;               // base-timeframe nodes that update from a twin's state (Indicator::twin_key)
  std::vector<Node*> rest_;               // the other base-timeframe nodes, in dependency order
  std::vector<double> current_;           // the row as of the last update: every node emits into it as it updates; then the externals
  std::size_t external_count_ = 0;
  std::vector<double> tolerance_;         // per column (tolerances())
  mutable std::vector<double> last_row_;  // the last emitted row, for the kill switch
  std::map<std::string, std::string> feature_texts_;  // per feature, its canonical text when built (carry_state compares them)
  bool has_data_ = false, paused_ = false;
  TimestampMs last_ts_ = 0;
};

// SHA-256 (16 hex) of a row of values: each as its 8 IEEE-754 bytes, little-endian, all
// NaNs as one quiet NaN.
std::string row_hash(const double* row, std::size_t n);

}  // namespace onepath
