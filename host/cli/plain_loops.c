#include "cli/plain_loops.h"

#include <math.h>
#include <stdlib.h>

static void fill_nan(double* out, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) out[i] = NAN;
}

void plain_sma(const double* x, size_t n, int period, double* out) {
  const size_t p = (size_t)period;
  double sum = 0;
  fill_nan(out, 0, n < p - 1 ? n : p - 1);
  for (size_t i = 0; i < n; ++i) {
    sum += x[i];
    if (i + 1 >= p) {
      out[i] = sum / period;
      sum -= x[i + 1 - p];
    }
  }
}

void plain_ema(const double* x, size_t n, int period, double* out) {
  const size_t p = (size_t)period;
  const double k = 2.0 / (period + 1);
  double ema = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i < p) {
      ema += x[i];
      if (i + 1 == p) ema /= period;
      out[i] = i + 1 == p ? ema : NAN;
    } else {
      ema = (x[i] - ema) * k + ema;
      out[i] = ema;
    }
  }
}

void plain_rsi(const double* x, size_t n, int period, double* out) {
  const size_t p = (size_t)period;
  double gain = 0, loss = 0;
  if (n) out[0] = NAN;
  for (size_t i = 1; i < n; ++i) {
    const double d = x[i] - x[i - 1];
    if (i <= p) {
      if (d > 0)
        gain += d;
      else
        loss -= d;
      if (i == p) gain /= period, loss /= period;
      out[i] = i == p ? (gain + loss != 0 ? 100.0 * gain / (gain + loss) : 0.0) : NAN;
    } else {
      gain = (gain * (period - 1) + (d > 0 ? d : 0)) / period;
      loss = (loss * (period - 1) + (d < 0 ? -d : 0)) / period;
      out[i] = gain + loss != 0 ? 100.0 * gain / (gain + loss) : 0.0;
    }
  }
}

static inline double tr_of(double h, double l, double prev_close) {
  double a = h - l, b = fabs(prev_close - h), c = fabs(prev_close - l);
  if (b > a) a = b;
  if (c > a) a = c;
  return a;
}

void plain_trange(const double* h, const double* l, const double* c, size_t n, double* out) {
  if (n) out[0] = NAN;
  for (size_t i = 1; i < n; ++i) out[i] = tr_of(h[i], l[i], c[i - 1]);
}

void plain_atr(const double* h, const double* l, const double* c, size_t n, int period, int normalised, double* out) {
  const size_t p = (size_t)period;
  double atr = 0;
  if (n) out[0] = NAN;
  for (size_t i = 1; i < n; ++i) {
    const double tr = tr_of(h[i], l[i], c[i - 1]);
    if (i <= p) {
      atr += tr;
      if (i == p) atr /= period;
      if (i < p) {
        out[i] = NAN;
        continue;
      }
    } else {
      atr = (atr * (period - 1) + tr) / period;
    }
    out[i] = normalised ? (c[i] != 0 ? atr / c[i] * 100.0 : 0.0) : atr;
  }
}

void plain_adx(const double* h, const double* l, const double* c, size_t n, int period, double* adx_out, double* plus_out, double* minus_out) {
  const size_t p = (size_t)period;
  double plus = 0, minus = 0, trs = 0, adx = 0;
  for (size_t i = 0; i < n; ++i) adx_out[i] = plus_out[i] = minus_out[i] = NAN;
  for (size_t i = 1; i < n; ++i) {
    const double up = h[i] - h[i - 1], dn = l[i - 1] - l[i];
    const double pdm = up > dn && up > 0 ? up : 0, mdm = dn > up && dn > 0 ? dn : 0;
    const double tr = tr_of(h[i], l[i], c[i - 1]);
    if (i < p) {
      plus += pdm, minus += mdm, trs += tr;
      continue;
    }
    plus = plus - plus / period + pdm;
    minus = minus - minus / period + mdm;
    trs = trs - trs / period + tr;
    const double pdi = trs != 0 ? 100.0 * (plus / trs) : 0, mdi = trs != 0 ? 100.0 * (minus / trs) : 0;
    plus_out[i] = pdi, minus_out[i] = mdi;
    const double sum = pdi + mdi, dx = sum != 0 ? 100.0 * (fabs(mdi - pdi) / sum) : 0;
    if (i < 2 * p - 1)
      adx += dx;
    else if (i == 2 * p - 1)
      adx = (adx + dx) / period;
    else if (sum != 0)
      adx = (adx * (period - 1) + dx) / period;
    if (i >= 2 * p - 1) adx_out[i] = adx;
  }
}

