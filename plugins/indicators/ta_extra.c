/* Two indicators quants ask for that onepath does not build in, as a plugin in plain C99:
 *
 *  supertrend(period = 10, multiplier = 3)  outputs value, direction
 *    ATR: Wilder's average of the true range (TR of the first bar: high - low), seeded with
 *    the mean of the first `period` TRs. hl2 = (high + low) / 2, basic bands hl2 -/+ m * ATR.
 *    The lower band only rises while the close stays above it, the upper band only falls
 *    while the close stays below it; the trend turns up when the close crosses above the
 *    upper band, down when it crosses below the lower one (TradingView's ta.supertrend).
 *    value: the lower band in an up trend, the upper band in a down trend; direction +1 / -1.
 *    The first valid bar is period - 1, in a down trend.
 *
 *  kama(period = 10, fast = 2, slow = 30)  output value
 *    Kaufman's adaptive moving average: ER = |close - close[period]| / sum of |close - close[1]|
 *    over the period (1 when that sum is 0), sc = (ER * (2/(fast+1) - 2/(slow+1)) + 2/(slow+1))^2,
 *    KAMA = KAMA[1] + sc * (close - KAMA[1]), seeded with the close of bar period - 1; the
 *    first value is at bar `period` (TA-Lib's KAMA).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onepath/plugin.h"

static void set_err(char* err, size_t size, const char* msg) {
  if (err && size) snprintf(err, size, "%s", msg);
}

/* Reads a parameter: only `names` are allowed; whole numbers from lo to hi (or any positive number). */
static int read_params(const onepath_params* p, const char* const* names, double* values, int count, char* err, size_t err_size) {
  size_t i;
  int k;
  for (i = 0; p && i < p->count; ++i) {
    int found = 0;
    for (k = 0; k < count; ++k)
      if (strcmp(p->items[i].name, names[k]) == 0) {
        if (!p->items[i].is_number || !isfinite(p->items[i].number) || p->items[i].number <= 0) {
          char msg[160];
          snprintf(msg, sizeof msg, "parameter '%s' = '%s': must be a positive number", names[k], p->items[i].text);
          set_err(err, err_size, msg);
          return 0;
        }
        values[k] = p->items[i].number;
        found = 1;
      }
    if (!found) {
      char msg[200];
      snprintf(msg, sizeof msg, "unknown parameter '%s'", p->items[i].name);
      set_err(err, err_size, msg);
      return 0;
    }
  }
  return 1;
}

static int whole(double v, double lo, double hi) { return v == floor(v) && v >= lo && v <= hi; }

static int candle_ok(const onepath_candle* c) {
  return isfinite(c->open) && isfinite(c->high) && isfinite(c->low) && isfinite(c->close) && isfinite(c->volume);
}

/* Appends a whole struct as bytes: the state is plain old data. */
static onepath_status save_pod(const void* x, size_t size, onepath_buffer* out) { return out->append(out->ctx, x, size); }

static onepath_status load_pod(void* x, size_t size, const void* bytes, size_t given, char* err, size_t err_size) {
  if (given != size) {
    set_err(err, err_size, "saved state has another size");
    return ONEPATH_ERROR;
  }
  memcpy(x, bytes, size);
  return ONEPATH_OK;
}

/* ---- supertrend ---- */

typedef struct {
  int period;
  double multiplier;
  /* state */
  long long bars;
  double tr_sum, atr, prev_close, upper, lower, value;
  int direction; /* +1 up, -1 down, 0 before the first valid bar */
} supertrend;

static const char* const supertrend_outputs[] = {"value", "direction"};

static onepath_status st_create(const onepath_params* p, void** out, char* err, size_t n) {
  static const char* const names[] = {"period", "multiplier"};
  double v[2] = {10, 3};
  supertrend* s;
  if (!read_params(p, names, v, 2, err, n)) return ONEPATH_ERROR;
  if (!whole(v[0], 1, 1000000)) {
    set_err(err, n, "parameter 'period' must be a whole number from 1 to 1000000");
    return ONEPATH_ERROR;
  }
  s = (supertrend*)calloc(1, sizeof *s);
  if (!s) {
    set_err(err, n, "out of memory");
    return ONEPATH_ERROR;
  }
  s->period = (int)v[0];
  s->multiplier = v[1];
  *out = s;
  return ONEPATH_OK;
}

static void st_reset(void* x) {
  supertrend* s = (supertrend*)x;
  int period = s->period;
  double m = s->multiplier;
  memset(s, 0, sizeof *s);
  s->period = period;
  s->multiplier = m;
}

