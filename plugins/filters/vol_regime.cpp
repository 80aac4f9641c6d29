// vol_regime: a volatility-regime filter. Per symbol it keeps the standard deviation of
// log returns over a short and a long window (closes of every candle, on_bar); an entry is
// dropped while short / long is above `max_ratio` (a market running hot: spreads widen,
// stops get run) or below `min_ratio` (a dead market). Until both windows are full it
// passes. Exits always pass (the chain does not ask filters about them).
//   [[filters]]
//   kind = "vol_regime"
//   params = { short = 20, long = 200, max_ratio = 2.0, min_ratio = 0.0 }
#include <cmath>
#include <deque>

#include "onepath/plugin.hpp"

namespace {

// Rolling variance of a window, re-summed from the window each time: exact, and cheap at
// these sizes (a filter is asked only when a strategy wants to enter).
struct Window {
  std::size_t size = 0;
  std::deque<double> values;
  void push(double x) {
    values.push_back(x);
    if (values.size() > size) values.pop_front();
  }
  bool full() const { return values.size() == size; }
  double stddev() const {
    double mean = 0;
    for (double v : values) mean += v;
    mean /= static_cast<double>(values.size());
    double ss = 0;
    for (double v : values) ss += (v - mean) * (v - mean);
    return std::sqrt(ss / static_cast<double>(values.size()));
  }
};

struct VolRegime {
  static constexpr const char* name = "vol_regime";
  static constexpr const char* description = "drops entries while short-window volatility / long-window volatility leaves [min_ratio, max_ratio]";

  struct Symbol {
    double last_close = 0;
    Window short_w, long_w;
  };
  double max_ratio, min_ratio;
  std::vector<Symbol> symbols;

  VolRegime(const onepath::Params& p, std::vector<std::string> names) {
    p.only({"short", "long", "max_ratio", "min_ratio"});
    const int s = p.integer("short", 20, 2), l = p.integer("long", 200, 3);
    if (l <= s) throw std::invalid_argument("parameter 'long' must be longer than 'short'");
    max_ratio = p.number("max_ratio", 2.0);
    min_ratio = p.number("min_ratio", 0.0);
    if (!(max_ratio > min_ratio) || min_ratio < 0) throw std::invalid_argument("need 0 <= min_ratio < max_ratio");
    symbols.resize(names.size());
    for (auto& x : symbols) x.short_w.size = static_cast<std::size_t>(s), x.long_w.size = static_cast<std::size_t>(l);
  }

  void on_bar(int32_t symbol, const onepath_candle& c) {
    Symbol& s = symbols[static_cast<std::size_t>(symbol)];
    if (s.last_close > 0 && c.close > 0) {
      const double r = std::log(c.close / s.last_close);
      s.short_w.push(r);
      s.long_w.push(r);
    }
    s.last_close = c.close;
  }

  bool apply(onepath_intent&, const onepath_filter_ctx& ctx, std::string& reason) const {
    const Symbol& s = symbols[static_cast<std::size_t>(ctx.symbol)];
    if (!s.short_w.full() || !s.long_w.full()) return true;
    const double lv = s.long_w.stddev();
    if (!(lv > 0)) return true;
    const double ratio = s.short_w.stddev() / lv;
    if (ratio > max_ratio || ratio < min_ratio) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "volatility ratio %.3f outside [%g, %g]", ratio, min_ratio, max_ratio);
      reason = buf;
      return false;
    }
    return true;
  }

  void save(std::string& out) const {
    onepath::Writer w(out);
    w(static_cast<uint64_t>(symbols.size()));
    for (const auto& s : symbols) {
      w(s.last_close);
      w(std::vector<double>(s.short_w.values.begin(), s.short_w.values.end()));
      w(std::vector<double>(s.long_w.values.begin(), s.long_w.values.end()));
    }
  }
  void load(std::string_view bytes) {
    onepath::Reader r(bytes);
    uint64_t n = 0;
    r(n);
    if (n != symbols.size()) throw std::runtime_error("saved state is for another set of symbols");
    std::vector<Symbol> restored = symbols;
    for (auto& s : restored) {
      std::vector<double> a, b;
      r(s.last_close)(a)(b);
      if (a.size() > s.short_w.size || b.size() > s.long_w.size) throw std::runtime_error("saved state does not fit the windows");
      s.short_w.values.assign(a.begin(), a.end());
      s.long_w.values.assign(b.begin(), b.end());
    }
    r.end();
    symbols = std::move(restored);
  }
};

const onepath_filter_kind vol_regime_kind = onepath::filter_kind<VolRegime>();
const onepath_filter_kind* const filters[] = {&vol_regime_kind};
const onepath_manifest manifest = {sizeof(onepath_manifest), ONEPATH_ABI_MAJOR, ONEPATH_ABI_MINOR, "regime", "1.0.0", ONEPATH_BUILD_ID,
                                   nullptr, nullptr, 0, filters, 1, nullptr, 0, nullptr, 0};

}  // namespace

extern "C" const onepath_manifest* onepath_plugin_manifest(void) { return &manifest; }
