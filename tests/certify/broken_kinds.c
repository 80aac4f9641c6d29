/* Indicator kinds that break a promise on purpose, for certify's tests:
 *   test_lossy       counts candles, but its saved state is empty: a restore starts over;
 *   test_peek_write  emits the close, and leaves it where test_peek_read looks;
 *   test_peek_read   emits what test_peek_write left: in a batch run (column by column) the
 *                    last close of the whole series, the future;
 *   test_jitter      the close, times 1 + 1e-12 when the kind's previous update was the same
 *                    instance's: in batch (column by column) it is, in streaming beside
 *                    another test_jitter it is not. It declares a tolerance of 1e-9: the
 *                    ladder's one rung above exact (test_jitter_undeclared: the same, exact);
 * and a service, test_driver, whose function `driver` answers which driver started it
 * (backtest, paper): a strategy that asks decides otherwise in a paper session. */
#include <stdlib.h>
#include <string.h>

#include "onepath/plugin.h"

static const char* const outputs[] = {"value"};
static double g_left; /* the shared slot: what makes the pair read the future in batch */

typedef struct {
  double value;
} cell;

static onepath_status create(const onepath_params* p, void** out, char* err, size_t n) {
  (void)p, (void)err, (void)n;
  cell* c = calloc(1, sizeof *c);
  *out = c;
  return c ? ONEPATH_OK : ONEPATH_ERROR;
}
static void destroy(void* x) { free(x); }
static onepath_status clone(const void* x, void** out, char* err, size_t n) {
  (void)err, (void)n;
  cell* c = malloc(sizeof *c);
  if (!c) return ONEPATH_ERROR;
  memcpy(c, x, sizeof *c);
  *out = c;
  return ONEPATH_OK;
}
static void emit(const void* x, double* out) { out[0] = ((const cell*)x)->value; }
static int32_t warmup(const void* x) {
  (void)x;
  return 0;
}
static void reset(void* x) { ((cell*)x)->value = 0; }
static onepath_status save_all(const void* x, onepath_buffer* out) { return out->append(out->ctx, x, sizeof(cell)); }
static onepath_status save_nothing(const void* x, onepath_buffer* out) {
  (void)x, (void)out;
  return ONEPATH_OK;
}
static onepath_status load(void* x, const void* b, size_t size, char* err, size_t n) {
  (void)err, (void)n;
  ((cell*)x)->value = 0;
  if (size == sizeof(cell)) memcpy(x, b, size);
  return ONEPATH_OK;
}

static onepath_status count(void* x, const onepath_candle* c) {
  (void)c;
  ((cell*)x)->value += 1;
  return ONEPATH_OK;
}
static onepath_status write_close(void* x, const onepath_candle* c) {
  ((cell*)x)->value = c->close;
  g_left = c->close;
  return ONEPATH_OK;
}
static onepath_status read_left(void* x, const onepath_candle* c) {
  (void)c;
  ((cell*)x)->value = g_left;
  return ONEPATH_OK;
}

typedef struct {
  double value;
  unsigned long id; /* never reused, so a new instance at a freed one's address is another */
} jitter_cell;
static unsigned long g_next_id = 1, g_last_id;

