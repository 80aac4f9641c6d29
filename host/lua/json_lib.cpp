#include "lua/json_lib.hpp"

#include <lua.hpp>

#include <charconv>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/text_formats.hpp"
#include "lua/runtime.hpp"

namespace onepath {
namespace {

constexpr int kMaxDepth = 64;

// json.null: a light userdata no other value equals.
int null_marker;
void* null_value() { return &null_marker; }

// Host memory for the script's JSON counts against its memory limit.
template <class T>
struct ScriptAllocator {
  using value_type = T;
  ScriptAllocator() = default;
  template <class U>
  ScriptAllocator(const ScriptAllocator<U>&) {}
  T* allocate(std::size_t n) {
    if (!charge_script_memory(n * sizeof(T))) throw std::bad_alloc();
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) {
    std::allocator<T>{}.deallocate(p, n);
    release_script_memory(n * sizeof(T));
  }
  friend bool operator==(const ScriptAllocator&, const ScriptAllocator&) { return true; }
};
using ScriptString = std::basic_string<char, std::char_traits<char>, ScriptAllocator<char>>;

// Host memory the script pays for while this lives (however the scope ends: a Lua error
// unwinds through it).
struct ScriptReservation {
  std::size_t bytes;
  bool held;
  explicit ScriptReservation(std::size_t n) : bytes(n), held(charge_script_memory(n)) {}
  ~ScriptReservation() {
    if (held) release_script_memory(bytes);
  }
  ScriptReservation(const ScriptReservation&) = delete;
  ScriptReservation& operator=(const ScriptReservation&) = delete;
};

// A string quoted by the project's one JSON quoting (bytes that are not UTF-8 become
// U+FFFD); its transient host copies, at most 7 bytes a byte, are charged first.
void write_string(ScriptString& out, const char* s, std::size_t n) {
  ScriptReservation transient(7 * n + 2);
  if (!transient.held) throw std::bad_alloc();
  out += json_quote(std::string_view(s, n));
}

// Writes the value at `index`; "" or an error.
std::string write_json(lua_State* L, int index, int depth, ScriptString& out) {
  if (depth > kMaxDepth) return "json.encode: nested deeper than 64 levels (a cycle?)";
  switch (lua_type(L, index)) {
    case LUA_TNIL: out += "null"; return {};
    case LUA_TBOOLEAN: out += lua_toboolean(L, index) ? "true" : "false"; return {};
    case LUA_TNUMBER: {
      const double d = lua_tonumber(L, index);
      if (!std::isfinite(d)) return "json.encode: " + std::to_string(d) + " is not a JSON number";
      char buf[32];
      const auto r = d == std::floor(d) && std::fabs(d) < 9007199254740992.0
                         ? std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(d))  // whole numbers as integers
                         : std::to_chars(buf, buf + sizeof buf, d);                            // shortest round trip
      out.append(buf, r.ptr);
      return {};
    }
    case LUA_TSTRING: {
      std::size_t n = 0;
      const char* s = lua_tolstring(L, index, &n);
      write_string(out, s, n);
      return {};
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == null_value()) {
        out += "null";
        return {};
      }
      break;
    case LUA_TTABLE: {
      const int t = index < 0 ? lua_gettop(L) + index + 1 : index;
      luaL_checkstack(L, 3, "json.encode");
      const std::size_t n = lua_objlen(L, t);
      std::size_t count = 0;
      bool string_keys = true;
      lua_pushnil(L);
      while (lua_next(L, t)) {
        ++count;
        string_keys = string_keys && lua_type(L, -2) == LUA_TSTRING;
        lua_pop(L, 1);
      }
      if (count == 0) {
        out += "{}";
        return {};
      }
      if (count == n) {  // exactly 1..n
        out += '[';
        for (std::size_t i = 1; i <= n; ++i) {
          if (i > 1) out += ',';
          lua_rawgeti(L, t, static_cast<int>(i));
          std::string error = write_json(L, -1, depth + 1, out);
          lua_pop(L, 1);
          if (!error.empty()) return error;
        }
        out += ']';
        return {};
      }
      if (!string_keys) return "json.encode: a table must be a list (keys 1..n) or have only string keys";
      out += '{';
      bool first = true;
      lua_pushnil(L);
      while (lua_next(L, t)) {
        if (!first) out += ',';
        first = false;
        std::size_t kn = 0;
        const char* k = lua_tolstring(L, -2, &kn);  // a string already: not converted in place
        write_string(out, k, kn);
        out += ':';
        std::string error = write_json(L, -1, depth + 1, out);
        if (!error.empty()) {
          lua_pop(L, 2);
          return error;
        }
        lua_pop(L, 1);
      }
      out += '}';
      return {};
    }
    default: break;
  }
  return std::string("json.encode: a ") + lua_typename(L, lua_type(L, index)) + " has no JSON form";
}

// Builds the Lua value on the stack as the parser reads: no document is held in host memory.
class LuaBuilder {
 public:
  explicit LuaBuilder(lua_State* L) : L_(L) {}
  const std::string& error() const { return error_; }