/* The slow EMA seeded with the SMA of rows 0..slow-1; the fast one seeded late, with the SMA
 * of the `fast` inputs ending at row slow-1 (TA-Lib); the signal seeded with the SMA of its
 * first `signal` values. */
void plain_macd(const double* x, size_t n, int fast, int slow, int signal, double* macd, double* sig, double* hist) {
  const double kf = 2.0 / (fast + 1), ks = 2.0 / (slow + 1), kg = 2.0 / (signal + 1);
  const size_t fast_from = (size_t)(slow - fast), start = (size_t)slow - 1, sig_start = start + (size_t)signal - 1;
  double ef = 0, es = 0, eg = 0;
  for (size_t i = 0; i < n; ++i) {
    macd[i] = sig[i] = hist[i] = NAN;
    if (i < start) {
      es += x[i];
      if (i >= fast_from) ef += x[i];
      continue;
    }
    if (i == start) {
      es = (es + x[i]) / slow;
      ef = (ef + x[i]) / fast;
    } else {
      es = (x[i] - es) * ks + es;
      ef = (x[i] - ef) * kf + ef;
    }
    const double m = ef - es;
    if (i < sig_start) {
      eg += m;
      continue;
    }
    eg = i == sig_start ? (eg + m) / signal : (m - eg) * kg + eg;
    macd[i] = m, sig[i] = eg, hist[i] = m - eg;
  }
}

/* TA-Lib's BBANDS and STDDEV: a running sum and sum of squares, variance = E[x^2] - E[x]^2. */
void plain_bbands(const double* x, size_t n, int period, double k, double* upper, double* middle, double* lower) {
  const size_t p = (size_t)period;
  double s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; ++i) {
    s1 += x[i], s2 += x[i] * x[i];
    if (i + 1 < p) {
      upper[i] = middle[i] = lower[i] = NAN;
      continue;
    }
    const double mean = s1 / period, var = s2 / period - mean * mean, sd = var > 0 ? sqrt(var) : 0;
    middle[i] = mean, upper[i] = mean + k * sd, lower[i] = mean - k * sd;
    const double old = x[i + 1 - p];
    s1 -= old, s2 -= old * old;
  }
}

void plain_stddev(const double* x, size_t n, int period, double* out) {
  const size_t p = (size_t)period;
  double s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; ++i) {
    s1 += x[i], s2 += x[i] * x[i];
    if (i + 1 < p) {
      out[i] = NAN;
      continue;
    }
    const double mean = s1 / period, var = s2 / period - mean * mean;
    out[i] = var > 0 ? sqrt(var) : 0;
    const double old = x[i + 1 - p];
    s1 -= old, s2 -= old * old;
  }
}

/* The highest high and lowest low of a window, rescanned only when the extreme leaves it
 * (TA-Lib's STOCH and WILLR). */
typedef struct {
  size_t hi_at, lo_at;
  double hi, lo;
} extremes;

static inline void track(extremes* e, const double* h, const double* l, size_t first, size_t i) {
  if (e->hi_at < first || i == 0) {
    e->hi_at = first, e->hi = h[first];
    for (size_t j = first + 1; j <= i; ++j)
      if (h[j] >= e->hi) e->hi = h[j], e->hi_at = j;
  } else if (h[i] >= e->hi) {
    e->hi = h[i], e->hi_at = i;
  }
  if (e->lo_at < first || i == 0) {
    e->lo_at = first, e->lo = l[first];
    for (size_t j = first + 1; j <= i; ++j)
      if (l[j] <= e->lo) e->lo = l[j], e->lo_at = j;
  } else if (l[i] <= e->lo) {
    e->lo = l[i], e->lo_at = i;
  }
}

