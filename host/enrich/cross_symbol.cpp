#include "enrich/cross_symbol.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/state_archive.hpp"

namespace onepath {

std::vector<std::string> symbols_read(const FeatureSet& set) {
  std::vector<std::string> out;
  for (const auto& f : set.features)
    if (!f.symbol.empty() && std::find(out.begin(), out.end(), f.symbol) == out.end()) out.push_back(f.symbol);
  return out;
}

FeatureSet symbol_subset(const FeatureSet& set, const std::string& symbol) {
  FeatureSet out;
  out.origin = set.origin + " (the features of " + symbol + ")";
  for (const auto& f : set.features)
    if (f.symbol == symbol) {
      out.features.push_back(f);
      out.features.back().symbol.clear();
      out.features.back().lag = 0;
    }
  return out;
}

// One symbol read: its enricher, the rows of its last `depth` bars (a ring), and after a
// bootstrap the whole history's rows (what a batch join reads).
struct CrossSymbolJoin::Source {
  std::string symbol;
  std::size_t index = 0;  // among the run's symbols
  std::unique_ptr<Enricher> enricher;
  std::size_t depth = 1, width = 0;
  std::vector<TimestampMs> ring_ts;  // oldest first once full: position (head + i) % depth
  std::vector<double> ring;          // depth x width
  std::size_t head = 0, size = 0;
  std::vector<TimestampMs> history_ts;
  FeatureColumns history;

