// onepath plugins in C++: the C ABI of plugin.h made from plain classes, with every
// exception caught at the boundary and turned into a status and a message, so a C++ plugin
// cannot unwind into the host by accident. Header-only; needs C++20.
//
//   struct Kama {                                   // an indicator kind
//     static constexpr const char* name = "kama";
//     static constexpr const char* description = "...";
//     static constexpr const char* outputs[] = {"value"};
//     explicit Kama(const onepath::Params& p);      // throw std::invalid_argument for bad params
//     bool update(const onepath_candle& c);         // false: refused (a value is unusable), nothing changed;
//                                                   // a throw: the kind failed (the run fails, its message shown)
//     void emit(double* out) const;
//     int warmup() const;
//     void reset();
//     void save(std::string& out) const;            // append the state
//     void load(std::string_view bytes);            // throw on a damaged state
//     // optional (ABI minor 3), when batch cannot give streaming's bits (docs/certify.md):
//     static constexpr double tolerance = 1e-12;    // relative
//     static constexpr const char* tolerance_why = "...";
//   };
//   static const onepath_indicator_kind kama = onepath::indicator_kind<Kama>();
//
// Filters (filter_kind<T>), feeds (feed_kind<T>) and services (service_kind<T>) follow the
// same pattern; see docs/plugins.md.
#ifndef ONEPATH_PLUGIN_HPP
#define ONEPATH_PLUGIN_HPP

#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "onepath/plugin.h"

namespace onepath {

// A kind's parameters, read by name.
class Params {
 public:
  explicit Params(const onepath_params* p) : p_(p) {}
  const onepath_param* find(std::string_view name) const {
    for (size_t i = 0; p_ && i < p_->count; ++i)
      if (name == p_->items[i].name) return &p_->items[i];
    return nullptr;
  }
  double number(std::string_view name, double fallback) const {
    const onepath_param* x = find(name);
    if (!x) return fallback;
    if (!x->is_number) throw std::invalid_argument("parameter '" + std::string(name) + "' = '" + x->text + "': must be a number");
    return x->number;
  }
  double number(std::string_view name) const {
    if (!find(name)) throw std::invalid_argument("parameter '" + std::string(name) + "' is required");
    return number(name, 0);
  }
  int integer(std::string_view name, int fallback, int minimum = 1, int maximum = 1000000) const {
    const double v = number(name, fallback);
    if (v != std::floor(v) || v < minimum || v > maximum)
      throw std::invalid_argument("parameter '" + std::string(name) + "' must be a whole number from " + std::to_string(minimum) + " to " +
                                  std::to_string(maximum));
    return static_cast<int>(v);
  }
  std::string text(std::string_view name, std::string fallback) const {
    const onepath_param* x = find(name);
    return x ? std::string(x->text) : fallback;
  }
  // Every given parameter must be one of `known`: a misspelt one is an error, not a default.
  void only(std::initializer_list<std::string_view> known) const {
    for (size_t i = 0; p_ && i < p_->count; ++i) {
      bool ok = false;
      for (auto k : known) ok = ok || k == p_->items[i].name;
      if (!ok) {
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        throw std::invalid_argument("unknown parameter '" + std::string(p_->items[i].name) + "' (known: " + list + ")");
      }
    }
  }

