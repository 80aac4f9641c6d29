#include "enrich/enricher.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/memory_budget.hpp"
#include "core/sha256.hpp"
#include "core/state_archive.hpp"
#include "enrich/cross_symbol.hpp"
#include "infer/model_feature.hpp"

namespace onepath {

// Where one input value of a feature-fed node comes from: another feature's column, or a
// candle source.
struct Enricher::Input {
  bool from_column = false;
  std::size_t column = 0;
  Source source = Source::close;
};

struct Enricher::Node {
  std::unique_ptr<Indicator> indicator;
  std::string name;
  std::size_t first_column = 0, outputs = 0;
  int tf = -1;                          // -1: base timeframe, else index into resamplers_
  std::int64_t factor = 1;              // base bars per bar of its timeframe
  std::vector<Input> inputs;            // empty: the indicator reads candles itself
  std::vector<double> values;           // the inputs' values of the current candle
  std::vector<std::size_t> feeds_from;  // nodes whose columns it reads
  std::size_t need_bars = 0;            // base candles until it has settled
  std::size_t own_bars = 0;             // of those, its own settling once its inputs have
  std::size_t first_bars = 0;           // base candles until its first value (about, for higher timeframes)
  double tolerance = 0;                 // its own declared one, or its inputs' largest
  const Node* tolerance_from = nullptr; // the node that declared it
  bool external = false;                // another symbol's feature (ExternalValues)
};

namespace {

// A feature of another symbol, in the enricher of the symbol that reads it: its values are
// that symbol's, joined as-of from outside (set_externals, or a batch's external columns);
// here they only pass through, so that the features reading them find them as any column.
class ExternalValues final : public Indicator {
 public:
  ExternalValues(std::string kind, std::vector<std::string> outputs, int first_bars, int settle_bars)
      : kind_(std::move(kind)), names_(std::move(outputs)), values_(names_.size(), kNaN), first_(first_bars), settle_(settle_bars) {
    for (const auto& n : names_) views_.push_back(n);
  }
  std::string_view kind() const override { return kind_; }
  std::string params_text() const override { return {}; }
  std::span<const std::string_view> outputs() const override { return views_; }
  int series_inputs() const override { return static_cast<int>(names_.size()); }
  void update(const Candle&) override { throw std::logic_error("another symbol's feature reads no candles"); }
  void update_values(const double* x) override { std::copy_n(x, values_.size(), values_.begin()); }
  void emit(double* out) const override { std::copy(values_.begin(), values_.end(), out); }
  void update_many(const CandleSeries&, std::size_t, std::size_t, double* const*) override {
    throw std::logic_error("another symbol's feature reads no candles");
  }
  int warmup() const override { return first_ - 1; }
  int settle_bars() const override { return settle_; }
  bool ready() const override { return !std::isnan(values_[0]); }
  void reset() override { std::fill(values_.begin(), values_.end(), kNaN); }
  std::string save() const override {
    StateWriter w;
    w.all(std::string("external"), values_);
    return w.bytes();
  }
  void load(std::string_view bytes) override {
    StateReader r(bytes);
    std::string magic;
    std::vector<double> v;
    r.all(magic, v);
    if (magic != "external" || v.size() != values_.size() || !r.at_end()) throw InputError("another symbol's feature: state of another shape");
    values_ = std::move(v);
  }
  std::size_t state_bytes() const override { return sizeof(*this) + values_.size() * sizeof(double); }
  std::unique_ptr<Indicator> clone() const override {
    auto copy = std::make_unique<ExternalValues>(kind_, names_, first_, settle_);  // its views into its own names
    copy->values_ = values_;
    return copy;
  }

