#include "cli/console.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include "core/text_formats.hpp"
#include "core/time.hpp"

namespace onepath::cli {
namespace {
Console g_console;

std::string event_name(const std::string& prefix) {
  if (prefix == "error") return "usage_error";
  if (prefix == "failed") return "command_failed";
  return prefix;
}

}  // namespace

void set_console(const Console& c) { g_console = c; }
const Console& console() { return g_console; }

bool progress_wanted(bool no_progress_flag) { return !no_progress_flag && !g_console.quiet && ::isatty(2); }

void print_final_error(const char* prefix, const std::string& message, int exit_code) {
  if (!g_console.json) {
    fmt::print(stderr, "{}: {}\n", prefix, message);
    return;
  }
  fmt::print(stderr, "{{\"time\":{},\"level\":\"error\",\"event\":{},\"message\":{},\"exit_code\":{}}}\n", json_quote(format_iso(now_ms())),
             json_quote(event_name(prefix)), json_quote(message), exit_code);
}

}  // namespace onepath::cli