static onepath_status jitter_create(const onepath_params* p, void** out, char* err, size_t n) {
  (void)p, (void)err, (void)n;
  jitter_cell* c = calloc(1, sizeof *c);
  if (!c) return ONEPATH_ERROR;
  c->id = g_next_id++;
  *out = c;
  return ONEPATH_OK;
}
static onepath_status jitter_clone(const void* x, void** out, char* err, size_t n) {
  (void)err, (void)n;
  jitter_cell* c = malloc(sizeof *c);
  if (!c) return ONEPATH_ERROR;
  c->value = ((const jitter_cell*)x)->value;
  c->id = g_next_id++;
  *out = c;
  return ONEPATH_OK;
}
static onepath_status jitter_update(void* x, const onepath_candle* c) {
  jitter_cell* j = x;
  j->value = c->close * (g_last_id == j->id ? 1 + 1e-12 : 1);
  g_last_id = j->id;
  return ONEPATH_OK;
}
static void jitter_emit(const void* x, double* out) { out[0] = ((const jitter_cell*)x)->value; }
static void jitter_reset(void* x) { ((jitter_cell*)x)->value = 0; }
static onepath_status jitter_save(const void* x, onepath_buffer* out) { return out->append(out->ctx, x, sizeof(double)); }
static onepath_status jitter_load(void* x, const void* b, size_t size, char* err, size_t n) {
  (void)err, (void)n;
  if (size != sizeof(double)) return ONEPATH_ERROR;
  memcpy(&((jitter_cell*)x)->value, b, sizeof(double));
  return ONEPATH_OK;
}
static const onepath_indicator_kind jitter = {sizeof(onepath_indicator_kind), "test_jitter", "within its declared tolerance", outputs, 1,
                                              jitter_create, destroy, jitter_clone, jitter_update, jitter_emit, warmup, NULL, jitter_reset,
                                              jitter_save, jitter_load, NULL, 1e-9,
                                              "its batch path multiplies by 1 + 1e-12 (a test of the tolerance ladder)"};
static const onepath_indicator_kind jitter_undeclared = {sizeof(onepath_indicator_kind), "test_jitter_undeclared", "the same, declaring nothing",
                                                         outputs, 1, jitter_create, destroy, jitter_clone, jitter_update, jitter_emit, warmup, NULL,
                                                         jitter_reset, jitter_save, jitter_load, NULL, 0, NULL};

#define KIND(name, update, save)                                                                                                    \
  {sizeof(onepath_indicator_kind), name, "broken on purpose", outputs, 1, create, destroy, clone, update, emit, warmup, NULL, reset, \
   save, load, NULL, 0, NULL}
static const onepath_indicator_kind lossy = KIND("test_lossy", count, save_nothing);
static const onepath_indicator_kind peek_write = KIND("test_peek_write", write_close, save_all);
static const onepath_indicator_kind peek_read = KIND("test_peek_read", read_left, save_all);
static const onepath_indicator_kind* const kinds[] = {&lossy, &peek_write, &peek_read, &jitter, &jitter_undeclared};

typedef struct {
  char driver[32];
} driver_service;
static const char* const functions[] = {"driver"};
static onepath_status svc_create(const onepath_params* p, const onepath_host* host, void** out, char* err, size_t n) {
  (void)host, (void)err, (void)n;
  driver_service* s = calloc(1, sizeof *s);
  if (!s) return ONEPATH_ERROR;
  for (size_t i = 0; i < p->count; ++i)
    if (strcmp(p->items[i].name, "onepath.driver") == 0) strncpy(s->driver, p->items[i].text, sizeof s->driver - 1);
  *out = s;
  return ONEPATH_OK;
}
static void svc_destroy(void* x) { free(x); }
static onepath_status svc_call(void* x, const char* fn, const char* request, onepath_buffer* out, char* err, size_t n) {
  (void)fn, (void)request, (void)err, (void)n;
  const driver_service* s = x;
  return out->append(out->ctx, s->driver, strlen(s->driver));
}
static const onepath_service_kind driver = {sizeof(onepath_service_kind), "test_driver", "which driver started it", functions, 1,
                                            svc_create, svc_destroy, NULL, NULL, svc_call};
static const onepath_service_kind* const services[] = {&driver};

static const onepath_manifest manifest = {sizeof(onepath_manifest), ONEPATH_ABI_MAJOR, ONEPATH_ABI_MINOR, "test_broken_kinds", "1",
                                          ONEPATH_BUILD_ID, NULL, kinds, 5, NULL, 0, NULL, 0, services, 1};

ONEPATH_EXPORT const onepath_manifest* onepath_plugin_manifest(void) { return &manifest; }