 private:
  std::string kind_;
  std::vector<std::string> names_;
  std::vector<std::string_view> views_;
  std::vector<double> values_;
  int first_, settle_;
};

[[noreturn]] void spec_error(const FeatureSpec& f, const std::string& why) {
  throw InputError((f.origin.empty() ? "feature '" + f.name + "'" : f.origin) + ": " + why);
}

// Prices above 0 and volume at least 0, all finite: a comparison with NaN is false, and a
// value that passes its lower bound is finite when it is not above the largest double.
bool positive_candle(const Candle& c) {
  constexpr double big = std::numeric_limits<double>::max();
  return (c.open > 0) & (c.open <= big) & (c.high > 0) & (c.high <= big) & (c.low > 0) & (c.low <= big) & (c.close > 0) & (c.close <= big) &
         (c.volume >= 0) & (c.volume <= big);
}

}  // namespace

namespace {
// A canonical text (one feature per line) on one line, for a message.
std::string one_line(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  for (char& c : text)
    if (c == '\n') c = '|';
  return text;
}
}  // namespace

Enricher::Enricher(FeatureSet set, Timeframe base) : set_(std::move(set)), base_(base) {
  // Each feature's text once (a model's resolves its file or registry version): the version
  // is made of them, and a reload's carry_state compares them.
  std::string text;
  for (const auto& f : set_.features) text += feature_texts_[f.name] = canonical_text(f);
  version_ = version_of_canonical_text(text);
  // Build every node and its columns, in the file's order.
  std::vector<std::unique_ptr<Node>> built;
  std::map<std::string, std::pair<std::size_t, std::size_t>> column_of;  // column name -> (node, column)
  std::map<std::string, std::size_t> node_of;
  std::vector<Timeframe> tfs;
  // Windows are allocated when built: their size is checked against the memory budget
  // first (64 bytes per row of window covers every kind's bookkeeping).
  double window_bytes = 0;
  for (const auto& f : set_.features)
    for (const char* key : {"period", "k_period", "slow"})
      if (auto it = f.indicator.params.find(key); it != f.indicator.params.end())
        if (const double* v = std::get_if<double>(&it->second); v && *v > 0) window_bytes += *v * 64;
  check_memory(window_bytes, "the windows of " + std::to_string(set_.features.size()) + " features (" + set_.origin + ")");
  std::vector<std::pair<std::string, std::pair<std::size_t, std::size_t>>> sources;  // another symbol read -> its first values, warm-up
  for (const auto& f : set_.features) {
    if (f.name.empty()) spec_error(f, "a feature needs a name");
    for (char ch : f.name)
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) spec_error(f, "names use letters, digits and _ only");
    auto n = std::make_unique<Node>();
    n->name = f.name;
    if (f.lag > 0 && f.symbol.empty()) spec_error(f, "'lag' shifts another symbol's feature: it goes with symbol = \"...\"");
    if (!f.symbol.empty()) {
      if (f.timeframe && !(*f.timeframe == base_) &&
          (f.timeframe->duration_ms() < base_.duration_ms() || f.timeframe->duration_ms() % base_.duration_ms() != 0))
        spec_error(f, "timeframe " + std::string(f.timeframe->name()) + " is not a whole multiple of the data's " + std::string(base_.name()));
      auto found = std::find_if(sources.begin(), sources.end(), [&](const auto& src) { return src.first == f.symbol; });
      if (found == sources.end()) {  // how long that symbol's features take (a probe over its part of the set)
        Enricher probe(symbol_subset(set_, f.symbol), base_);
        found = sources.insert(sources.end(), {f.symbol, {probe.first_value_bars(), probe.warmup_bars()}});
      }
      std::vector<std::string> outs;
      for (auto out : (f.indicator.kind == "model" ? make_model_feature(f) : make_indicator(f.indicator))->outputs()) outs.emplace_back(out);
      const auto [first, settle] = found->second;
      n->indicator = std::make_unique<ExternalValues>(f.indicator.kind + "@" + f.symbol, std::move(outs), static_cast<int>(std::max<std::size_t>(first, 1) + f.lag),
                                                      static_cast<int>(std::max<std::size_t>(settle, 1) + f.lag));
      n->external = true;
    } else if (f.indicator.kind == "model") {
      n->indicator = make_model_feature(f);  // its errors name the feature already
    } else {
      if (!f.inputs.empty()) spec_error(f, "'inputs' (a list of columns) is for kind = \"model\"; an indicator reads input / input2");
      try {
        n->indicator = make_indicator(f.indicator);
      } catch (const InputError& e) {
        spec_error(f, e.what());
      }
    }
    if (!n->external && f.timeframe && !(*f.timeframe == base_)) {  // another symbol's: its enricher resamples
      const Timeframe& t = *f.timeframe;
      if (t.duration_ms() < base_.duration_ms() || t.duration_ms() % base_.duration_ms() != 0)
        spec_error(f, "timeframe " + std::string(t.name()) + " is not a whole multiple of the data's " + std::string(base_.name()));
      std::size_t k = 0;
      while (k < tfs.size() && !(tfs[k] == t)) ++k;
      if (k == tfs.size()) tfs.push_back(t);
      n->tf = static_cast<int>(k);
      n->factor = t.duration_ms() / base_.duration_ms();
    }
    n->first_column = columns_.size();
    auto outs = n->indicator->outputs();
    n->outputs = outs.size();
    for (auto out : outs) {
      std::string col = outs.size() == 1 ? f.name : f.name + "_" + std::string(out);
      if (column_of.count(col)) spec_error(f, "column '" + col + "' is defined twice");
      column_of[col] = {built.size(), columns_.size()};
      columns_.push_back(col);
    }
    if (node_of.count(f.name)) spec_error(f, "the name '" + f.name + "' is used twice");
    node_of[f.name] = built.size();
    built.push_back(std::move(n));
  }
  for (const auto& t : tfs) resamplers_.emplace_back(base_, t);

