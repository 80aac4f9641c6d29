/* onepath plugin ABI: what a native plugin and the host share. Pure C (C99 and C++).
 *
 * A plugin is a shared object exporting one function, onepath_plugin_manifest(), that
 * returns a manifest: the ABI version it was built against, its name and version, and the
 * kinds it registers (indicators, filters, feeds, services). Rules (docs/plugins.md):
 *
 *  - Versioning. The host refuses a plugin of another ABI major, or of a newer minor than
 *    its own. Within a major, structs only ever grow at their end.
 *  - Sizes. Every struct a plugin hands over starts with its struct_size (sizeof in the
 *    plugin's build); the host reads only the fields that size covers and refuses sizes
 *    smaller than version 1.0's. Structs the host hands over (onepath_host, onepath_intent,
 *    onepath_filter_ctx) start with theirs: read a field only if struct_size covers it.
 *  - Statuses. Every call returns an onepath_status; on ONEPATH_ERROR it writes a NUL-
 *    terminated message into the caller's err buffer (err_size bytes, err_size >= 1), or,
 *    for an indicator's update (no buffer: it is the hot path), answers last_error. The
 *    host adds the plugin file and the kind's name to what it reports: a message need not
 *    (and should not) start with them. Nothing unwinds across the boundary: C++ plugins
 *    catch everything (plugin.hpp does).
 *  - Pointers. Every function pointer of a kind is required unless its comment says "may
 *    be NULL"; the host refuses a plugin with a required one missing, naming it.
 *  - Building without CMake: cc -std=c99 -O2 -fPIC -shared -Isdk/include my_plugin.c -o
 *    my_plugin.so -lm (C++: c++ -std=c++20 ...); link statically anything the host may not
 *    have. `onepath plugins inspect my_plugin.so` checks the result.
 *  - Threads. The host calls a kind's instances from one thread at a time (the session's);
 *    a plugin's own threads talk to the host only through onepath_host.post.
 *  - Lifetime. A loaded plugin is never unloaded while the process runs; instances are
 *    destroyed with their kind's destroy.
 */
#ifndef ONEPATH_PLUGIN_H
#define ONEPATH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONEPATH_ABI_MAJOR 1
#define ONEPATH_ABI_MINOR 3

/* Set by onepath_add_plugin() (the build's revision); for the manifest's build_id. */
#ifndef ONEPATH_BUILD_ID
#define ONEPATH_BUILD_ID "unknown"
#endif

#if defined(__GNUC__)
#define ONEPATH_EXPORT __attribute__((visibility("default")))
#else
#define ONEPATH_EXPORT
#endif

typedef int32_t onepath_status;
#define ONEPATH_OK 0
#define ONEPATH_ERROR 1   /* the call failed; err says why */
#define ONEPATH_REFUSED 2 /* indicator update: a value it reads is unusable; its state is unchanged */
#define ONEPATH_DROP 3    /* filter apply: drop the intent; err holds the reason */
#define ONEPATH_PENDING 4 /* feed next: no complete time slice yet; ask again later */
#define ONEPATH_END 5     /* feed next: the feed has ended */

/* Log levels of onepath_host.log */
#define ONEPATH_LOG_DEBUG 0
#define ONEPATH_LOG_INFO 1
#define ONEPATH_LOG_WARN 2
#define ONEPATH_LOG_ERROR 3

/* Time is int64 milliseconds since the Unix epoch, UTC; a candle's ts is its OPEN time (the
 * candle of 12:00 on 15m covers [12:00, 12:15) and is handed over once it has closed). */
typedef struct onepath_candle {
  int64_t ts;
  double open, high, low, close, volume;
} onepath_candle;

/* A kind's parameters as the config gave them: every value as text, and as a number when it is one. */
typedef struct onepath_param {
  const char* name;
  const char* text;
  double number;
  int32_t is_number;
} onepath_param;

typedef struct onepath_params {
  const onepath_param* items;
  size_t count;
} onepath_params;

/* Bytes the host owns: a plugin appends to it (saved state, a service's answer). */
typedef struct onepath_buffer {
  void* ctx;
  onepath_status (*append)(void* ctx, const void* bytes, size_t size);
} onepath_buffer;

