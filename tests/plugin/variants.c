/* Plugins for the loader's tests, one per VARIANT: the bad ones it must refuse with a clear
 * error (and register nothing), and a small service in plain C. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "onepath/plugin.h"

#ifdef PLUGIN_NAME_OVERRIDE /* two builds of one plugin */
#undef PLUGIN_NAME
#define PLUGIN_NAME PLUGIN_NAME_OVERRIDE
#endif

static const char* const outputs[] = {"value"};
__attribute__((unused)) static onepath_status create(const onepath_params* p, void** out, char* err, size_t n) {
  (void)p, (void)err, (void)n;
  *out = (void*)1;
  return ONEPATH_OK;
}
static void destroy(void* x) { (void)x; }
static onepath_status clone(const void* x, void** out, char* err, size_t n) {
  (void)err, (void)n;
  *out = (void*)x;
  return ONEPATH_OK;
}
static int32_t warmup(const void* x) {
  (void)x;
  return 0;
}
static void reset(void* x) { (void)x; }
#if VARIANT_RELOAD_A || VARIANT_RELOAD_B
/* Two builds of one plugin for hot reload: a candle counter whose state (the count) moves
 * from one build to the next; build A emits the count, build B twice the count. */
#if VARIANT_RELOAD_B
#define FACTOR 2.0
#else
#define FACTOR 1.0
#endif
typedef struct {
  int64_t count;
} counter;
static onepath_status counter_create(const onepath_params* p, void** out, char* err, size_t n) {
  static counter slots[64];
  static int used;
  (void)p;
  if (used == 64) {
    snprintf(err, n, "out of counters");
    return ONEPATH_ERROR;
  }
  slots[used].count = 0;
  *out = &slots[used++];
  return ONEPATH_OK;
}
static onepath_status counter_update(void* x, const onepath_candle* c) {
  (void)c;
  ++((counter*)x)->count;
  return ONEPATH_OK;
}
static void counter_emit(const void* x, double* out) { out[0] = FACTOR * (double)((const counter*)x)->count; }
static onepath_status counter_save(const void* x, onepath_buffer* out) { return out->append(out->ctx, x, sizeof(counter)); }
static onepath_status counter_load(void* x, const void* b, size_t size, char* err, size_t n) {
  if (size != sizeof(counter)) {
    snprintf(err, n, "saved state has another size");
    return ONEPATH_ERROR;
  }
  memcpy(x, b, size);
  return ONEPATH_OK;
}
static const onepath_indicator_kind kind = {sizeof(onepath_indicator_kind), "test_counter", "counts candles", outputs, 1,
                                            counter_create, destroy, clone, counter_update, counter_emit, warmup, NULL, reset,
                                            counter_save, counter_load, NULL, 0, NULL};
#else
#if VARIANT_UPDATE_FAILS
/* Fails on a candle whose close is 13; refuses one whose close is 0 (a value it cannot use). */
static onepath_status update(void* x, const onepath_candle* c) {
  (void)x;
  if (c->close == 13) return ONEPATH_ERROR;
  return c->close == 0 ? ONEPATH_REFUSED : ONEPATH_OK;
}
static const char* last_error(const void* x) {
  (void)x;
  return "test_failing: the lookup table is exhausted"; /* prefixed with its kind: the host does not repeat it */
}
#else
__attribute__((unused)) static onepath_status update(void* x, const onepath_candle* c) {
  (void)x, (void)c;
  return ONEPATH_OK;
}
#endif
static void emit(const void* x, double* out) {
  (void)x;
  out[0] = 1;
}
static onepath_status save(const void* x, onepath_buffer* out) {
  (void)x, (void)out;
  return ONEPATH_OK;
}
static onepath_status load(void* x, const void* b, size_t s, char* err, size_t n) {
  (void)x, (void)b, (void)s, (void)err, (void)n;
  return ONEPATH_OK;
}