void plain_stoch(const double* h, const double* l, const double* c, size_t n, int k_period, int k_smooth, int d_period, double* k_out,
                 double* d_out) {
  const size_t kp = (size_t)k_period, ks = (size_t)k_smooth, dp = (size_t)d_period;
  extremes e = {0, 0, 0, 0};
  double* fast = calloc(ks, sizeof(double)); /* the last ks fast %K, and the last dp slow %K */
  double* slow = calloc(dp, sizeof(double));
  double ksum = 0, dsum = 0;
  size_t nf = 0, ns = 0, af = 0, as = 0; /* counts, and ring positions */
  for (size_t i = 0; i < n; ++i) {
    k_out[i] = d_out[i] = NAN;
    track(&e, h, l, i + 1 >= kp ? i + 1 - kp : 0, i);
    if (i + 1 < kp) continue;
    const double range = e.hi - e.lo, f = range != 0 ? 100.0 * (c[i] - e.lo) / range : 0.0;
    ksum += f - fast[af];
    fast[af] = f;
    af = af + 1 == ks ? 0 : af + 1;
    if (++nf < ks) continue;
    const double sk = ksum / k_smooth;
    dsum += sk - slow[as];
    slow[as] = sk;
    as = as + 1 == dp ? 0 : as + 1;
    if (++ns < dp) continue;
    k_out[i] = sk;
    d_out[i] = dsum / d_period;
  }
  free(fast);
  free(slow);
}

void plain_willr(const double* h, const double* l, const double* c, size_t n, int period, double* out) {
  const size_t p = (size_t)period;
  extremes e = {0, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) {
    track(&e, h, l, i + 1 >= p ? i + 1 - p : 0, i);
    if (i + 1 < p) {
      out[i] = NAN;
      continue;
    }
    const double range = e.hi - e.lo;
    out[i] = range != 0 ? -100.0 * (e.hi - c[i]) / range : 0.0;
  }
}

/* TA-Lib's CCI: a ring of typical prices, their mean, and the mean deviation summed anew. */
void plain_cci(const double* h, const double* l, const double* c, size_t n, int period, double* out) {
  const size_t p = (size_t)period;
  double* ring = malloc(p * sizeof(double));
  size_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    const double tp = (h[i] + l[i] + c[i]) / 3;
    ring[at] = tp;
    at = at + 1 == p ? 0 : at + 1;
    if (i + 1 < p) {
      out[i] = NAN;
      continue;
    }
    double sum = 0;
    for (size_t j = 0; j < p; ++j) sum += ring[j];
    const double mean = sum / period;
    double dev = 0;
    for (size_t j = 0; j < p; ++j) dev += fabs(ring[j] - mean);
    dev /= period;
    out[i] = (tp - mean != 0 && dev != 0) ? (tp - mean) / (0.015 * dev) : 0.0;
  }
  free(ring);
}

void plain_obv(const double* c, const double* v, size_t n, double* out) {
  double obv = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i == 0)
      obv = v[0];
    else if (c[i] > c[i - 1])
      obv += v[i];
    else if (c[i] < c[i - 1])
      obv -= v[i];
    out[i] = obv;
  }
}

void plain_mfi(const double* h, const double* l, const double* c, const double* v, size_t n, int period, double* out) {
  const size_t p = (size_t)period;
  double* pos = calloc(p, sizeof(double));
  double* neg = calloc(p, sizeof(double));
  double spos = 0, sneg = 0, prev = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    const double tp = (h[i] + l[i] + c[i]) / 3;
    if (i == 0) {
      prev = tp;
      out[i] = NAN;
      continue;
    }
    const double flow = tp * v[i];
    spos -= pos[at], sneg -= neg[at];
    pos[at] = tp > prev ? flow : 0;
    neg[at] = tp < prev ? flow : 0;
    spos += pos[at], sneg += neg[at];
    at = at + 1 == p ? 0 : at + 1;
    prev = tp;
    out[i] = i < p ? NAN : (spos + sneg != 0 ? 100.0 * (spos / (spos + sneg)) : 0.0);
  }
  free(pos);
  free(neg);
}
