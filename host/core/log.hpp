#pragma once
// Structured events: one event name plus key=value fields. Readable text on a terminal,
// or one JSON object per line (--log-format json). Goes to stderr so that stdout stays
// for results. spdlog stays inside log.cpp.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace onepath::log {

enum class Level { debug, info, warn, error, critical };
enum class Format { text, json };

// color: level names in colour on a terminal (off for NO_COLOR).
void configure(Format format, Level level, bool color = true);
// Throws InputError for a name other than debug, info, warn, error, critical.
Level parse_level(std::string_view name);

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, int v) : Field(k, static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, std::size_t v) : Field(k, static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, double v);
  std::string_view key;
  std::string value;
  bool quoted;
};

void event(Level level, std::string_view name, std::initializer_list<Field> fields = {});

// From now on events go to `sink` as text lines ("event key=value ...") instead of stderr;
// nullptr restores stderr. A reload's dry-run child hands its output to the session this
// way, to be shown as the candidate's.
using Sink = void (*)(void* context, Level level, std::string_view line);
void redirect(Sink sink, void* context);
inline void info(std::string_view name, std::initializer_list<Field> fields = {}) { event(Level::info, name, fields); }
inline void debug(std::string_view name, std::initializer_list<Field> fields = {}) { event(Level::debug, name, fields); }
inline void warn(std::string_view name, std::initializer_list<Field> fields = {}) { event(Level::warn, name, fields); }

}  // namespace onepath::log
