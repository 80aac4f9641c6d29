#pragma once
// Saving and restoring state in a versioned binary form. A stateful type lists its fields
// once, in `template <class Archive> void fields(Archive& ar)`, and that one list both
// saves and loads it, so the two can never disagree.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.hpp"

namespace onepath {

class StateWriter;
// A type with a fields() list is saved field by field (never as raw bytes, which would
// carry padding); plain values without padding (numbers, Candle, arrays) as their bytes.
template <class T>
concept has_fields = requires(T& t, StateWriter& w) { t.fields(w); };

class StateWriter {
 public:
  static constexpr bool is_loading = false;
  template <class T>
  void operator()(const T& v) {
    if constexpr (has_fields<T>) {
      const_cast<T&>(v).fields(*this);  // fields() is one list for saving and loading
    } else {
      static_assert(std::is_trivially_copyable_v<T>, "give the type a fields() list");
      bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
  }
  template <class T>
  void operator()(const std::vector<T>& v) {
    (*this)(static_cast<std::uint64_t>(v.size()));
    for (const auto& x : v) (*this)(x);
  }
  void operator()(const std::string& s) {
    (*this)(static_cast<std::uint64_t>(s.size()));
    bytes_.append(s);
  }
  template <class... T>
  void all(const T&... v) { ((*this)(v), ...); }
  // Bytes another writer made, as they are (no length): a writer of parts in a chosen order.
  void append(std::string_view written) { bytes_.append(written); }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class StateReader {
 public:
  static constexpr bool is_loading = true;
  explicit StateReader(std::string_view bytes) : bytes_(bytes) {}
  template <class T>
  void operator()(T& v) {
    if constexpr (has_fields<T>) {
      v.fields(*this);
    } else {
      static_assert(std::is_trivially_copyable_v<T>, "give the type a fields() list");
      need(sizeof v);
      std::memcpy(&v, bytes_.data() + pos_, sizeof v);
      pos_ += sizeof v;
    }
  }
  template <class T>
  void operator()(std::vector<T>& v) {
    std::uint64_t n = 0;
    (*this)(n);
    if (n > (bytes_.size() - pos_)) throw InputError("state is corrupt: a list claims more items than bytes remain");
    v.resize(n);
    for (auto& x : v) (*this)(x);
  }
  void operator()(std::string& s) {
    std::uint64_t n = 0;
    (*this)(n);
    need(n);
    s.assign(bytes_.data() + pos_, n);
    pos_ += n;
  }
  template <class... T>
  void all(T&... v) { ((*this)(v), ...); }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  void need(std::size_t n) const {
    if (bytes_.size() - pos_ < n) throw InputError("state is truncated");
  }
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

}  // namespace onepath
