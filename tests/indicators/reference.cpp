#include "reference.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>

#include "indicators/indicator.hpp"

namespace onepath::reference {
namespace {

using LD = long double;
using Col = std::vector<double>;
const double nan = std::numeric_limits<double>::quiet_NaN();

double num(const IndicatorConfig& c, const char* key, double fallback) {
  auto it = c.params.find(key);
  return it == c.params.end() ? fallback : std::get<double>(it->second);
}
int integer(const IndicatorConfig& c, const char* key, int fallback) { return static_cast<int>(num(c, key, fallback)); }
Source source(const IndicatorConfig& c, const char* key = "input", Source fallback = Source::close) {
  auto it = c.params.find(key);
  return it == c.params.end() ? fallback : parse_source(std::get<std::string>(it->second));
}
Col series(const CandleSeries& s, Source src) {
  Col x(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) x[i] = select(s[i], src);
  return x;
}
LD mean(const Col& x, std::size_t from, std::size_t to) {  // [from, to]
  LD sum = 0;
  for (std::size_t j = from; j <= to; ++j) sum += x[j];
  return sum / static_cast<LD>(to - from + 1);
}
LD pop_var(const Col& x, std::size_t from, std::size_t to) {
  LD m = mean(x, from, to), ss = 0;
  for (std::size_t j = from; j <= to; ++j) ss += (x[j] - m) * (x[j] - m);
  return ss / static_cast<LD>(to - from + 1);
}
double tr(const CandleSeries& s, std::size_t i) {
  return std::max({s.high[i] - s.low[i], std::fabs(s.close[i - 1] - s.high[i]), std::fabs(s.close[i - 1] - s.low[i])});
}
Col sma_of(const Col& x, int p, std::size_t first = 0) {  // SMA of x over rows >= first
  Col out(x.size(), nan);
  for (std::size_t i = first + p - 1; i < x.size(); ++i) out[i] = static_cast<double>(mean(x, i - p + 1, i));
  return out;
}
// EMA seeded with the SMA of `p` values starting at `first`.
Col ema_of(const Col& x, int p, std::size_t first = 0) {
  Col out(x.size(), nan);
  if (x.size() < first + p) return out;
  LD k = 2.0L / (p + 1), e = mean(x, first, first + p - 1);
  out[first + p - 1] = static_cast<double>(e);
  for (std::size_t i = first + p; i < x.size(); ++i) out[i] = static_cast<double>(e += (x[i] - e) * k);
  return out;
}
template <class F>
Col rolling(const CandleSeries& s, int p, F f) {  // f(from, to) over full windows
  Col out(s.size(), nan);
  for (std::size_t i = p - 1; i < s.size(); ++i) out[i] = f(i - p + 1, i);
  return out;
}
LD hh(const CandleSeries& s, std::size_t a, std::size_t b) { return *std::max_element(s.high.begin() + a, s.high.begin() + b + 1); }
LD ll(const CandleSeries& s, std::size_t a, std::size_t b) { return *std::min_element(s.low.begin() + a, s.low.begin() + b + 1); }
Col typical(const CandleSeries& s) {
  Col tp(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) tp[i] = (s.high[i] + s.low[i] + s.close[i]) / 3;
  return tp;
}

std::vector<Col> adx(const CandleSeries& s, int p) {
  std::size_t n = s.size();
  Col a(n, nan), pdi(n, nan), mdi(n, nan);
  LD sp = 0, sm = 0, st = 0, sum_dx = 0, adx_v = 0;
  for (std::size_t i = 1; i < n; ++i) {
    LD up = s.high[i] - s.high[i - 1], dn = s.low[i - 1] - s.low[i];
    LD pdm = (up > dn && up > 0) ? up : 0, mdm = (dn > up && dn > 0) ? dn : 0, t = tr(s, i);
    if (i < static_cast<std::size_t>(p)) {
      sp += pdm, sm += mdm, st += t;
      continue;
    }
    sp = sp - sp / p + pdm, sm = sm - sm / p + mdm, st = st - st / p + t;
    LD pd = st != 0 ? 100 * sp / st : 0, md = st != 0 ? 100 * sm / st : 0;
    pdi[i] = static_cast<double>(pd), mdi[i] = static_cast<double>(md);
    bool has = pd + md != 0;
    LD dx = has ? 100 * std::fabs(pd - md) / (pd + md) : 0;
    if (i < static_cast<std::size_t>(2 * p - 1)) {
      sum_dx += dx;
    } else if (i == static_cast<std::size_t>(2 * p - 1)) {
      adx_v = (sum_dx + dx) / p;
      a[i] = static_cast<double>(adx_v);
    } else {
      if (has) adx_v = (adx_v * (p - 1) + dx) / p;
      a[i] = static_cast<double>(adx_v);
    }
  }
  return {a, pdi, mdi};
}

std::vector<Col> macd(const Col& x, int fast, int slow, int signal) {
  std::size_t n = x.size();
  Col line(n, nan), sig(n, nan), hist(n, nan);
  Col fe = ema_of(x, fast, slow - fast), se = ema_of(x, slow);
  Col l(n, nan);
  for (std::size_t i = slow - 1; i < n; ++i) l[i] = static_cast<double>(static_cast<LD>(fe[i]) - se[i]);
  Col sg = ema_of(l, signal, slow - 1);
  for (std::size_t i = slow + signal - 2; i < n; ++i) line[i] = l[i], sig[i] = sg[i], hist[i] = static_cast<double>(static_cast<LD>(l[i]) - sg[i]);
  return {line, sig, hist};
}

}  // namespace

std::vector<Col> compute(const IndicatorConfig& c, const CandleSeries& s) {
  const std::string& k = c.kind;
  const std::size_t n = s.size();
  const int p = integer(c, "period", 20);
  const Col x = series(s, source(c));

  if (k == "sma") return {sma_of(x, p)};
  if (k == "ema") {
    auto it = c.params.find("seed");
    if (it != c.params.end() && std::get<std::string>(it->second) == "first") {
      Col out(n, nan);
      LD e = x[0], kk = 2.0L / (p + 1);
      out[0] = x[0];
      for (std::size_t i = 1; i < n; ++i) out[i] = static_cast<double>(e += (x[i] - e) * kk);
      return {out};
    }
    return {ema_of(x, p)};
  }
  if (k == "wma")
    return {rolling(s, p, [&](std::size_t a, std::size_t b) {
      LD w = 0;
      for (std::size_t j = a; j <= b; ++j) w += static_cast<LD>(j - a + 1) * x[j];
      return static_cast<double>(w / (static_cast<LD>(p) * (p + 1) / 2));
    })};
  if (k == "rsi") {
    int q = integer(c, "period", 14);
    Col out(n, nan);
    LD g = 0, l = 0;
    for (std::size_t i = 1; i < n; ++i) {
      LD d = static_cast<LD>(x[i]) - x[i - 1], gi = d > 0 ? d : 0, li = d < 0 ? -d : 0;
      if (i <= static_cast<std::size_t>(q)) {
        g += gi, l += li;
        if (i < static_cast<std::size_t>(q)) continue;
        g /= q, l /= q;
      } else {
        g = (g * (q - 1) + gi) / q, l = (l * (q - 1) + li) / q;
      }
      out[i] = g + l == 0 ? 0.0 : static_cast<double>(100 * g / (g + l));
    }
    return {out};
  }
  if (k == "trange") {
    Col out(n, nan);
    for (std::size_t i = 1; i < n; ++i) out[i] = tr(s, i);
    return {out};
  }
  if (k == "atr" || k == "natr") {
    int q = integer(c, "period", 14);
    Col out(n, nan);
    LD a = 0;
    for (std::size_t i = 1; i < n; ++i) {
      if (i <= static_cast<std::size_t>(q)) {
        a += tr(s, i);
        if (i < static_cast<std::size_t>(q)) continue;
        a /= q;
      } else {
        a = (a * (q - 1) + tr(s, i)) / q;
      }
      out[i] = k == "atr" ? static_cast<double>(a) : s.close[i] == 0 ? 0.0 : static_cast<double>(100 * a / s.close[i]);
    }
    return {out};
  }
  if (k == "adx") return adx(s, integer(c, "period", 14));
  if (k == "macd") return macd(x, integer(c, "fast", 12), integer(c, "slow", 26), integer(c, "signal", 9));
  if (k == "bbands" || k == "stddev") {
    double kk = num(c, "k", 2.0);
    Col up(n, nan), mid(n, nan), lo(n, nan), sd(n, nan);
    for (std::size_t i = p - 1; i < n; ++i) {
      LD m = mean(x, i - p + 1, i), d = std::sqrt(pop_var(x, i - p + 1, i));
      mid[i] = static_cast<double>(m), sd[i] = static_cast<double>(d);
      up[i] = static_cast<double>(m + kk * d), lo[i] = static_cast<double>(m - kk * d);
    }
    return k == "stddev" ? std::vector<Col>{sd} : std::vector<Col>{up, mid, lo};
  }
  if (k == "stoch") {
    int kp = integer(c, "k_period", 14), ks = integer(c, "k_smooth", 3), dp = integer(c, "d_period", 3);
    Col fk(n, nan);
    for (std::size_t i = kp - 1; i < n; ++i) {
      LD h = hh(s, i - kp + 1, i), l = ll(s, i - kp + 1, i);
      fk[i] = h == l ? 0.0 : static_cast<double>(100 * (s.close[i] - l) / (h - l));
    }
    Col sk = sma_of(fk, ks, kp - 1), sd = sma_of(sk, dp, kp + ks - 2);
    for (std::size_t i = 0; i < n && i < static_cast<std::size_t>(kp + ks + dp - 3); ++i) sk[i] = nan;
    return {sk, sd};
  }
  if (k == "willr") {
    int q = integer(c, "period", 14);
    return {rolling(s, q, [&](std::size_t a, std::size_t b) {
      LD h = hh(s, a, b), l = ll(s, a, b);
      return h == l ? 0.0 : static_cast<double>(-100 * (h - s.close[b]) / (h - l));
    })};
  }
  if (k == "cci") {
    Col tp = typical(s);
    return {rolling(s, p, [&](std::size_t a, std::size_t b) {
      LD m = mean(tp, a, b), mad = 0;
      for (std::size_t j = a; j <= b; ++j) mad += std::fabs(tp[j] - m);
      mad /= p;
      return (tp[b] == m || mad == 0) ? 0.0 : static_cast<double>((tp[b] - m) / (0.015L * mad));
    })};
  }
  if (k == "obv") {
    Col out(n, nan);
    LD o = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i == 0) o = s.volume[0];
      else if (x[i] > x[i - 1]) o += s.volume[i];
      else if (x[i] < x[i - 1]) o -= s.volume[i];
      out[i] = static_cast<double>(o);
    }
    return {out};
  }
  if (k == "mfi") {
    int q = integer(c, "period", 14);
    Col tp = typical(s), out(n, nan);
    for (std::size_t i = q; i < n; ++i) {
      LD pos = 0, neg = 0;
      for (std::size_t j = i - q + 1; j <= i; ++j) {
        LD flow = static_cast<LD>(tp[j]) * s.volume[j];
        if (tp[j] > tp[j - 1]) pos += flow;
        else if (tp[j] < tp[j - 1]) neg += flow;
      }
      out[i] = pos + neg == 0 ? 0.0 : static_cast<double>(100 * pos / (pos + neg));
    }
    return {out};
  }
  if (k == "returns" || k == "log_returns") {
    int q = integer(c, "period", 1);
    Col out(n, nan);
    for (std::size_t i = q; i < n; ++i) {
      LD a = x[i - q], b = x[i];
      if (k == "returns") out[i] = a == 0 ? nan : static_cast<double>(b / a - 1);
      else out[i] = (a > 0 && b > 0) ? static_cast<double>(std::log(b / a)) : nan;
    }
    return {out};
  }
  if (k == "zscore")
    return {rolling(s, p, [&](std::size_t a, std::size_t b) {
      LD sd = std::sqrt(pop_var(x, a, b));
      return sd == 0 ? 0.0 : static_cast<double>((x[b] - mean(x, a, b)) / sd);
    })};
  if (k == "min" || k == "max")
    return {rolling(s, p, [&](std::size_t a, std::size_t b) {
      return k == "min" ? *std::min_element(x.begin() + a, x.begin() + b + 1) : *std::max_element(x.begin() + a, x.begin() + b + 1);
    })};
  if (k == "quantile") {
    double q = num(c, "q", 0.5);
    return {rolling(s, p, [&](std::size_t a, std::size_t b) {
      Col w(x.begin() + a, x.begin() + b + 1);
      std::sort(w.begin(), w.end());
      LD h = (p - 1) * static_cast<LD>(q);
      std::size_t lo = static_cast<std::size_t>(std::floor(h));
      std::size_t hi = std::min<std::size_t>(lo + 1, w.size() - 1);
      return static_cast<double>(w[lo] + (h - lo) * (static_cast<LD>(w[hi]) - w[lo]));
    })};
  }
  if (k == "percentile_rank")
    return {rolling(s, p, [&](std::size_t a, std::size_t b) {
      double below = 0, equal = 0;
      for (std::size_t j = a; j <= b; ++j) below += x[j] < x[b], equal += x[j] == x[b];
      return 100.0 * (below + 0.5 * equal) / p;
    })};
  if (k == "donchian") {
    Col up(n, nan), lo(n, nan), mid(n, nan);
    for (std::size_t i = p - 1; i < n; ++i) {
      up[i] = static_cast<double>(hh(s, i - p + 1, i)), lo[i] = static_cast<double>(ll(s, i - p + 1, i));
      mid[i] = (up[i] + lo[i]) / 2;
    }
    return {up, lo, mid};
  }
  if (k == "parkinson" || k == "garman_klass")
    return {rolling(s, p, [&](std::size_t a, std::size_t b) {
      LD sum = 0;
      for (std::size_t j = a; j <= b; ++j) {
        LD hl = std::log(static_cast<LD>(s.high[j]) / s.low[j]), co = std::log(static_cast<LD>(s.close[j]) / s.open[j]);
        sum += k == "parkinson" ? hl * hl : 0.5L * hl * hl - (2 * std::numbers::ln2_v<LD> - 1) * co * co;
      }
      LD v = k == "parkinson" ? sum / (4 * p * std::numbers::ln2_v<LD>) : sum / p;
      return v > 0 ? static_cast<double>(std::sqrt(v)) : 0.0;
    })};
  if (k == "realized_vol") {
    Col out(n, nan);
    for (std::size_t i = p; i < n; ++i) {
      LD sum = 0;
      for (std::size_t j = i - p + 1; j <= i; ++j) sum += std::pow(std::log(static_cast<LD>(x[j]) / x[j - 1]), 2);
      out[i] = static_cast<double>(std::sqrt(sum));
    }
    return {out};
  }
  if (k == "volume_ratio")
    return {rolling(s, p, [&](std::size_t a, std::size_t b) {
      LD m = mean(s.volume, a, b);
      return m == 0 ? nan : static_cast<double>(s.volume[b] / m);
    })};
  if (k == "correlation" || k == "beta") {
    const Col y = series(s, source(c, "input2", Source::volume));
    return {rolling(s, p, [&](std::size_t a, std::size_t b) {
      LD mx = mean(x, a, b), my = mean(y, a, b), sxy = 0, sxx = 0, syy = 0;
      for (std::size_t j = a; j <= b; ++j) sxy += (x[j] - mx) * (y[j] - my), sxx += (x[j] - mx) * (x[j] - mx), syy += (y[j] - my) * (y[j] - my);
      if (k == "beta") return syy == 0 ? nan : static_cast<double>(sxy / syy);
      return (sxx == 0 || syy == 0) ? nan : static_cast<double>(sxy / std::sqrt(sxx * syy));
    })};
  }
  if (k == "cusum") {
    double h = num(c, "threshold", 0.01);
    Col out(n, nan);
    double up = 0, dn = 0;
    for (std::size_t i = 1; i < n; ++i) {
      double r = std::log(x[i] / x[i - 1]);
      up = std::max(0.0, up + r), dn = std::min(0.0, dn + r);
      out[i] = 0;
      if (up > h) up = 0, out[i] = 1;
      else if (dn < -h) dn = 0, out[i] = -1;
    }
    return {out};
  }
  if (k == "calendar") {
    Col hs(n), hc(n), ds(n), dc(n);
    for (std::size_t i = 0; i < n; ++i) {
      using namespace std::chrono;
      sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(s.ts[i])));
      double into_day = static_cast<double>((sys_time<milliseconds>(milliseconds(s.ts[i])) - day).count());
      unsigned monday_based = (weekday(day).c_encoding() + 6) % 7;
      double a = 2 * std::numbers::pi * into_day / 86'400'000.0, w = 2 * std::numbers::pi * monday_based / 7.0;
      hs[i] = std::sin(a), hc[i] = std::cos(a), ds[i] = std::sin(w), dc[i] = std::cos(w);
    }
    return {hs, hc, ds, dc};
  }
  throw std::logic_error("no reference for " + k);
}

}  // namespace onepath::reference