  // Resolve feature inputs.
  for (std::size_t i = 0; i < built.size(); ++i) {
    const FeatureSpec& f = set_.features[i];
    Node& n = *built[i];
    if (n.external) {  // its inputs are its own symbol's business; its values come from outside
      for (const std::string* read : {&f.input, &f.input2})
        if (!read->empty() && node_of.count(*read) && set_.features[node_of[*read]].symbol != f.symbol)
          spec_error(f, "input '" + *read + "' is not a feature of " + f.symbol + "; a feature of another symbol reads that symbol's features only");
      for (const auto& read : f.inputs)
        if (node_of.count(read) && set_.features[node_of[read]].symbol != f.symbol)
          spec_error(f, "input '" + read + "' is not a feature of " + f.symbol + "; a feature of another symbol reads that symbol's features only");
      for (std::size_t k = 0; k < n.outputs; ++k) n.inputs.push_back({true, columns_.size() + external_count_++, Source::close});
      n.values.assign(n.inputs.size(), 0.0);
      continue;
    }
    if (f.input.empty() && f.input2.empty() && f.inputs.empty()) continue;
    int needs = n.indicator->series_inputs();
    if (needs == 0) spec_error(f, f.indicator.kind + " reads whole candles; it cannot take another feature as input");
    for (int k = 0; k < needs; ++k) {
      const std::string& name = !f.inputs.empty() ? f.inputs[static_cast<std::size_t>(k)] : k == 0 ? f.input : f.input2;
      Input in;
      if (name.empty()) {  // this one comes from the candle
        auto it = f.indicator.params.find(k == 0 ? "input" : "input2");
        in.source = it != f.indicator.params.end() ? parse_source(std::get<std::string>(it->second)) : (k == 0 ? Source::close : Source::volume);
      } else {
        auto it = column_of.find(name);
        if (it == column_of.end()) spec_error(f, "input '" + name + "' is not a feature column of this set");
        Node& from = *built[it->second.first];
        if (n.tf >= 0 && from.tf != n.tf)
          spec_error(
              f, "input '" + name +
                     "' has another timeframe; a higher-timeframe feature reads candles or features of its own timeframe, a base one may read any");
        in.from_column = true;
        in.column = it->second.second;
        n.feeds_from.push_back(it->second.first);
      }
      n.inputs.push_back(in);
    }
    n.values.assign(n.inputs.size(), 0.0);
  }

  // Dependency order (inputs first); a cycle is an error naming its members.
  std::vector<int> state(built.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<std::size_t> order;
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    if (state[i] == 2) return;
    if (state[i] == 1) spec_error(set_.features[i], "its inputs form a cycle");
    state[i] = 1;
    for (std::size_t j : built[i]->feeds_from) visit(j);
    state[i] = 2;
    order.push_back(i);
  };
  for (std::size_t i = 0; i < built.size(); ++i) visit(i);