  bool null() { return value([&] { lua_pushlightuserdata(L_, null_value()); }); }
  bool boolean(bool v) { return value([&] { lua_pushboolean(L_, v); }); }
  bool number_integer(std::int64_t v) { return value([&] { lua_pushnumber(L_, static_cast<double>(v)); }); }
  bool number_unsigned(std::uint64_t v) { return value([&] { lua_pushnumber(L_, static_cast<double>(v)); }); }
  bool number_float(double v, const std::string&) { return value([&] { lua_pushnumber(L_, v); }); }
  bool string(std::string& v) { return value([&] { lua_pushlstring(L_, v.data(), v.size()); }); }
  bool binary(std::vector<std::uint8_t>&) { return fail("json.decode: binary values are not JSON"); }
  bool start_object(std::size_t) { return open(false); }
  bool key(std::string& k) {
    luaL_checkstack(L_, 2, "json.decode");
    lua_pushlstring(L_, k.data(), k.size());
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(true); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    return fail("json.decode: not JSON (at byte " + std::to_string(position) + ")");
  }

 private:
  struct Frame {
    bool array;
    int next;
  };
  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }
  template <class Push>
  bool value(Push push) {
    luaL_checkstack(L_, 2, "json.decode");
    push();
    return place();
  }
  // The value on top goes into the container below it (after its key, for an object).
  bool place() {
    if (frames_.empty()) return true;
    Frame& f = frames_.back();
    if (f.array) lua_rawseti(L_, -2, f.next++);
    else lua_rawset(L_, -3);
    return true;
  }
  bool open(bool array) {
    if (frames_.size() >= kMaxDepth) return fail("json.decode: nested deeper than 64 levels");
    luaL_checkstack(L_, 2, "json.decode");
    lua_newtable(L_);
    frames_.push_back({array, 1});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return place();
  }
  lua_State* L_;
  std::vector<Frame> frames_;
  std::string error_;
};

// Errors become Lua errors after the C++ objects are gone (lua_error unwinds past them).
int encode(lua_State* L) {
  std::string error;
  {
    ScriptString out;
    try {
      error = write_json(L, 1, 0, out);
    } catch (const std::bad_alloc&) {
      error = "json.encode: not enough memory (the script's memory limit)";
    }
    if (error.empty()) {
      lua_pushlstring(L, out.data(), out.size());
      return 1;
    }
  }
  return luaL_error(L, "%s", error.c_str());
}

int decode(lua_State* L) {
  std::size_t n = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  std::string error;
  {
    // The parser's token buffer holds at most one string of the document: charged as the
    // whole document, before it is read.
    ScriptReservation reservation(n);
    if (!reservation.held) {
      error = "json.decode: not enough memory for a " + std::to_string(n) + "-byte document (the script's memory limit)";
    } else {
      const int top = lua_gettop(L);
      LuaBuilder builder(L);
      if (nlohmann::json::sax_parse(s, s + n, &builder)) return 1;
      error = builder.error().empty() ? "json.decode: not JSON" : builder.error();
      lua_settop(L, top);
    }
  }
  return luaL_error(L, "%s", error.c_str());
}

}  // namespace

void add_json_library(lua_State* L) {
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, host_function<encode>);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, host_function<decode>);
  lua_setfield(L, -2, "decode");
  lua_pushlightuserdata(L, null_value());
  lua_setfield(L, -2, "null");
  lua_setfield(L, -2, "json");
}

}  // namespace onepath
