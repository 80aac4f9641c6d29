#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/time.hpp"

namespace onepath::log {
namespace {

Format g_format = Format::text;
Sink g_sink = nullptr;  // redirect()
void* g_sink_context = nullptr;

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto lg = spdlog::stderr_color_mt("onepath");
    lg->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
    lg->set_level(spdlog::level::info);
    return lg;
  }();
  return l;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
    case Level::critical: return spdlog::level::critical;
  }
  return spdlog::level::info;
}

const char* level_name(Level level) {
  static const char* names[] = {"debug", "info", "warn", "error", "critical"};
  return names[static_cast<int>(level)];
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

bool needs_quotes_in_text(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=') return true;
  return false;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k), value(format_double(v)), quoted(false) {
  if (!std::isfinite(v)) quoted = true;  // JSON has no NaN or inf literal
}

void configure(Format format, Level level, bool color) {
  g_format = format;
  logger()->set_level(to_spdlog(level));
  // %^...%$ is the coloured range; without it spdlog writes no escape codes at all.
  logger()->set_pattern(format == Format::json ? "%v" : color ? "%H:%M:%S.%e %^%-5l%$ %v" : "%H:%M:%S.%e %-5l %v");
}

Level parse_level(std::string_view name) {
  for (Level l : {Level::debug, Level::info, Level::warn, Level::error, Level::critical})
    if (name == level_name(l)) return l;
  throw InputError("unknown log level '" + std::string(name) + "' (debug, info, warn, error, critical)");
}

void redirect(Sink sink, void* context) {
  g_sink = sink;
  g_sink_context = context;
}

void event(Level level, std::string_view name, std::initializer_list<Field> fields) {
  auto& lg = logger();
  if (!lg->should_log(to_spdlog(level))) return;
  std::string line;
  if (g_format == Format::json && !g_sink) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    line = "{\"time\":";
    append_json_string(line, format_iso(now));
    line += ",\"level\":";
    append_json_string(line, level_name(level));
    line += ",\"event\":";
    append_json_string(line, name);
    for (const auto& f : fields) {
      line += ',';
      append_json_string(line, f.key);
      line += ':';
      if (f.quoted) append_json_string(line, f.value); else line += f.value;
    }
    line += '}';
  } else {
    line = name;
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      if (needs_quotes_in_text(f.value)) append_json_string(line, f.value); else line += f.value;
    }
  }
  if (g_sink) return g_sink(g_sink_context, level, line);
  lg->log(to_spdlog(level), "{}", line);
}

}  // namespace onepath::log