/* What the host offers a plugin; it only ever grows at the end. */
typedef struct onepath_host {
  uint32_t struct_size;
  uint32_t abi_major, abi_minor;
  void* host_data; /* pass it back as the first argument */
  void (*log)(void* host_data, int32_t level, const char* plugin, const char* message);
  int64_t (*now_ms)(void* host_data); /* wall clock, UTC ms */
  /* The plugin's own [[plugins]] params, as text; NULL when absent. */
  const char* (*config_value)(void* host_data, const char* plugin, const char* key);
  /* An event in the journal of the running session (fields: a JSON object, or NULL; a
   * "correlation_id" field in it is the event's correlation id). Safe from any thread: the
   * session's thread writes it between candles. */
  void (*journal_event)(void* host_data, const char* plugin, const char* name, const char* fields_json);
  /* A counter, shown with the session's metrics as onepath_plugin_counter{name="..."}. */
  void (*counter_add)(void* host_data, const char* name, double delta);
  /* Runs fn(arg) on the session's thread between candles. Safe from any thread. */
  onepath_status (*post)(void* host_data, void (*fn)(void* arg), void* arg);
  /* Calls a service's function (another plugin's, or the host's). */
  onepath_status (*call_service)(void* host_data, const char* service, const char* function, const char* request,
                                 onepath_buffer* response, char* err, size_t err_size);
  /* Minor 1. Inside a service's call(): -1 when the host itself called (a command, another
   * plugin); else a sandboxed script called, and this is how many ms its callback may still
   * run. A script's call must read no file, wait no longer than this, and queue a bounded
   * amount of work. Read it only when struct_size covers it. */
  int64_t (*script_time_left_ms)(void* host_data);
} onepath_host;

/* ---- indicators: usable in feature sets by name, like the built-in kinds ---- */
typedef struct onepath_indicator_kind {
  uint32_t struct_size;
  const char* name;        /* the kind's name in feature sets */
  const char* description; /* may be NULL */
  const char* const* outputs; /* output names (1 to 4); a feature `x` of a kind with outputs a, b gives columns x_a, x_b */
  uint32_t output_count;
  /* A new instance from the feature's own parameters only (its name, kind and `symbol` are
   * the host's and are not passed); bad parameters: ONEPATH_ERROR, the reason in err. */
  onepath_status (*create)(const onepath_params* params, void** instance, char* err, size_t err_size);
  void (*destroy)(void* instance);
  /* An independent copy with the same state: updating one never changes the other. */
  onepath_status (*clone)(const void* instance, void** copy, char* err, size_t err_size);
  /* One closed candle, oldest first:
   *   ONEPATH_OK       the state moved on;
   *   ONEPATH_REFUSED  a value of the candle is unusable for this kind (not finite, not
   *                    positive): the state is unchanged and the host reports the candle as
   *                    bad input data (exit 2: the data is the user's to fix);
   *   ONEPATH_ERROR    the kind itself failed (a bug, memory): the host reports the plugin
   *                    file, the kind and last_error's message, and the run fails (exit 1). */
  onepath_status (*update)(void* instance, const onepath_candle* candle);
  void (*emit)(const void* instance, double* out); /* output_count values; NaN before the first valid row */
  int32_t (*warmup)(const void* instance);         /* rows before the first valid row */
  /* Rows of history after which where it started no longer changes the output's bits
   * (>= warmup + 1; an EMA needs many more than its warm-up). The host bootstraps a
   * streaming session with this many rows. May be NULL: warmup + 1. */
  int32_t (*settle_bars)(const void* instance);
  /* Back to the state create() made, parameters kept: as if no candle had been seen. */
  void (*reset)(void* instance);
  onepath_status (*save)(const void* instance, onepath_buffer* out);
  /* Replaces the state with saved bytes, or leaves it unchanged and answers ONEPATH_ERROR. */
  onepath_status (*load)(void* instance, const void* bytes, size_t size, char* err, size_t err_size);
  /* Minor 2; may be NULL. Why update last answered ONEPATH_ERROR (valid until the next call
   * into this kind on this thread). Read only when struct_size covers it. */
  const char* (*last_error)(const void* instance);
  /* Minor 3; read only when struct_size covers it. The tolerance ladder (docs/certify.md):
   * 0 promises that batch (a column at a time) and streaming (a candle at a time) give the
   * same bits. A kind that cannot promise it (its batch sums in another order, it calls a
   * library that does) declares the largest relative difference it allows, and why;
   * `onepath certify` and a paper session's shadow check compare its columns, and columns
   * computed from them, within it, and name it beside them. */
  double tolerance;
  const char* tolerance_why; /* one sentence; required when tolerance > 0 */
} onepath_indicator_kind;

/* ---- filters: between a strategy's intents and the risk manager ---- */
#define ONEPATH_BUY 0
#define ONEPATH_SELL 1
#define ONEPATH_CLOSE 2
#define ONEPATH_MARKET 0
#define ONEPATH_LIMIT 1
#define ONEPATH_STOP 2
#define ONEPATH_SIZE_QUANTITY 0
#define ONEPATH_SIZE_EQUITY_FRACTION 1
#define ONEPATH_SIZE_RISK_FRACTION 2
#define ONEPATH_LEVEL_NONE 0
#define ONEPATH_LEVEL_PRICE 1
#define ONEPATH_LEVEL_PERCENT 2
#define ONEPATH_LEVEL_ATR 3

