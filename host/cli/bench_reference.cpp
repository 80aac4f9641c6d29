#include "cli/bench_reference.hpp"

#include <chrono>
#include <string>

#include "cli/plain_loops.h"

namespace onepath::cli {
namespace {

double number(const IndicatorConfig& c, const char* name, double fallback) {
  auto it = c.params.find(name);
  if (it == c.params.end()) return fallback;
  const double* d = std::get_if<double>(&it->second);
  return d ? *d : fallback;
}

}  // namespace

std::optional<double> PlainLoops::seconds(const IndicatorConfig& c, const CandleSeries& s) {
  if (auto it = c.params.find("input");
      it != c.params.end() && !(std::holds_alternative<std::string>(it->second) && std::get<std::string>(it->second) == "close"))
    return std::nullopt;
  const double *h = s.high.data(), *l = s.low.data(), *x = s.close.data(), *v = s.volume.data();
  const std::size_t n = s.size();
  double *o0 = out_[0].data(), *o1 = out_[1].data(), *o2 = out_[2].data();
  const int period = static_cast<int>(number(c, "period", c.kind == "sma" || c.kind == "bbands" || c.kind == "stddev" || c.kind == "cci" ? 20 : 14));
  const auto t0 = std::chrono::steady_clock::now();
  const std::string& k = c.kind;
  if (k == "sma")
    plain_sma(x, n, period, o0);
  else if (k == "ema")
    plain_ema(x, n, period, o0);
  else if (k == "rsi")
    plain_rsi(x, n, period, o0);
  else if (k == "trange")
    plain_trange(h, l, x, n, o0);
  else if (k == "atr")
    plain_atr(h, l, x, n, period, 0, o0);
  else if (k == "natr")
    plain_atr(h, l, x, n, period, 1, o0);
  else if (k == "adx")
    plain_adx(h, l, x, n, period, o0, o1, o2);
  else if (k == "macd")
    plain_macd(x, n, static_cast<int>(number(c, "fast", 12)), static_cast<int>(number(c, "slow", 26)), static_cast<int>(number(c, "signal", 9)), o0,
               o1, o2);
  else if (k == "bbands")
    plain_bbands(x, n, period, number(c, "k", 2.0), o0, o1, o2);
  else if (k == "stddev")
    plain_stddev(x, n, period, o0);
  else if (k == "stoch")
    plain_stoch(h, l, x, n, static_cast<int>(number(c, "k_period", 14)), static_cast<int>(number(c, "k_smooth", 3)),
                static_cast<int>(number(c, "d_period", 3)), o0, o1);
  else if (k == "willr")
    plain_willr(h, l, x, n, period, o0);
  else if (k == "cci")
    plain_cci(h, l, x, n, period, o0);
  else if (k == "obv")
    plain_obv(x, v, n, o0);
  else if (k == "mfi")
    plain_mfi(h, l, x, v, n, period, o0);
  else
    return std::nullopt;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace onepath::cli
