#pragma once
// The indicator contract, the inputs an indicator can read, and the type-erased face that
// the enrichment engine, the CLI and (later) plugins use.
//
// A concrete indicator T (see average.hpp and its siblings) has:
//   static constexpr std::string_view kKind;             its name in feature sets
//   static constexpr std::array<std::string_view, N> kOutputs;
//   T(params...)                 throws InputError naming kind, parameter and value
//   Refusal update(const Candle&)  the only place its arithmetic lives; refuses (and changes
//                                  nothing) when a value it reads is not finite, or not
//                                  positive for the log-based kinds. Kinds that read one
//                                  series route it through update_input(x), which the batch
//                                  loop calls with x read straight from a column.
//   Refusal update_value(double)   (one-series kinds) a feature's value: NaN is skipped
//   Refusal update_values(double, double)   (two-series kinds) the same for two
// Refusals are statuses, not exceptions, so that the per-row loops have no exception edges
// (and the C ABI can carry them); the type-erased Indicator turns them into InputError.
//   void emit(double* out) const N outputs, NaN before the first valid row
//   int warmup() const           rows before the first valid row
//   int settle_bars() const      (recursive and path-dependent kinds) see Indicator
//   bool ready() const
//   void reset()
//   std::string params_text() const   "period=14,input=close"
//   template <class A> void fields(A&)  its state, for save / load
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/candle.hpp"
#include "core/error.hpp"

namespace onepath {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// max(a, b) of finite values with no signed zero between them: the bits of std::fmax
// without its out-of-line call (fmax must handle NaN, so without -ffinite-math-only GCC
// calls libm, spilling the indicator's state around it).
inline double max_finite(double a, double b) { return a < b ? b : a; }

// when ? a : b, chosen by mask, for a condition a random walk makes a coin toss: a branch on
// it is mispredicted half the time, and GCC often branches on a plain ?: of doubles.
inline double choose(bool when, double a, double b) {
  const std::uint64_t mask = std::uint64_t{0} - static_cast<std::uint64_t>(when);
  return std::bit_cast<double>((std::bit_cast<std::uint64_t>(a) & mask) | (std::bit_cast<std::uint64_t>(b) & ~mask));
}

// The series an indicator reads from a candle (`input` in feature sets).
enum class Source : std::uint8_t { open, high, low, close, volume, hl2, hlc3, ohlc4 };
Source parse_source(std::string_view name);  // throws InputError listing the choices
std::string_view source_name(Source s);

enum class Refusal : std::uint8_t { none, not_finite, not_positive };

template <class... V>
inline bool all_finite(V... values) {
  return (std::isfinite(values) && ...);
}

namespace detail {
[[noreturn]] void throw_bad_param(std::string_view kind, std::string_view param, double value, std::string_view why);
[[noreturn]] void throw_refused_candle(std::string_view kind, Refusal why, const Candle& c);
[[noreturn]] void throw_refused_value(std::string_view kind, Refusal why, double x);
}  // namespace detail

inline int check_period(std::string_view kind, std::string_view param, int value, int minimum = 1) {
  if (value < minimum || value > 1'000'000)
    detail::throw_bad_param(kind, param, value, "must be a whole number from " + std::to_string(minimum) + " to 1000000");
  return value;
}

inline double select(const Candle& c, Source s) {
  switch (s) {
    case Source::open:
      return c.open;
    case Source::high:
      return c.high;
    case Source::low:
      return c.low;
    case Source::close:
      return c.close;
    case Source::volume:
      return c.volume;
    case Source::hl2:
      return (c.high + c.low) / 2;
    case Source::hlc3:
      return (c.high + c.low + c.close) / 3;
    case Source::ohlc4:
      return (c.open + c.high + c.low + c.close) / 4;
  }
  return kNaN;
}

// The same selection straight from the columns: reads only the columns the source needs.
inline double select(const CandleSeries& s, Source src, std::size_t i) {
  switch (src) {
    case Source::open:
      return s.open[i];
    case Source::high:
      return s.high[i];
    case Source::low:
      return s.low[i];
    case Source::close:
      return s.close[i];
    case Source::volume:
      return s.volume[i];
    case Source::hl2:
      return (s.high[i] + s.low[i]) / 2;
    case Source::hlc3:
      return (s.high[i] + s.low[i] + s.close[i]) / 3;
    case Source::ohlc4:
      return (s.open[i] + s.high[i] + s.low[i] + s.close[i]) / 4;
  }
  return kNaN;
}

// The entry points of a kind that reads one series (`input`, default close): a candle's
// field, a value straight from a column (the batch loop), or another feature's value (NaN:
// skipped). Derived has `void push(double x)` for a finite x, and names SeriesInput a friend.
template <class Derived>
class SeriesInput {
 public:
  explicit SeriesInput(Source input) : input_(input) {}
  Refusal update(const Candle& c) { return update_input(select(c, input_)); }
  Refusal update_input(double x) {
    if (!std::isfinite(x)) [[unlikely]]
      return Refusal::not_finite;
    static_cast<Derived*>(this)->push(x);
    return Refusal::none;
  }
  Refusal update_value(double x) { return x != x ? Refusal::none : update_input(x); }
  Source input() const { return input_; }