  // Warm-up in base candles: what its inputs need, then its own settling in its timeframe.
  for (std::size_t i : order) {
    Node& n = *built[i];
    std::size_t inputs_need = 0, inputs_first = 0;
    for (std::size_t j : n.feeds_from) {
      inputs_need = std::max(inputs_need, built[j]->need_bars);
      inputs_first = std::max(inputs_first, built[j]->first_bars);
    }
    // Its first value: after its inputs' first values, its own warm-up in its timeframe.
    n.first_bars = inputs_first + static_cast<std::size_t>(n.indicator->warmup() + 1) * static_cast<std::size_t>(n.factor);
    int settle = n.indicator->settle_bars();
    if (settle <= 0) settle = n.indicator->warmup() + 1;
    n.own_bars = static_cast<std::size_t>(settle) * static_cast<std::size_t>(n.factor) + static_cast<std::size_t>(n.factor - 1);
    n.need_bars = inputs_need + n.own_bars;
    if (n.need_bars > warmup_bars_) warmup_bars_ = n.need_bars, warmup_feature_ = n.name;
    first_value_bars_ = std::max(first_value_bars_, n.first_bars + static_cast<std::size_t>(n.factor - 1));
    // A difference within an input's tolerance reaches what is computed from it.
    if (n.indicator->tolerance() > 0) n.tolerance = n.indicator->tolerance(), n.tolerance_from = &n;
    for (std::size_t j : n.feeds_from)
      if (built[j]->tolerance > n.tolerance) n.tolerance = built[j]->tolerance, n.tolerance_from = built[j]->tolerance_from;
  }
  // Nodes in dependency order; remap feeds_from to the new positions.
  std::vector<std::size_t> position(built.size());
  for (std::size_t p = 0; p < order.size(); ++p) position[order[p]] = p;
  for (std::size_t i : order) {
    for (auto& j : built[i]->feeds_from) j = position[j];
    nodes_.push_back(std::move(built[i]));
  }
  current_.assign(columns_.size() + external_count_, kNaN);  // then the other symbols' values (set_externals)
  tolerance_.assign(columns_.size(), 0.0);
  for (const auto& n : nodes_) std::fill_n(tolerance_.begin() + static_cast<std::ptrdiff_t>(n->first_column), n->outputs, n->tolerance);
  emit_all();
  last_row_.assign(current_.begin(), current_.begin() + static_cast<std::ptrdiff_t>(columns_.size()));
  plan();
  // A model trained by `onepath train` pins how its inputs were computed (its manifest).
  for (const auto& f : set_.features) {
    if (f.indicator.kind != "model") continue;
    const ModelRef model = resolve_model(f);
    const auto& manifest = model.manifest;
    if (!manifest) continue;
    if (manifest->inputs != f.inputs)
      spec_error(f, "enrichment_config_mismatch: model " + model.label + " was trained on other inputs (its manifest lists them)");
    if (!manifest->inputs_config_sha256.empty() && manifest->inputs_config_sha256 != inputs_config_sha256(f.inputs)) {
      std::string which;  // the inputs computed otherwise, when the manifest keeps each one's config
      for (const auto& [input, trained] : manifest->inputs_config) {
        const std::string now = input_config_text(input);
        if (now != trained) which += "; input '" + input + "' was trained as [" + one_line(trained) + "], this set computes [" + one_line(now) + "]";
      }
      spec_error(f, "enrichment_config_mismatch: model " + model.label +
                        " was trained on inputs computed otherwise (another kind, parameter, timeframe or input of a feature it reads); its manifest "
                        "pins inputs_config_sha256 " +
                        manifest->inputs_config_sha256.substr(0, 16) + ", this set gives " + inputs_config_sha256(f.inputs).substr(0, 16) + which);
    }
  }
  const char* env = std::getenv("ONEPATH_ENRICHMENT_PAUSE");
  if (env && std::string_view(env) == "1") pause(true);
}

Enricher::~Enricher() = default;

// Per node (dependency order): computed otherwise than in `old`, or reading one that is.
std::vector<bool> Enricher::dirty_against(const Enricher& old) const {
  std::vector<bool> dirty(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto it = old.feature_texts_.find(nodes_[i]->name);
    dirty[i] = it == old.feature_texts_.end() || it->second != feature_texts_.at(nodes_[i]->name);
    for (std::size_t j : nodes_[i]->feeds_from) dirty[i] = dirty[i] || dirty[j];
  }
  return dirty;
}

std::size_t Enricher::warmup_bars_beyond(const Enricher& old) const {
  const std::vector<bool> dirty = dirty_against(old);
  std::vector<std::size_t> need(nodes_.size(), 0);  // what a dirty node needs, its clean inputs carried
  std::size_t most = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!dirty[i]) continue;
    for (std::size_t j : nodes_[i]->feeds_from) need[i] = std::max(need[i], need[j]);
    need[i] += nodes_[i]->own_bars;
    most = std::max(most, need[i]);
  }
  return most;
}

void Enricher::carry_state(const Enricher& old) {
  if (!old.has_data_ || !(old.base_ == base_)) return;
  const std::vector<bool> dirty = dirty_against(old);
  for (const Twin& t : old.twins_) t.indicator->adopt_twin(t.state);  // each old node's own state complete
  for (const Twin& t : twins_) t.indicator->adopt_twin(t.state);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (dirty[i]) continue;
    Node& n = *nodes_[i];
    for (const auto& from : old.nodes_) {
      if (from->name != n.name) continue;
      n.indicator->load(from->indicator->save());
      std::copy_n(old.current_.begin() + static_cast<std::ptrdiff_t>(from->first_column), n.outputs,
                  current_.begin() + static_cast<std::ptrdiff_t>(n.first_column));
      std::copy_n(old.last_row_.begin() + static_cast<std::ptrdiff_t>(from->first_column), n.outputs,
                  last_row_.begin() + static_cast<std::ptrdiff_t>(n.first_column));
    }
  }
  plan();  // twins take their keeper's state afresh
}