  // The slot of a new newest row at `ts` (the oldest one's, once full).
  double* push(TimestampMs ts) {
    const std::size_t at = (head + size) % depth;
    ring_ts[at] = ts;
    if (size < depth) ++size;
    else head = (head + 1) % depth;
    return ring.data() + at * width;
  }
  void push(TimestampMs ts, const double* row) { std::copy_n(row, width, push(ts)); }
  // The row of the bar at `ts`, or null.
  const double* row_at(TimestampMs ts) const {
    for (std::size_t i = size; i-- > 0;) {
      const std::size_t at = (head + i) % depth;
      if (ring_ts[at] == ts) return ring.data() + at * width;
      if (ring_ts[at] < ts) return nullptr;
    }
    return nullptr;
  }
};

CrossSymbolJoin::CrossSymbolJoin(const FeatureSet& set, Timeframe tf, const std::vector<std::string>& symbols)
    : set_(set), tf_(tf), symbols_(symbols), source_of_symbol_(symbols.size(), -1) {
  for (const auto& name : symbols_read(set)) {
    const auto it = std::find(symbols.begin(), symbols.end(), name);
    if (it == symbols.end()) {
      std::string run;
      for (const auto& s : symbols) run += (run.empty() ? "" : ", ") + s;
      const auto f = std::find_if(set.features.begin(), set.features.end(), [&](const FeatureSpec& x) { return x.symbol == name; });
      throw InputError((f->origin.empty() ? "feature '" + f->name + "'" : f->origin) + ": reads symbol '" + name + "', which is not one of this run's symbols (" +
                       run + "); add it to [data] symbols (its candles are read, whether or not the strategy trades it)");
    }
    auto src = std::make_unique<Source>();
    src->symbol = name;
    src->index = static_cast<std::size_t>(it - symbols.begin());
    src->enricher = std::make_unique<Enricher>(symbol_subset(set, name), tf);
    src->width = src->enricher->columns().size();
    source_of_symbol_[src->index] = static_cast<int>(sources_.size());
    sources_.push_back(std::move(src));
  }
  for (const auto& f : set.features) {
    if (f.symbol.empty()) continue;
    const std::size_t s = static_cast<std::size_t>(source_of_symbol_[static_cast<std::size_t>(
        std::find(symbols.begin(), symbols.end(), f.symbol) - symbols.begin())]);
    const auto [first, count] = sources_[s]->enricher->columns_of(f.name);
    for (std::size_t k = 0; k < count; ++k) links_.push_back({s, first + k, f.lag});
    sources_[s]->depth = std::max(sources_[s]->depth, f.lag + 1);
  }
  for (auto& src : sources_) {
    src->ring_ts.assign(src->depth, 0);
    src->ring.assign(src->depth * src->width, kNaN);
  }
}

CrossSymbolJoin::~CrossSymbolJoin() = default;

void CrossSymbolJoin::update(int symbol, const Candle& c) {
  const int s = source_of_symbol_[static_cast<std::size_t>(symbol)];
  if (s < 0) return;
  Source& src = *sources_[static_cast<std::size_t>(s)];
  src.enricher->update(c);
  src.enricher->emit(src.push(c.ts));
}

void CrossSymbolJoin::externals(TimestampMs ts, double* out) const {
  for (std::size_t k = 0; k < links_.size(); ++k) {
    const Link& l = links_[k];
    const double* row = sources_[l.source]->row_at(ts - static_cast<TimestampMs>(l.lag) * tf_.duration_ms());
    out[k] = row ? row[l.column] : kNaN;
  }
}

void CrossSymbolJoin::bootstrap(const std::vector<CandleSeries>& history) {
  for (auto& src : sources_) {
    const CandleSeries& h = history.at(src->index);
    src->size = src->head = 0;
    src->history_ts = h.ts;
    if (h.empty()) {
      src->history.assign(src->width, {});
      continue;
    }
    src->enricher->enrich_batch(h, src->history);
    for (std::size_t i = h.size() > src->depth ? h.size() - src->depth : 0; i < h.size(); ++i) {
      std::vector<double> row(src->width);
      for (std::size_t k = 0; k < src->width; ++k) row[k] = src->history[k][i];
      src->push(h.ts[i], row.data());
    }
  }
}

FeatureColumns CrossSymbolJoin::join(const std::vector<TimestampMs>& ts) const {
  FeatureColumns out(links_.size(), std::vector<double>(ts.size(), kNaN));
  for (std::size_t k = 0; k < links_.size(); ++k) {
    const Link& l = links_[k];
    const Source& src = *sources_[l.source];
    const TimestampMs shift = static_cast<TimestampMs>(l.lag) * tf_.duration_ms();
    std::size_t j = 0;  // both in time order: one pass
    for (std::size_t i = 0; i < ts.size(); ++i) {
      const TimestampMs want = ts[i] - shift;
      while (j < src.history_ts.size() && src.history_ts[j] < want) ++j;
      if (j < src.history_ts.size() && src.history_ts[j] == want) out[k][i] = src.history[l.column][j];
    }
  }
  return out;
}

std::size_t CrossSymbolJoin::warmup_bars_beyond(const CrossSymbolJoin* old) const {
  std::size_t most = 0;
  for (const auto& src : sources_) {
    const Source* before = nullptr;
    if (old)
      for (const auto& o : old->sources_)
        if (o->symbol == src->symbol) before = o.get();
    most = std::max(most, before ? src->enricher->warmup_bars_beyond(*before->enricher) : src->enricher->warmup_bars());
  }
  return most;
}

void CrossSymbolJoin::carry_state(const CrossSymbolJoin* old) {
  if (!old) return;
  for (auto& src : sources_)
    for (const auto& o : old->sources_) {
      if (o->symbol != src->symbol) continue;
      src->enricher->carry_state(*o->enricher);
      // The last rows as the running join has them, in this set's columns (by name).
      const auto& cols = src->enricher->columns();
      const auto& old_cols = o->enricher->columns();
      for (std::size_t k = 0; k < cols.size(); ++k) {
        const auto at = std::find(old_cols.begin(), old_cols.end(), cols[k]);
        if (at == old_cols.end()) continue;
        const std::size_t from = static_cast<std::size_t>(at - old_cols.begin());
        for (std::size_t i = 0; i < src->size && i < o->size; ++i) {
          const std::size_t mine = (src->head + src->size - 1 - i) % src->depth, theirs = (o->head + o->size - 1 - i) % o->depth;
          if (src->ring_ts[mine] == o->ring_ts[theirs]) src->ring[mine * src->width + k] = o->ring[theirs * o->width + from];
        }
      }
    }
}

std::string CrossSymbolJoin::save() const {
  StateWriter w;
  std::vector<std::string> parts;
  for (const auto& src : sources_) {
    StateWriter p;
    std::vector<TimestampMs> ts;
    std::vector<double> rows;
    for (std::size_t i = 0; i < src->size; ++i) {
      const std::size_t at = (src->head + i) % src->depth;
      ts.push_back(src->ring_ts[at]);
      rows.insert(rows.end(), src->ring.begin() + static_cast<std::ptrdiff_t>(at * src->width),
                  src->ring.begin() + static_cast<std::ptrdiff_t>((at + 1) * src->width));
    }
    p.all(src->enricher->has_data() ? src->enricher->save_snapshot(src->symbol) : std::string(), ts, rows);
    parts.push_back(p.bytes());
  }
  w.all(std::string("onepath-cross-symbol"), parts);
  return w.bytes();
}

void CrossSymbolJoin::load(std::string_view bytes) {
  StateReader r(bytes);
  std::string magic;
  std::vector<std::string> parts;
  r.all(magic, parts);
  if (magic != "onepath-cross-symbol" || !r.at_end() || parts.size() != sources_.size())
    throw InputError("the other symbols' feature state does not fit this feature set");
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    Source& src = *sources_[s];
    StateReader p(parts[s]);
    std::string snapshot;
    std::vector<TimestampMs> ts;
    std::vector<double> rows;
    p.all(snapshot, ts, rows);
    if (!p.at_end() || ts.size() > src.depth || rows.size() != ts.size() * src.width)
      throw InputError("the other symbols' feature state of " + src.symbol + " does not fit this feature set");
    if (!snapshot.empty()) src.enricher->load_snapshot(snapshot, src.symbol);
    src.head = src.size = 0;
    for (std::size_t i = 0; i < ts.size(); ++i) src.push(ts[i], rows.data() + i * src.width);
  }
}

void CrossSymbolJoin::rebuild() {
  for (auto& src : sources_) {
    auto e = std::make_unique<Enricher>(src->enricher->feature_set(), tf_);
    if (src->enricher->has_data()) e->load_snapshot(src->enricher->save_snapshot(src->symbol), src->symbol);
    src->enricher = std::move(e);
  }
}

std::vector<FeatureColumns> enrich_market(const FeatureSet& set, Timeframe tf, const std::vector<CandleSeries>& market, int threads) {
  std::vector<std::string> symbols;
  for (const auto& s : market) symbols.push_back(s.symbol);
  std::vector<FeatureColumns> out(market.size());
  std::unique_ptr<CrossSymbolJoin> join;
  if (!symbols_read(set).empty()) {
    join = std::make_unique<CrossSymbolJoin>(set, tf, symbols);
    join->bootstrap(market);
  }
  for (std::size_t s = 0; s < market.size(); ++s) {
    Enricher e(set, tf);
    if (join) {
      const FeatureColumns externals = join->join(market[s].ts);
      e.enrich_batch(market[s], out[s], threads, &externals);
    } else {
      e.enrich_batch(market[s], out[s], threads);
    }
  }
  return out;
}

}  // namespace onepath