static onepath_status st_update(void* x, const onepath_candle* c) {
  supertrend* s = (supertrend*)x;
  double tr, hl2, basic_upper, basic_lower, upper, lower;
  if (!candle_ok(c)) return ONEPATH_REFUSED;
  tr = c->high - c->low;
  if (s->bars > 0) {
    double a = fabs(c->high - s->prev_close), b = fabs(c->low - s->prev_close);
    if (a > tr) tr = a;
    if (b > tr) tr = b;
  }
  if (s->bars < s->period) {
    s->tr_sum += tr;
    if (s->bars == s->period - 1) s->atr = s->tr_sum / s->period;
  } else {
    s->atr = (s->atr * (s->period - 1) + tr) / s->period;
  }
  if (s->bars >= s->period - 1) {
    hl2 = (c->high + c->low) / 2;
    basic_upper = hl2 + s->multiplier * s->atr;
    basic_lower = hl2 - s->multiplier * s->atr;
    if (s->direction == 0) { /* the first valid bar */
      upper = basic_upper;
      lower = basic_lower;
      s->direction = -1;
    } else {
      upper = (basic_upper < s->upper || s->prev_close > s->upper) ? basic_upper : s->upper;
      lower = (basic_lower > s->lower || s->prev_close < s->lower) ? basic_lower : s->lower;
      if (s->direction < 0) s->direction = c->close > upper ? 1 : -1;
      else s->direction = c->close < lower ? -1 : 1;
    }
    s->upper = upper;
    s->lower = lower;
    s->value = s->direction > 0 ? lower : upper;
  }
  s->prev_close = c->close;
  ++s->bars;
  return ONEPATH_OK;
}

static void st_emit(const void* x, double* out) {
  const supertrend* s = (const supertrend*)x;
  out[0] = s->direction ? s->value : NAN;
  out[1] = s->direction ? (double)s->direction : NAN;
}

static int32_t st_warmup(const void* x) { return ((const supertrend*)x)->period - 1; }

/* Wilder's recursion forgets all but 1e-12 of its start after this many rows; the bands
 * then follow within a period. */
static int32_t st_settle(const void* x) {
  const supertrend* s = (const supertrend*)x;
  double keep = (s->period - 1.0) / s->period;
  int forget = keep > 0 ? (int)ceil(log(1e-12) / log(keep)) : 0;
  return forget + 2 * s->period;
}

static onepath_status st_clone(const void* x, void** out, char* err, size_t n) {
  supertrend* s = (supertrend*)malloc(sizeof *s);
  if (!s) {
    set_err(err, n, "out of memory");
    return ONEPATH_ERROR;
  }
  memcpy(s, x, sizeof *s);
  *out = s;
  return ONEPATH_OK;
}

static onepath_status st_save(const void* x, onepath_buffer* out) { return save_pod(x, sizeof(supertrend), out); }
static onepath_status st_load(void* x, const void* bytes, size_t size, char* err, size_t n) {
  supertrend copy;
  const supertrend* s = (const supertrend*)x;
  if (load_pod(&copy, sizeof copy, bytes, size, err, n) != ONEPATH_OK) return ONEPATH_ERROR;
  if (copy.period != s->period || copy.multiplier != s->multiplier) {
    set_err(err, n, "saved state has other parameters");
    return ONEPATH_ERROR;
  }
  memcpy(x, &copy, sizeof copy);
  return ONEPATH_OK;
}

static const onepath_indicator_kind supertrend_kind = {
    sizeof(onepath_indicator_kind), "supertrend", "SuperTrend: ATR bands that ratchet with the trend (value, direction)",
    supertrend_outputs, 2, st_create, free, st_clone, st_update, st_emit, st_warmup, st_settle, st_reset, st_save, st_load, NULL, 0, NULL};

/* ---- kama ---- */

#define KAMA_MAX_PERIOD 250

typedef struct {
  int period;
  double fast_sc, slow_sc, fast, slow;
  long long bars;
  double kama;
  int head;                       /* ring of the last period + 1 closes */
  double closes[KAMA_MAX_PERIOD + 1];
} kama;

static const char* const kama_outputs[] = {"value"};