std::pair<std::size_t, std::size_t> Enricher::columns_of(const std::string& feature) const {
  for (const auto& n : nodes_)
    if (n->name == feature) return {n->first_column, n->outputs};
  throw InputError(set_.origin + ": no feature '" + feature + "'");
}

std::vector<std::string> Enricher::never_ready(std::size_t candles) const {
  std::vector<std::string> out;
  for (const auto& n : nodes_)
    if (n->first_bars > candles) out.push_back(n->name + " (its first value needs about " + std::to_string(n->first_bars) + " candles)");
  return out;
}

std::string Enricher::inputs_config_sha256(const std::vector<std::string>& columns) const {
  return sha256_hex(canonical_text(inputs_subset(columns)));
}

std::string Enricher::input_config_text(const std::string& column) const { return canonical_text(inputs_subset({column})); }

FeatureSet Enricher::inputs_subset(const std::vector<std::string>& columns) const {
  std::map<std::string, std::size_t> spec_of;  // column -> feature
  for (std::size_t i = 0; i < set_.features.size(); ++i)
    for (const auto& n : nodes_)
      if (n->name == set_.features[i].name)
        for (std::size_t k = 0; k < n->outputs; ++k) spec_of[columns_[n->first_column + k]] = i;
  std::vector<bool> keep(set_.features.size(), false);
  std::function<void(const std::string&)> add = [&](const std::string& column) {
    auto it = spec_of.find(column);
    if (it == spec_of.end()) throw InputError(set_.origin + ": '" + column + "' is not a column of this feature set");
    if (keep[it->second]) return;
    keep[it->second] = true;
    const FeatureSpec& f = set_.features[it->second];
    for (const std::string& read : {f.input, f.input2})
      if (spec_of.count(read)) add(read);
    for (const auto& read : f.inputs) add(read);
  };
  for (const auto& c : columns) add(c);
  FeatureSet subset;
  for (std::size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) subset.features.push_back(set_.features[i]);
  return subset;
}

std::vector<Enricher::Tolerance> Enricher::declared_tolerances() const {
  std::vector<Tolerance> out;
  for (const auto& n : nodes_)
    for (std::size_t k = 0; k < n->outputs && n->tolerance > 0; ++k)
      out.push_back({columns_[n->first_column + k], std::string(n->tolerance_from->indicator->kind()), n->tolerance_from->indicator->tolerance_why(),
                     n->tolerance});
  return out;
}

void Enricher::reset() {
  for (auto& n : nodes_) n->indicator->reset();
  for (auto& r : resamplers_) r = Resampler(base_, r.target());
  emit_all();
  has_data_ = false;
  last_ts_ = 0;
}

void Enricher::emit_all() {
  for (const auto& n : nodes_) n->indicator->emit(current_.data() + n->first_column);
}

void Enricher::pause(bool on) {
  if (on && !paused_)
    log::event(log::Level::critical, "enrichment_paused_by_operator",
               {{"feature_set_version", version_}, {"last_ts", has_data_ ? format_iso(last_ts_) : std::string("none")}});
  if (!on && paused_) log::warn("enrichment_resumed", {{"feature_set_version", version_}});
  paused_ = on;
}

void Enricher::check_candle(const Candle& c, std::int64_t row) const {
  bool late = has_data_ && c.ts <= last_ts_;
  if (!late && positive_candle(c)) [[likely]]
    return;
  refuse_candle(c, row, late);
}

void Enricher::refuse_candle(const Candle& c, std::int64_t row, bool late) const {
  std::string where = row >= 0 ? "row " + std::to_string(row + 1) + ", " : "";
  if (late)
    throw InputError("enrich: " + where + "candle " + format_iso(c.ts) + " is not after the last one (" + format_iso(last_ts_) +
                     "); late or repeated candles are rejected and change nothing");
  throw InputError("enrich: " + where + "candle " + format_iso(c.ts) +
                   " has a value that is not finite, a price at or below 0 or a negative volume; rejected, nothing changed");
}

// Every node emits as it updates (one call for those reading candles): the row is ready
// without a second pass, and the nodes that read it find their inputs there.
void Enricher::feed(Node& n, const Candle& c) {
  double* out = current_.data() + n.first_column;
  if (n.inputs.empty()) {
    n.indicator->update_emit(c, out);
    return;
  }
  double* x = n.values.data();
  for (std::size_t k = 0; k < n.inputs.size(); ++k) x[k] = n.inputs[k].from_column ? current_[n.inputs[k].column] : select(c, n.inputs[k].source);
  n.indicator->update_values(x);
  n.indicator->emit(out);
}

