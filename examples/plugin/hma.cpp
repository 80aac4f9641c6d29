// The Hull moving average as an onepath indicator kind, written with onepath/plugin.hpp:
//   HMA(n) = WMA(2 * WMA(close, n/2) - WMA(close, n), round(sqrt(n)))
// with WMA the linearly weighted average (weights 1..m, the newest heaviest).
//   features = { { name = "hma", kind = "hma", period = 16 } }
#include <cmath>
#include <deque>

#include "onepath/plugin.hpp"

namespace {

// A weighted moving average over the last m values, recomputed from its window.
struct Wma {
  std::size_t m = 1;
  std::deque<double> window;
  double push(double x) {
    window.push_back(x);
    if (window.size() > m) window.pop_front();
    if (window.size() < m) return NAN;
    double sum = 0, weights = 0;
    for (std::size_t i = 0; i < m; ++i) sum += window[i] * static_cast<double>(i + 1), weights += static_cast<double>(i + 1);
    return sum / weights;
  }
};

struct Hma {
  static constexpr const char* name = "hma";
  static constexpr const char* description = "Hull moving average";
  static constexpr const char* outputs[] = {"value"};

  int period;
  Wma half, full, smooth;
  double value = NAN;

  explicit Hma(const onepath::Params& p) : period(p.integer("period", 16, 2)) {
    p.only({"period"});
    half.m = static_cast<std::size_t>(period / 2);
    full.m = static_cast<std::size_t>(period);
    smooth.m = static_cast<std::size_t>(std::lround(std::sqrt(period)));
  }
  bool update(const onepath_candle& c) {
    if (!std::isfinite(c.close)) return false;
    const double h = half.push(c.close), f = full.push(c.close);
    value = std::isnan(f) ? NAN : smooth.push(2 * h - f);
    return true;
  }
  void emit(double* out) const { out[0] = value; }
  int warmup() const { return period + static_cast<int>(smooth.m) - 2; }
  void reset() {
    half.window.clear(), full.window.clear(), smooth.window.clear();
    value = NAN;
  }
  void save(std::string& out) const {
    onepath::Writer w(out);
    for (const Wma* x : {&half, &full, &smooth}) w(std::vector<double>(x->window.begin(), x->window.end()));
    w(value);
  }
  void load(std::string_view bytes) {
    onepath::Reader r(bytes);
    for (Wma* x : {&half, &full, &smooth}) {
      std::vector<double> v;
      r(v);
      x->window.assign(v.begin(), v.end());
    }
    r(value);
    r.end();
  }
};

}  // namespace

static const onepath_indicator_kind hma_kind = onepath::indicator_kind<Hma>();
static const onepath_indicator_kind* const kinds[] = {&hma_kind};
static const onepath_manifest manifest = {sizeof(onepath_manifest), ONEPATH_ABI_MAJOR, ONEPATH_ABI_MINOR, "hma", "1.0.0", ONEPATH_BUILD_ID,
                                          nullptr, kinds, 1, nullptr, 0, nullptr, 0, nullptr, 0};

extern "C" const onepath_manifest* onepath_plugin_manifest(void) { return &manifest; }