static onepath_status kama_create(const onepath_params* p, void** out, char* err, size_t n) {
  static const char* const names[] = {"period", "fast", "slow"};
  double v[3] = {10, 2, 30};
  kama* k;
  if (!read_params(p, names, v, 3, err, n)) return ONEPATH_ERROR;
  if (!whole(v[0], 1, KAMA_MAX_PERIOD) || !whole(v[1], 1, 1000000) || !whole(v[2], 1, 1000000)) {
    set_err(err, n, "parameters 'period' (1 to 250), 'fast' and 'slow' must be whole numbers");
    return ONEPATH_ERROR;
  }
  k = (kama*)calloc(1, sizeof *k);
  if (!k) {
    set_err(err, n, "out of memory");
    return ONEPATH_ERROR;
  }
  k->period = (int)v[0];
  k->fast = v[1];
  k->slow = v[2];
  k->fast_sc = 2.0 / (v[1] + 1.0);
  k->slow_sc = 2.0 / (v[2] + 1.0);
  *out = k;
  return ONEPATH_OK;
}

static void kama_reset(void* x) {
  kama* k = (kama*)x;
  k->bars = 0;
  k->kama = 0;
  k->head = 0;
}

static onepath_status kama_update(void* x, const onepath_candle* c) {
  kama* k = (kama*)x;
  const int n = k->period, size = n + 1;
  if (!isfinite(c->close)) return ONEPATH_REFUSED;
  k->closes[k->head] = c->close;
  if (k->bars == n - 1) k->kama = c->close; /* the seed */
  if (k->bars >= n) {
    /* the window, oldest first: closes[head+1 .. head] around the ring */
    double volatility = 0, change, er, sc, prev;
    int i, j = k->head + 1 == size ? 0 : k->head + 1; /* the oldest close */
    prev = k->closes[j];
    change = fabs(c->close - prev);
    for (i = 0; i < n; ++i) {
      if (++j == size) j = 0;
      volatility += fabs(k->closes[j] - prev);
      prev = k->closes[j];
    }
    er = volatility > 0 ? change / volatility : 1.0;
    sc = er * (k->fast_sc - k->slow_sc) + k->slow_sc;
    sc = sc * sc;
    k->kama = k->kama + sc * (c->close - k->kama);
  }
  if (++k->head == size) k->head = 0;
  ++k->bars;
  return ONEPATH_OK;
}

static void kama_emit(const void* x, double* out) {
  const kama* k = (const kama*)x;
  out[0] = k->bars > k->period ? k->kama : NAN;
}

static int32_t kama_warmup(const void* x) { return ((const kama*)x)->period; }

static int32_t kama_settle(const void* x) {
  const kama* k = (const kama*)x;
  double keep = 1.0 - k->slow_sc * k->slow_sc; /* the slowest the average can forget */
  return (int32_t)ceil(log(1e-12) / log(keep)) + k->period;
}

static onepath_status kama_clone(const void* x, void** out, char* err, size_t n) {
  kama* k = (kama*)malloc(sizeof *k);
  if (!k) {
    set_err(err, n, "out of memory");
    return ONEPATH_ERROR;
  }
  memcpy(k, x, sizeof *k);
  *out = k;
  return ONEPATH_OK;
}

static onepath_status kama_save(const void* x, onepath_buffer* out) { return save_pod(x, sizeof(kama), out); }
static onepath_status kama_load(void* x, const void* bytes, size_t size, char* err, size_t n) {
  kama* copy = (kama*)malloc(sizeof *copy);
  const kama* k = (const kama*)x;
  onepath_status st;
  if (!copy) {
    set_err(err, n, "out of memory");
    return ONEPATH_ERROR;
  }
  st = load_pod(copy, sizeof *copy, bytes, size, err, n);
  if (st == ONEPATH_OK && (copy->period != k->period || copy->fast != k->fast || copy->slow != k->slow)) {
    set_err(err, n, "saved state has other parameters");
    st = ONEPATH_ERROR;
  }
  if (st == ONEPATH_OK) memcpy(x, copy, sizeof *copy);
  free(copy);
  return st;
}

static const onepath_indicator_kind kama_kind = {
    sizeof(onepath_indicator_kind), "kama", "Kaufman's adaptive moving average (TA-Lib's definition)", kama_outputs, 1, kama_create,
    free, kama_clone, kama_update, kama_emit, kama_warmup, kama_settle, kama_reset, kama_save, kama_load, NULL, 0, NULL};

static const onepath_indicator_kind* const kinds[] = {&supertrend_kind, &kama_kind};

static const onepath_manifest manifest = {sizeof(onepath_manifest), ONEPATH_ABI_MAJOR, ONEPATH_ABI_MINOR, "ta_extra", "1.0.0",
                                          ONEPATH_BUILD_ID, NULL, kinds, 2, NULL, 0, NULL, 0, NULL, 0};

const onepath_manifest* onepath_plugin_manifest(void) { return &manifest; }