void Enricher::update(const Candle& c) {
  check_candle(c, -1);
  if (paused_) return;
  // Higher timeframes first: the bars this candle completes (a late one and/or its own).
  Candle done[2];
  for (std::size_t r = 0; r < resamplers_.size(); ++r) {
    int count = 0;
    resamplers_[r].push(c, [&](const Candle& bar) { done[count++] = bar; });
    for (int b = 0; b < count; ++b)
      for (auto& n : nodes_)
        if (n->tf == static_cast<int>(r)) feed(*n, done[b]);
  }
  for (const Direct& d : direct_) d.indicator->update_emit(c, current_.data() + d.first_column);
  for (const Twin& t : twins_) t.indicator->update_twin(t.state, c, current_.data() + t.first_column);
  for (Node* n : rest_) feed(*n, c);
  has_data_ = true;
  last_ts_ = c.ts;
}

// The streaming order: the base-timeframe nodes that read candles read nothing else, so
// they go first, in a flat list (no per-node checks on the hot path); the nodes that read
// other columns follow in dependency order. Rebuilt whenever the indicators are replaced.
// Twins among the nodes that read candles (natr beside atr of the same period, stddev
// beside bbands, willr beside stoch) share one update of their common state: the first
// keeps it, the others update the rest of theirs from it and take it as their own before a
// save. Their own copy is stale meanwhile; nothing else reads it on the streaming path, and
// a batch run or a load starts every node afresh.
void Enricher::plan() {
  direct_.clear();
  twins_.clear();
  rest_.clear();
  std::map<std::string, const Indicator*> keeper;  // twin key -> the node that updates
  for (auto& n : nodes_) {
    if (n->tf >= 0) continue;
    if (!n->inputs.empty()) {
      rest_.push_back(n.get());
      continue;
    }
    if (std::string key = n->indicator->twin_key(); !key.empty()) {
      auto [it, first] = keeper.emplace(key, n->indicator.get());
      if (!first) {
        twins_.push_back({n->indicator.get(), it->second->twin_state(), n->first_column});
        continue;
      }
    }
    direct_.push_back({n->indicator.get(), n->first_column});
  }
}

void Enricher::emit(double* row) const {
  if (!paused_) std::copy_n(current_.begin(), columns_.size(), last_row_.begin());
  std::copy(last_row_.begin(), last_row_.end(), row);  // no columns: nothing (memcpy may not take null)
}

std::vector<double> Enricher::emit() const {
  std::vector<double> row(columns_.size());
  emit(row.data());
  return row;
}

void Enricher::bootstrap(const CandleSeries& history, bool allow_partial, const FeatureColumns* externals) {
  if (history.empty()) throw InputError("enrichment_bootstrap_empty: a bootstrap needs history; none was given");
  if (history.size() < warmup_bars_) {
    log::event(allow_partial ? log::Level::warn : log::Level::error, "enrichment_bootstrap_insufficient_history",
               {{"candles", history.size()}, {"warmup_bars", warmup_bars_}, {"partial_allowed", allow_partial ? "yes" : "no"}});
    if (!allow_partial)
      throw InputError("enrichment_bootstrap_insufficient_history: " + std::to_string(history.size()) + " candles given, the feature set needs " +
                       std::to_string(warmup_bars_) +
                       " (WARMUP_BARS) for its rows to equal a longer history's");
  }
  FeatureColumns cols;
  enrich_batch(history, cols, 1, externals);
}

FeatureColumns Enricher::enrich_batch(const CandleSeries& s, int threads) {
  FeatureColumns cols;
  enrich_batch(s, cols, threads);
  return cols;
}

void Enricher::enrich_batch(const CandleSeries& s, FeatureColumns& cols, int threads, const FeatureColumns* externals) {
  batch(s, cols, threads, true, externals);
}

void Enricher::continue_batch(const CandleSeries& s, FeatureColumns& cols, const FeatureColumns* externals) { batch(s, cols, 1, false, externals); }

void Enricher::set_externals(const double* values) {
  std::copy_n(values, external_count_, current_.begin() + static_cast<std::ptrdiff_t>(columns_.size()));
}