 private:
  const onepath_params* p_;
};

// Plain values appended to / read from a state blob, in the host's byte order.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <class T>
  Writer& operator()(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  template <class T>
  Writer& operator()(const std::vector<T>& v) {
    (*this)(static_cast<uint64_t>(v.size()));
    for (const auto& x : v) (*this)(x);
    return *this;
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  Reader& operator()(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (in_.size() - pos_ < sizeof v) throw std::runtime_error("saved state is truncated");
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return *this;
  }
  template <class T>
  Reader& operator()(std::vector<T>& v) {
    uint64_t n = 0;
    (*this)(n);
    if (n > (in_.size() - pos_) / sizeof(T)) throw std::runtime_error("saved state is damaged");
    v.resize(static_cast<size_t>(n));
    for (auto& x : v) (*this)(x);
    return *this;
  }
  void end() const {
    if (pos_ != in_.size()) throw std::runtime_error("saved state has trailing bytes");
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

namespace detail {

inline void set_error(char* err, size_t size, const char* message) {
  if (err && size) std::snprintf(err, size, "%s", message);
}

// The message of an indicator update's last ONEPATH_ERROR on this thread.
inline std::string& last_error() {
  thread_local std::string message;
  return message;
}

// Runs f; an exception becomes ONEPATH_ERROR with its message.
template <class F>
onepath_status guard(char* err, size_t err_size, F&& f) noexcept {
  try {
    f();
    return ONEPATH_OK;
  } catch (const std::exception& e) {
    set_error(err, err_size, e.what());
  } catch (...) {
    set_error(err, err_size, "unknown exception");
  }
  return ONEPATH_ERROR;
}

inline onepath_status append(onepath_buffer* out, const std::string& bytes) noexcept {
  return out->append(out->ctx, bytes.data(), bytes.size());
}

// A kind's save and load, for every kind: T::save(std::string&) appends the state;
// T::load(std::string_view) reads it into a copy, which replaces the state only when whole.
template <class T>
onepath_status save(const void* x, onepath_buffer* out) noexcept {
  try {
    std::string s;
    static_cast<const T*>(x)->save(s);
    return append(out, s);
  } catch (...) {
    return ONEPATH_ERROR;
  }
}

template <class T>
onepath_status load(void* x, const void* bytes, size_t size, char* err, size_t n) noexcept {
  return guard(err, n, [&] {
    T copy = *static_cast<T*>(x);
    copy.load(std::string_view(static_cast<const char*>(bytes), size));
    *static_cast<T*>(x) = std::move(copy);
  });
}

}  // namespace detail

template <class T>
onepath_indicator_kind indicator_kind() {
  onepath_indicator_kind k{};
  k.struct_size = sizeof k;
  k.name = T::name;
  k.description = T::description;
  k.outputs = T::outputs;
  k.output_count = static_cast<uint32_t>(std::size(T::outputs));
  k.create = [](const onepath_params* p, void** out, char* err, size_t n) {
    return detail::guard(err, n, [&] { *out = new T(Params(p)); });
  };
  k.destroy = [](void* x) { delete static_cast<T*>(x); };
  k.clone = [](const void* x, void** out, char* err, size_t n) {
    return detail::guard(err, n, [&] { *out = new T(*static_cast<const T*>(x)); });
  };
  k.update = [](void* x, const onepath_candle* c) -> onepath_status {
    try {
      return static_cast<T*>(x)->update(*c) ? ONEPATH_OK : ONEPATH_REFUSED;
    } catch (const std::exception& e) {
      detail::last_error() = e.what();
    } catch (...) {
      detail::last_error() = "unknown exception";
    }
    return ONEPATH_ERROR;  // a throw is the kind's failure, not the data's
  };
  k.last_error = [](const void*) -> const char* { return detail::last_error().c_str(); };
  k.emit = [](const void* x, double* out) { static_cast<const T*>(x)->emit(out); };
  k.warmup = [](const void* x) -> int32_t { return static_cast<const T*>(x)->warmup(); };
  k.settle_bars = nullptr;
  k.reset = [](void* x) { static_cast<T*>(x)->reset(); };
  k.save = detail::save<T>;
  k.load = detail::load<T>;
  if constexpr (requires { T::tolerance; T::tolerance_why; }) k.tolerance = T::tolerance, k.tolerance_why = T::tolerance_why;
  return k;
}

// A filter: T(const Params&, std::vector<std::string> symbols); bool apply(onepath_intent&,
// const onepath_filter_ctx&, std::string& reason) (false drops); optional on_entry, on_exit,
// on_bar(int32_t symbol, const onepath_candle&); save(std::string&) const; load(std::string_view).
template <class T>
onepath_filter_kind filter_kind() {
  onepath_filter_kind k{};
  k.struct_size = sizeof k;
  k.name = T::name;
  k.description = T::description;
  k.create = [](const onepath_params* p, const char* const* symbols, size_t count, void** out, char* err, size_t n) {
    return detail::guard(err, n, [&] { *out = new T(Params(p), std::vector<std::string>(symbols, symbols + count)); });
  };
  k.destroy = [](void* x) { delete static_cast<T*>(x); };
  k.apply = [](void* x, onepath_intent* in, const onepath_filter_ctx* ctx, char* reason, size_t n) -> onepath_status {
    try {
      std::string why;
      if (static_cast<T*>(x)->apply(*in, *ctx, why)) return ONEPATH_OK;
      detail::set_error(reason, n, why.c_str());
      return ONEPATH_DROP;
    } catch (const std::exception& e) {
      detail::set_error(reason, n, e.what());
    } catch (...) {
      detail::set_error(reason, n, "unknown exception");
    }
    return ONEPATH_ERROR;
  };
  if constexpr (requires(T t) { t.on_entry(int32_t{}, int64_t{}); })
    k.on_entry = [](void* x, int32_t s, int64_t bar) { static_cast<T*>(x)->on_entry(s, bar); };
  if constexpr (requires(T t) { t.on_exit(int32_t{}, int64_t{}); })
    k.on_exit = [](void* x, int32_t s, int64_t bar) { static_cast<T*>(x)->on_exit(s, bar); };
  if constexpr (requires(T t, const onepath_candle& c) { t.on_bar(int32_t{}, c); })
    k.on_bar = [](void* x, int32_t s, const onepath_candle* c) { static_cast<T*>(x)->on_bar(s, *c); };
  k.save = detail::save<T>;
  k.load = detail::load<T>;
  return k;
}

// A feed: T(const Params&, std::vector<std::string> symbols, int64_t timeframe_ms);
// onepath_status next(int64_t& ts, onepath_candle* candles, uint8_t* present);
// save(std::string&) const; load(std::string_view).
template <class T>
onepath_feed_kind feed_kind() {
  onepath_feed_kind k{};
  k.struct_size = sizeof k;
  k.name = T::name;
  k.description = T::description;
  k.create = [](const onepath_params* p, const char* const* symbols, size_t count, int64_t tf, void** out, char* err, size_t n) {
    return detail::guard(err, n, [&] { *out = new T(Params(p), std::vector<std::string>(symbols, symbols + count), tf); });
  };
  k.destroy = [](void* x) { delete static_cast<T*>(x); };
  k.next = [](void* x, int64_t* ts, onepath_candle* candles, uint8_t* present, char* err, size_t n) -> onepath_status {
    onepath_status st = ONEPATH_ERROR;
    const onepath_status guarded = detail::guard(err, n, [&] { st = static_cast<T*>(x)->next(*ts, candles, present); });
    return guarded == ONEPATH_OK ? st : guarded;
  };
  k.save = detail::save<T>;
  k.load = detail::load<T>;
  return k;
}

// A service: T(const Params&, const onepath_host*); start(); stop(); std::string
// call(std::string_view function, std::string_view request); static functions[].
template <class T>
onepath_service_kind service_kind() {
  onepath_service_kind k{};
  k.struct_size = sizeof k;
  k.name = T::name;
  k.description = T::description;
  k.functions = T::functions;
  k.function_count = static_cast<uint32_t>(std::size(T::functions));
  k.create = [](const onepath_params* p, const onepath_host* host, void** out, char* err, size_t n) {
    return detail::guard(err, n, [&] { *out = new T(Params(p), host); });
  };
  k.destroy = [](void* x) { delete static_cast<T*>(x); };
  k.start = [](void* x, char* err, size_t n) { return detail::guard(err, n, [&] { static_cast<T*>(x)->start(); }); };
  k.stop = [](void* x) {
    try {
      static_cast<T*>(x)->stop();
    } catch (...) {
    }
  };
  k.call = [](void* x, const char* fn, const char* request, onepath_buffer* out, char* err, size_t n) {
    onepath_status st = ONEPATH_OK;
    const onepath_status guarded = detail::guard(err, n, [&] { st = detail::append(out, static_cast<T*>(x)->call(fn, request)); });
    return guarded == ONEPATH_OK ? st : guarded;
  };
  return k;
}

}  // namespace onepath

#endif  // ONEPATH_PLUGIN_HPP
