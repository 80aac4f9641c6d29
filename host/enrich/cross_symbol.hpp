#pragma once
// Features of another symbol (seed 002: BTC's features inside altcoin models). A feature
// that names a symbol ({ name = "btc_ret_4", kind = "returns", period = 4, symbol = "BTC" })
// is computed once per symbol it reads, by an enricher over that symbol's candles (its part
// of the set, symbol_subset), and joined as-of onto the reading symbol's bars: at a bar
// closing at T only the other symbol's bar closing at T is visible, `lag` bars earlier when
// the feature has one; a bar the other symbol does not have (a gap, or one not yet arrived)
// gives NaN, never a neighbour's value. The reading symbol's enricher takes the joined values
// as external columns (Enricher::set_externals), so its own features, models included, can
// read them like any column.
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/timeframe.hpp"
#include "enrich/enricher.hpp"

namespace onepath {

// The symbols a set's features read, in the order they first appear.
std::vector<std::string> symbols_read(const FeatureSet& set);
// The features of `symbol`, as a set of that symbol's own (symbol and lag cleared).
FeatureSet symbol_subset(const FeatureSet& set, const std::string& symbol);

// The streaming join of one run: one enricher per symbol read, the rows it gave for the last
// bars (as many as the largest lag needs).
class CrossSymbolJoin {
 public:
  // `symbols`: the run's, by index. InputError when the set reads a symbol not among them.
  CrossSymbolJoin(const FeatureSet& set, Timeframe tf, const std::vector<std::string>& symbols);
  ~CrossSymbolJoin();

  // The candle of a symbol; call for every candle of a time slice before any symbol's bar
  // at that time is enriched, so the order symbols arrive in within a slice changes nothing.
  void update(int symbol, const Candle& c);
  // The external values of a bar at `ts` (Enricher::external_count() of them).
  void externals(TimestampMs ts, double* out) const;
  std::size_t count() const { return links_.size(); }

  // Batch: from each symbol's history (one series per run symbol), the enrichers warmed and
  // their last rows kept, as if every candle had been streamed.
  void bootstrap(const std::vector<CandleSeries>& history);
  // Batch: the external columns of a series of bar times, from the histories given to the
  // last bootstrap (or of a whole market: enrich_market).
  FeatureColumns join(const std::vector<TimestampMs>& ts) const;

  // A reload: the symbols read by both take over the running join's enrichers' state of
  // every feature computed alike, and its last rows (Enricher::carry_state); `old` may be null.
  std::size_t warmup_bars_beyond(const CrossSymbolJoin* old) const;
  void carry_state(const CrossSymbolJoin* old);

  std::string save() const;
  void load(std::string_view bytes);  // InputError for another set's or a damaged state
  // The enrichers of the symbols read (rebuild: a plugin's new code with the running state).
  void rebuild();

 private:
  struct Source;
  struct Link {  // one external column: a source's column, `lag` bars earlier
    std::size_t source = 0, column = 0, lag = 0;
  };
  FeatureSet set_;
  Timeframe tf_;
  std::vector<std::string> symbols_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<int> source_of_symbol_;  // per run symbol: its source, or -1
  std::vector<Link> links_;
};

// Every symbol's feature matrix over a whole market, other symbols' features joined: the
// batch side of the streaming join (certify compares the two).
std::vector<FeatureColumns> enrich_market(const FeatureSet& set, Timeframe tf, const std::vector<CandleSeries>& market, int threads = 1);

}  // namespace onepath