void Enricher::batch(const CandleSeries& s, FeatureColumns& cols, int threads, bool fresh, const FeatureColumns* externals) {
  if (externals && (externals->size() != external_count_ || std::any_of(externals->begin(), externals->end(), [&](const auto& c) { return c.size() != s.size(); })))
    throw std::logic_error("enrich: external columns of another shape than the series and the set's other-symbol features");
  if (fresh) reset();
  else
    for (const Twin& t : twins_) t.indicator->adopt_twin(t.state);  // each node continues its own state below
  const std::size_t n = s.size();
  const bool had_data = has_data_;
  const TimestampMs last_ts = last_ts_;
  try {
    for (std::size_t i = 0; i < n; ++i) {  // the checks update() makes, before any state moves
      check_candle(s[i], static_cast<std::int64_t>(i));
      has_data_ = true, last_ts_ = s.ts[i];
    }
  } catch (...) {
    has_data_ = had_data, last_ts_ = last_ts;
    throw;
  }
  has_data_ = had_data, last_ts_ = last_ts;
  check_memory(static_cast<double>(n) * static_cast<double>(columns_.size()) * 8 * (resamplers_.empty() ? 1 : 2),
               "a feature matrix of " + std::to_string(n) + " rows x " + std::to_string(columns_.size()) + " columns");
  cols.resize(columns_.size());
  for (auto& c : cols) c.resize(n);  // every row is written below
  if (n == 0) return;

  // Higher-timeframe bars, and the base row at which each completed.
  std::vector<CandleSeries> htf(resamplers_.size());
  std::vector<std::vector<std::size_t>> done_row(resamplers_.size());
  for (std::size_t r = 0; r < resamplers_.size(); ++r)
    for (std::size_t i = 0; i < n; ++i) resamplers_[r].push(s[i], [&](const Candle& bar) { htf[r].push_back(bar), done_row[r].push_back(i); });
  // Columns at each node's own timeframe (for higher ones, one value per higher bar).
  FeatureColumns own(columns_.size());
  for (const auto& node : nodes_)
    for (std::size_t k = 0; k < node->outputs; ++k) own[node->first_column + k].assign(node->tf < 0 ? 0 : htf[node->tf].size(), kNaN);
  const std::vector<double> missing(external_count_ && !externals ? n : 0, kNaN);  // no other symbol given: its features are NaN
  auto base_column = [&](std::size_t c) -> const std::vector<double>& {
    return c < columns_.size() ? cols[c] : externals ? (*externals)[c - columns_.size()] : missing;
  };
  auto own_column = [&](const Node& node, std::size_t k) -> std::vector<double>& {
    return node.tf < 0 ? cols[node.first_column + k] : own[node.first_column + k];
  };

  auto run_node = [&](Node& node) {
    const CandleSeries& series = node.tf < 0 ? s : htf[node.tf];
    const std::size_t rows = series.size();
    std::vector<double*> out(node.outputs);
    for (std::size_t k = 0; k < node.outputs; ++k) out[k] = own_column(node, k).data();
    if (node.inputs.empty()) {
      node.indicator->update_many(series, 0, rows, out.data());
    } else {
      std::vector<double> x(node.inputs.size()), row(node.outputs);
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t k = 0; k < node.inputs.size(); ++k) {
          const Input& in = node.inputs[k];
          x[k] = in.from_column ? (node.tf < 0 ? base_column(in.column)[i] : own[in.column][i]) : select(series, in.source, i);
        }
        node.indicator->update_values(x.data());
        node.indicator->emit(row.data());
        for (std::size_t k = 0; k < node.outputs; ++k) out[k][i] = row[k];
      }
    }
    if (node.tf >= 0) {  // every base row shows the last completed higher bar
      const auto& done = done_row[node.tf];
      for (std::size_t k = 0; k < node.outputs; ++k) {
        std::vector<double>& base_col = cols[node.first_column + k];
        const std::vector<double>& h = own[node.first_column + k];
        // before its first higher bar here: the one before (none on a fresh start)
        std::fill(base_col.begin(), base_col.begin() + static_cast<std::ptrdiff_t>(done.empty() ? n : done[0]),
                  fresh ? kNaN : current_[node.first_column + k]);
        for (std::size_t b = 0; b < done.size(); ++b) {
          std::size_t end = b + 1 < done.size() ? done[b + 1] : n;
          for (std::size_t i = done[b]; i < end; ++i) base_col[i] = h[b];
        }
      }
    }
  };

  // Levels of the dependency graph: a node runs after everything it reads.
  std::vector<std::size_t> level(nodes_.size(), 0);
  std::size_t levels = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    for (std::size_t j : nodes_[i]->feeds_from) level[i] = std::max(level[i], level[j] + 1);
    levels = std::max(levels, level[i] + 1);
  }
  for (std::size_t l = 0; l < levels; ++l) {
    std::vector<Node*> batch;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (level[i] == l) batch.push_back(nodes_[i].get());
    const std::size_t workers = std::min<std::size_t>(std::max(threads, 1), batch.size());
    if (workers <= 1) {
      for (Node* node : batch) run_node(*node);
      continue;
    }
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(workers);
    for (std::size_t w = 0; w < workers; ++w)
      pool.emplace_back([&, w] {
        try {
          for (std::size_t b = w; b < batch.size(); b += workers) run_node(*batch[b]);
        } catch (...) {
          errors[w] = std::current_exception();
        }
      });
    for (auto& t : pool) t.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }

  // The state a streaming run would have left, its last row emitted.
  for (std::size_t k = 0; k < columns_.size(); ++k) last_row_[k] = current_[k] = cols[k][n - 1];
  for (std::size_t k = columns_.size(); k < current_.size(); ++k) current_[k] = base_column(k)[n - 1];
  has_data_ = true;
  last_ts_ = s.ts[n - 1];
}