/* An intent as docs/lua-api.md describes its options; NaN where not given. */
typedef struct onepath_intent {
  uint32_t struct_size;
  int32_t action, type;
  double price;
  int32_t size_mode;
  double size_value, max_fraction;
  int32_t stop_mode;
  double stop_value;
  int32_t take_mode;
  double take_value, atr;
  int32_t exit_after_bars, valid_bars;
  double close_quantity;
} onepath_intent;

typedef struct onepath_filter_ctx {
  uint32_t struct_size;
  int32_t symbol;          /* index into the session's symbols */
  const char* symbol_name;
  int64_t bar, ts;         /* the symbol's bar count, its time */
  int32_t open_positions;  /* symbols holding a position or a pending entry */
  int32_t has_position;
  double close;            /* the bar's close */
} onepath_filter_ctx;

typedef struct onepath_filter_kind {
  uint32_t struct_size;
  const char* name; /* [[filters]] kind = "name" */
  const char* description; /* may be NULL */
  onepath_status (*create)(const onepath_params* params, const char* const* symbols, size_t symbol_count, void** instance,
                           char* err, size_t err_size);
  void (*destroy)(void* instance);
  /* ONEPATH_OK passes the intent (it may change it), ONEPATH_DROP drops it with the reason in `reason`. */
  onepath_status (*apply)(void* instance, onepath_intent* intent, const onepath_filter_ctx* ctx, char* reason, size_t reason_size);
  void (*on_entry)(void* instance, int32_t symbol, int64_t bar); /* may be NULL */
  void (*on_exit)(void* instance, int32_t symbol, int64_t bar);  /* may be NULL */
  void (*on_bar)(void* instance, int32_t symbol, const onepath_candle* candle); /* every candle; may be NULL */
  onepath_status (*save)(const void* instance, onepath_buffer* out);
  onepath_status (*load)(void* instance, const void* bytes, size_t size, char* err, size_t err_size);
} onepath_filter_kind;

/* ---- feeds: candles for a paper session, a time slice at a time ---- */
typedef struct onepath_feed_kind {
  uint32_t struct_size;
  const char* name; /* [paper] feed = "name" */
  const char* description; /* may be NULL */
  onepath_status (*create)(const onepath_params* params, const char* const* symbols, size_t symbol_count, int64_t timeframe_ms,
                           void** instance, char* err, size_t err_size);
  void (*destroy)(void* instance);
  /* The next complete time slice: *ts, and for each symbol i candles[i] with present[i] = 1
   * (0: no candle of it at ts). ONEPATH_PENDING: none yet; ONEPATH_END: the feed ended. */
  onepath_status (*next)(void* instance, int64_t* ts, onepath_candle* candles, uint8_t* present, char* err, size_t err_size);
  /* Where it stands (after the last slice handed over), and back. */
  onepath_status (*save)(const void* instance, onepath_buffer* out);
  onepath_status (*load)(void* instance, const void* bytes, size_t size, char* err, size_t err_size);
} onepath_feed_kind;

/* ---- services: started and stopped with the session, called by name ---- */
typedef struct onepath_service_kind {
  uint32_t struct_size;
  const char* name;
  const char* description; /* may be NULL */
  const char* const* functions; /* the names call() answers */
  uint32_t function_count;
  onepath_status (*create)(const onepath_params* params, const onepath_host* host, void** instance, char* err, size_t err_size);
  void (*destroy)(void* instance);
  onepath_status (*start)(void* instance, char* err, size_t err_size); /* may be NULL */
  void (*stop)(void* instance);                                        /* may be NULL */
  /* Answers a request (text, often JSON) by appending to response. */
  onepath_status (*call)(void* instance, const char* function, const char* request, onepath_buffer* response, char* err,
                         size_t err_size);
} onepath_service_kind;

/* ---- the manifest ---- */
typedef struct onepath_manifest {
  uint32_t struct_size;
  uint32_t abi_major, abi_minor; /* ONEPATH_ABI_MAJOR / _MINOR of the plugin's build */
  const char* name;
  const char* version;
  const char* build_id;
  /* Called once after loading, before any kind is used; may be NULL. */
  onepath_status (*init)(const onepath_host* host, char* err, size_t err_size);
  const onepath_indicator_kind* const* indicators;
  uint32_t indicator_count;
  const onepath_filter_kind* const* filters;
  uint32_t filter_count;
  const onepath_feed_kind* const* feeds;
  uint32_t feed_count;
  const onepath_service_kind* const* services;
  uint32_t service_count;
} onepath_manifest;

#define ONEPATH_MANIFEST_SYMBOL "onepath_plugin_manifest"
typedef const onepath_manifest* (*onepath_manifest_fn)(void);

/* Every plugin defines this one function. */
ONEPATH_EXPORT const onepath_manifest* onepath_plugin_manifest(void);

#ifdef __cplusplus
}
#endif

#endif /* ONEPATH_PLUGIN_H */