 protected:
  Source input_;
};

// params_text() pieces: "period=14", "period=14,input=close".
inline std::string period_text(int period) { return "period=" + std::to_string(period); }
inline std::string period_text(int period, Source input) { return period_text(period) + ",input=" + std::string(source_name(input)); }

// Type-erased face of any indicator.
class Indicator {
 public:
  virtual ~Indicator() = default;
  virtual std::string_view kind() const = 0;
  virtual std::string params_text() const = 0;
  virtual std::span<const std::string_view> outputs() const = 0;
  // How many series a feature can feed it: 1 (update_value), 2 (update_values), or 0
  // for kinds that read whole candles.
  virtual int series_inputs() const = 0;
  virtual void update(const Candle& c) = 0;
  // series_inputs() values; InputError for kinds that read whole candles.
  virtual void update_values(const double* x) = 0;
  virtual void emit(double* out) const = 0;
  // update(c) then emit(out): one call per candle on the streaming path, the concrete
  // update and emit inlined together (the built-in kinds override it).
  virtual void update_emit(const Candle& c, double* out) {
    update(c);
    emit(out);
  }
  // update + emit for rows [begin, end) of a series, output k of row i written to
  // columns[k][i]: the batch path, with the concrete update inlined in one loop.
  virtual void update_many(const CandleSeries& s, std::size_t begin, std::size_t end, double* const* columns) = 0;
  virtual int warmup() const = 0;
  // Rows after which the start of the history no longer matters (within 1e-9 relative):
  // the window for finite-memory kinds; for recursive ones (EMA, Wilder, MACD) the rows
  // until the forgotten weight (1-k)^n is below 1e-12 (rows_to_forget). 0 for path-dependent kinds (OBV,
  // CUSUM), whose values depend on where the history starts however long it is.
  virtual int settle_bars() const = 0;
  // The tolerance ladder (docs/certify.md): 0, batch and streaming give the same bits (every
  // built-in kind); a plugin kind that cannot promise it declares the relative difference it
  // allows, and why.
  virtual double tolerance() const { return 0; }
  virtual std::string tolerance_why() const { return {}; }
  virtual bool ready() const = 0;
  virtual void reset() = 0;
  // Versioned binary state; load refuses another kind, other parameters or a damaged blob.
  virtual std::string save() const = 0;
  virtual void load(std::string_view bytes) = 0;
  virtual std::size_t state_bytes() const = 0;
  virtual std::unique_ptr<Indicator> clone() const = 0;

  // Twins: kinds that hold the same state when they read the same candles (natr's is atr's
  // of the same period, stddev's bbands', the high/low window of stoch willr's and
  // donchian's). The key names that state, its type and parameters, or is empty; a streaming
  // plan updates that state in one of a set of twins and has the others update the rest of
  // theirs from it (the concrete kind: T::TwinState, twin_key(), twin_state(),
  // emit_with(state, out), and update_with(state, candle) when it keeps more than the state).
  virtual std::string twin_key() const { return {}; }
  virtual const void* twin_state() const { return nullptr; }
  // update(c) + emit(out) with a twin's state, already updated with c, in place of its own.
  virtual void update_twin(const void* /*state*/, const Candle& /*c*/, double* /*out*/) {}
  // Takes a twin's state as its own: before a save, so the saved form is as if it had
  // updated itself.
  virtual void adopt_twin(const void* /*state*/) {}

  void bootstrap(const CandleSeries& history) {
    for (std::size_t i = 0; i < history.size(); ++i) update(history[i]);
  }
};

// Rows until a recursion with forgetting factor `keep` per row forgets all but 1e-12 of
// where it started: 1e-9 relative with room for a start up to 1000 times off today's level.
inline int rows_to_forget(double keep) { return keep > 0 ? static_cast<int>(std::ceil(std::log(1e-12) / std::log(keep))) : 0; }

}  // namespace onepath
