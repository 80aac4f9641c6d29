/* The cost of the plugin boundary, for `onepath bench abi`: the built-in EMA's arithmetic
 * as a plugin kind (ema_abi: seeded with the SMA of the first `period` closes, then
 * ema += (close - ema) * k, k = 2 / (period + 1)), and a filter that passes every intent
 * (pass). The benchmark compares them with the built-in ema and a built-in filter. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onepath/plugin.h"

typedef struct {
  int period;
  long long count;
  double k, sum, ema;
} ema;

static const char* const outputs[] = {"value"};

static onepath_status ema_create(const onepath_params* p, void** out, char* err, size_t n) {
  ema* e;
  double period = 12;
  size_t i;
  for (i = 0; p && i < p->count; ++i) {
    if (strcmp(p->items[i].name, "period") != 0 || !p->items[i].is_number || p->items[i].number < 1 ||
        p->items[i].number != floor(p->items[i].number)) {
      snprintf(err, n, "takes one parameter, 'period' (a whole number)");
      return ONEPATH_ERROR;
    }
    period = p->items[i].number;
  }
  e = (ema*)calloc(1, sizeof *e);
  if (!e) return ONEPATH_ERROR;
  e->period = (int)period;
  e->k = 2.0 / (e->period + 1);
  *out = e;
  return ONEPATH_OK;
}
static onepath_status ema_clone(const void* x, void** out, char* err, size_t n) {
  ema* e = (ema*)malloc(sizeof *e);
  (void)err, (void)n;
  if (!e) return ONEPATH_ERROR;
  memcpy(e, x, sizeof *e);
  *out = e;
  return ONEPATH_OK;
}
static onepath_status ema_update(void* x, const onepath_candle* c) {
  ema* e = (ema*)x;
  const double v = c->close;
  if (!isfinite(v)) return ONEPATH_REFUSED;
  if (e->count < e->period) {
    e->sum += v;
    if (e->count == e->period - 1) e->ema = e->sum / e->period;
  } else {
    e->ema += (v - e->ema) * e->k;
  }
  ++e->count;
  return ONEPATH_OK;
}
static void ema_emit(const void* x, double* out) {
  const ema* e = (const ema*)x;
  out[0] = e->count >= e->period ? e->ema : NAN;
}
static int32_t ema_warmup(const void* x) { return ((const ema*)x)->period - 1; }
static void ema_reset(void* x) {
  ema* e = (ema*)x;
  e->count = 0, e->sum = 0, e->ema = 0;
}
static onepath_status ema_save(const void* x, onepath_buffer* out) { return out->append(out->ctx, x, sizeof(ema)); }
static onepath_status ema_load(void* x, const void* b, size_t size, char* err, size_t n) {
  if (size != sizeof(ema)) {
    snprintf(err, n, "saved state has another size");
    return ONEPATH_ERROR;
  }
  memcpy(x, b, size);
  return ONEPATH_OK;
}
static const onepath_indicator_kind ema_kind = {sizeof(onepath_indicator_kind), "ema_abi", "the built-in ema's arithmetic, as a plugin",
                                                outputs, 1, ema_create, free, ema_clone, ema_update, ema_emit, ema_warmup, NULL,
                                                ema_reset, ema_save, ema_load, NULL, 0, NULL};

static onepath_status pass_create(const onepath_params* p, const char* const* s, size_t count, void** out, char* err, size_t n) {
  (void)p, (void)s, (void)count, (void)err, (void)n;
  *out = (void*)&ema_kind;
  return ONEPATH_OK;
}
static void pass_destroy(void* x) { (void)x; }
static onepath_status pass_apply(void* x, onepath_intent* in, const onepath_filter_ctx* ctx, char* reason, size_t n) {
  (void)x, (void)reason, (void)n;
  return ctx->open_positions >= 0 && in->action >= 0 ? ONEPATH_OK : ONEPATH_DROP;
}
static onepath_status pass_save(const void* x, onepath_buffer* out) {
  (void)x, (void)out;
  return ONEPATH_OK;
}
static onepath_status pass_load(void* x, const void* b, size_t size, char* err, size_t n) {
  (void)x, (void)b, (void)size, (void)err, (void)n;
  return ONEPATH_OK;
}
static const onepath_filter_kind pass_kind = {sizeof(onepath_filter_kind), "pass", "passes every intent", pass_create, pass_destroy,
                                              pass_apply, NULL, NULL, NULL, pass_save, pass_load};

static const onepath_indicator_kind* const indicators[] = {&ema_kind};
static const onepath_filter_kind* const filters[] = {&pass_kind};
static const onepath_manifest manifest = {sizeof(onepath_manifest), ONEPATH_ABI_MAJOR, ONEPATH_ABI_MINOR, "abi_probe", "1.0.0",
                                          ONEPATH_BUILD_ID, NULL, indicators, 1, filters, 1, NULL, 0, NULL, 0};

const onepath_manifest* onepath_plugin_manifest(void) { return &manifest; }