#if VARIANT_SMALL_STRUCT
#define KIND_SIZE 8 /* a registration smaller than any version of the ABI */
#elif VARIANT_OLD_MINOR
#define KIND_SIZE offsetof(onepath_indicator_kind, last_error) /* built against ABI 1.0: no last_error */
#else
#define KIND_SIZE sizeof(onepath_indicator_kind)
#endif
#if VARIANT_CLASH
#define KIND_NAME "ema" /* a built-in kind's name */
#elif VARIANT_SERVICE
#define KIND_NAME "test_service_constant"
#elif VARIANT_UPDATE_FAILS
#define KIND_NAME "test_failing"
#elif VARIANT_NULL_UPDATE
#define KIND_NAME "test_null_update"
#elif VARIANT_OLD_MINOR
#define KIND_NAME "test_old_minor"
#elif VARIANT_TOLERANCE_UNSAID
#define KIND_NAME "test_tolerance_unsaid"
#elif VARIANT_TOLERANCE_HUGE
#define KIND_NAME "test_tolerance_huge"
#else
#define KIND_NAME "test_constant"
#endif
#if VARIANT_NULL_UPDATE
#define UPDATE NULL /* a required function missing */
#else
#define UPDATE update
#endif
#if VARIANT_UPDATE_FAILS
#define LAST_ERROR last_error
#else
#define LAST_ERROR NULL
#endif
#if VARIANT_TOLERANCE_UNSAID /* a tolerance without its reason */
#define TOLERANCE 1e-9, NULL
#elif VARIANT_TOLERANCE_HUGE /* a tolerance that is no longer parity */
#define TOLERANCE 0.5, "rounded to halves"
#else
#define TOLERANCE 0, NULL
#endif

static const onepath_indicator_kind kind = {KIND_SIZE, KIND_NAME, "always 1", outputs, 1, create, destroy, clone, UPDATE, emit, warmup,
                                            NULL, reset, save, load, LAST_ERROR, TOLERANCE};
#endif
static const onepath_indicator_kind* const kinds[] = {&kind};

#if VARIANT_INIT_FAILS
static onepath_status init(const onepath_host* host, char* err, size_t n) {
  (void)host;
  snprintf(err, n, "the licence file is missing");
  return ONEPATH_ERROR;
}
#else
#define init NULL
#endif

#if VARIANT_SERVICE
/* A service: echo answers the request; count answers how many calls it has had and keeps
 * a host counter; each call also posts work back and sends a journal event. */
typedef struct {
  const onepath_host* host;
  long calls;
} svc;
static const onepath_host* the_host;
static long posted_runs;
static void on_posted(void* arg) { posted_runs += arg == &posted_runs; }
static const char* const functions[] = {"echo", "count", "posted"};
static onepath_status svc_create(const onepath_params* p, const onepath_host* host, void** out, char* err, size_t n) {
  static svc s;
  (void)p, (void)err, (void)n;
  s.host = host;
  s.calls = 0;
  the_host = host;
  *out = &s;
  return ONEPATH_OK;
}
static void svc_destroy(void* x) { (void)x; }
static onepath_status svc_start(void* x, char* err, size_t n) {
  (void)x, (void)err, (void)n;
  return ONEPATH_OK;
}
static void svc_stop(void* x) { (void)x; }
static onepath_status svc_call(void* x, const char* fn, const char* request, onepath_buffer* out, char* err, size_t n) {
  svc* s = (svc*)x;
  char buf[64];
  ++s->calls;
  s->host->counter_add(s->host->host_data, "test_service_calls", 1);
  if (strcmp(fn, "echo") == 0) return out->append(out->ctx, request, strlen(request));
  if (strcmp(fn, "count") == 0) {
    snprintf(buf, sizeof buf, "%ld", s->calls);
    return out->append(out->ctx, buf, strlen(buf));
  }
  if (strcmp(fn, "posted") == 0) {
    s->host->post(s->host->host_data, on_posted, &posted_runs);
    s->host->journal_event(s->host->host_data, "tests", "posted", "{\"ok\":true}");
    snprintf(buf, sizeof buf, "%ld", posted_runs);
    return out->append(out->ctx, buf, strlen(buf));
  }
  snprintf(err, n, "no function %s", fn);
  return ONEPATH_ERROR;
}
static const onepath_service_kind service = {sizeof(onepath_service_kind), "tests", "a test service", functions, 3, svc_create,
                                             svc_destroy, svc_start, svc_stop, svc_call};
static const onepath_service_kind* const services[] = {&service};
#define SERVICES services, 1
#else
#define SERVICES NULL, 0
#endif
#define KINDS kinds, 1

#if VARIANT_WRONG_MAJOR
#define MAJOR (ONEPATH_ABI_MAJOR + 1)
#else
#define MAJOR ONEPATH_ABI_MAJOR
#endif
#if VARIANT_NEWER_MINOR
#define MINOR (ONEPATH_ABI_MINOR + 1)
#else
#define MINOR ONEPATH_ABI_MINOR
#endif

static const onepath_manifest manifest = {sizeof(onepath_manifest), MAJOR, MINOR, PLUGIN_NAME, "0.1", ONEPATH_BUILD_ID, init, KINDS,
                                          NULL, 0, NULL, 0, SERVICES};

#if !VARIANT_NO_ENTRY
const onepath_manifest* onepath_plugin_manifest(void) { return &manifest; }
#else
ONEPATH_EXPORT const onepath_manifest* something_else(void);
const onepath_manifest* something_else(void) { return &manifest; }
#endif