std::size_t Enricher::state_bytes() const {
  std::size_t bytes = sizeof(*this) + current_.size() * sizeof(double) * 2 + resamplers_.size() * sizeof(Resampler);
  for (const auto& n : nodes_) bytes += sizeof(Node) + n->indicator->state_bytes();
  return bytes;
}

namespace {
constexpr std::uint32_t kSnapshotFormat = 1;
constexpr std::size_t kChecksumHex = 64;
}  // namespace

std::string Enricher::save_snapshot(std::string_view symbol) const {
  StateWriter w;
  std::vector<std::string> nodes;
  for (const Twin& t : twins_) t.indicator->adopt_twin(t.state);  // equal by construction; saved as its own
  for (const auto& n : nodes_) nodes.push_back(n->indicator->save());
  w.all(std::string("onepath-enricher"), kSnapshotFormat, std::string(symbol), std::string(base_.name()), version_, has_data_, last_ts_, nodes,
        current_, last_row_);
  for (const auto& r : resamplers_) w(r);
  return w.bytes() + sha256_hex(w.bytes());
}

void Enricher::load_snapshot(std::string_view bytes, std::string_view symbol) {
  if (bytes.size() < kChecksumHex) throw InputError("enrichment snapshot is truncated");
  std::string_view body = bytes.substr(0, bytes.size() - kChecksumHex);
  if (sha256_hex(body) != bytes.substr(bytes.size() - kChecksumHex)) throw InputError("enrichment snapshot is corrupt (checksum mismatch)");
  StateReader r(body);
  std::string magic, sym, tf, version;
  std::uint32_t format = 0;
  r.all(magic, format);
  if (magic != "onepath-enricher" || format != kSnapshotFormat)
    throw InputError("not an enrichment snapshot of format " + std::to_string(kSnapshotFormat));
  bool has = false;
  TimestampMs last = 0;
  std::vector<std::string> nodes;
  std::vector<double> current, last_row;
  r.all(sym, tf, version, has, last, nodes, current, last_row);
  if (sym != symbol || tf != base_.name() || version != version_)
    throw InputError("enrichment snapshot belongs to (" + sym + ", " + tf + ", " + version + "), not (" + std::string(symbol) + ", " +
                     std::string(base_.name()) + ", " + version_ + ")");
  if (nodes.size() != nodes_.size() || current.size() != current_.size() || last_row.size() != last_row_.size())
    throw InputError("enrichment snapshot does not fit this feature set");
  std::vector<Resampler> resamplers = resamplers_;
  for (auto& rs : resamplers) r(rs);
  if (!r.at_end()) throw InputError("enrichment snapshot has trailing bytes");
  // Every part is checked; now load the indicators, all or none.
  std::vector<std::unique_ptr<Indicator>> loaded;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    loaded.push_back(nodes_[i]->indicator->clone());
    loaded.back()->load(nodes[i]);
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) nodes_[i]->indicator = std::move(loaded[i]);
  plan();
  resamplers_ = std::move(resamplers);
  current_ = std::move(current);
  emit_all();  // a snapshot of an older build kept only the columns other features read
  last_row_ = std::move(last_row);
  has_data_ = has;
  last_ts_ = last;
}

std::string row_hash(const double* row, std::size_t n) {
  std::string bytes(n * 8, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    double v = std::isnan(row[i]) ? std::numeric_limits<double>::quiet_NaN() : row[i];
    std::uint64_t u;
    std::memcpy(&u, &v, 8);
    for (int b = 0; b < 8; ++b) bytes[i * 8 + b] = static_cast<char>((u >> (8 * b)) & 0xff);
  }
  return sha256_hex(bytes).substr(0, 16);
}

}  // namespace onepath
