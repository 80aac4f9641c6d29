// onepath indicators [KIND] | strategies: what there is to build with, read from the
// registry and the shipped scripts themselves (so the lists cannot go stale).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>

#include "cli/commands.hpp"
#include "plugin/loader.hpp"
#include "core/shipped.hpp"
#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/text_formats.hpp"
#include "data/candle_io.hpp"
#include "indicators/registry.hpp"
#include "lua/signal_config.hpp"
#include "lua/strategy.hpp"

namespace onepath::cli {
namespace {

std::string params_text(const IndicatorDescription& d) {
  if (d.params.empty()) return d.kind.origin == "built-in" ? "none" : "(the plugin's own; example: see 'indicators " + d.kind.kind + "')";
  std::string out;
  for (const auto& p : d.params)
    out += (out.empty() ? "" : ", ") + p.name + (p.fallback.empty() ? " (required, e.g. " + p.example + ")" : "=" + p.fallback);
  return out;
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string value_text(const std::variant<double, std::string, bool>& v) {
  if (const double* d = std::get_if<double>(&v)) return format_double(*d);
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return "\"" + std::get<std::string>(v) + "\"";
}

std::string params_line(const ScriptParams& params) {
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : ", ") + k + "=" + value_text(v);
  return out.empty() ? "none" : out;
}

// The comment lines a script opens with: its own description.
std::string script_summary(const std::filesystem::path& file) {
  std::string text = read_file(file.string()), out;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string line = text.substr(at, end - at);
    if (!line.starts_with("--") || line.starts_with("---@")) break;  // the description ends where annotations start
    out += (out.empty() ? "" : " ") + line.substr(line.find_first_not_of("- ") == std::string::npos ? line.size() : line.find_first_not_of("- "));
    at = end + 1;
  }
  return out;
}

std::vector<std::filesystem::path> lua_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".lua") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void add_catalog_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string kind, scripts;
    std::vector<std::string> plugins;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* ind = app.add_subcommand("indicators", "Every indicator kind: parameters and defaults, outputs, warm-up");
  ind->add_option("KIND", o->kind, "Show one kind (e.g. ema)");
  ind->add_flag("--json", o->json, "As JSON");
  ind->add_option("--plugin", o->plugins, "Also the kinds of this native plugin (repeatable)")->check(CLI::ExistingFile)->allow_extra_args(false);
  ind->footer(
      "In a feature set: { name = \"ema_fast\", kind = \"ema\", period = 12 }; a kind with several outputs\n"
      "gives columns name.output (bb.upper). Warm-up: candles before the first value, with the defaults\n"
      "(or the example where a parameter is required). Plugins loaded with --plugin add theirs.\n"
      "Examples:\n  onepath indicators\n  onepath indicators bbands\n  onepath indicators --plugin build/plugins/ta_extra.so supertrend");
  ind->callback([o, &action] {
    action = [o] {
      for (const auto& p : o->plugins) load_plugin(p);
      std::vector<IndicatorDescription> all;
      if (!o->kind.empty()) all.push_back(describe_indicator_kind(o->kind));
      else
        for (const auto& k : indicator_kinds()) all.push_back(describe_indicator_kind(k.kind));
      if (o->json) {
        std::string out = "[";
        for (const auto& d : all) {
          std::string params;
          for (const auto& p : d.params)
            params += (params.empty() ? "" : ", ") + std::string("{\"name\": ") + json_quote(p.name) + ", \"default\": " +
                      (p.fallback.empty() ? "null" : json_quote(p.fallback)) + ", \"required\": " + (p.fallback.empty() ? "true" : "false") + "}";
          std::vector<std::string> outs;
          for (const auto& x : d.outputs) outs.push_back(json_quote(x));
          out += (out.size() > 1 ? ",\n " : "") + std::string("{\"kind\": ") + json_quote(d.kind.kind) + ", \"origin\": " + json_quote(d.kind.origin) +
                 ", \"summary\": " + json_quote(d.summary) + ", \"input\": " + (d.reads_candles ? "\"candles\"" : "\"series\"") +
                 ", \"params\": [" + params + "], \"outputs\": [" + joined(outs, ", ") + "], \"warmup\": " + std::to_string(d.warmup) + "}";
        }
        fmt::print("{}]\n", out);
        return 0;
      }
      if (!o->kind.empty()) {
        const IndicatorDescription& d = all[0];
        fmt::print("{}: {}\n  origin   {}\n  reads    {}\n", d.kind.kind, d.summary.empty() ? "(no summary)" : d.summary, d.kind.origin,
                   d.reads_candles ? "whole candles" : "one series: 'input' (a candle field or an earlier feature; default close)");
        for (const auto& p : d.params)
          fmt::print("  param    {:<10} {}{}\n", p.name, p.fallback.empty() ? "required" : "default " + p.fallback,
                     p.example.empty() ? "" : " (example " + p.example + ")");
        fmt::print("  outputs  {}\n  warm-up  {} candles (with the defaults, and the example for what is required)\n", joined(d.outputs, ", "), d.warmup);
        return 0;
      }
      std::size_t w = 4;
      for (const auto& d : all) w = std::max(w, d.kind.kind.size());
      for (const auto& d : all) {
        fmt::print("{:<{}}  {}\n", d.kind.kind, w, d.summary.empty() ? d.kind.origin : d.summary);
        fmt::print("{:<{}}  params: {}; outputs: {}; warm-up {}\n", "", w, params_text(d), joined(d.outputs, ", "), d.warmup);
      }
      return 0;
    };
  });

  auto* strat = app.add_subcommand("strategies", "The shipped strategies and signal configs, with their params");
  strat->add_option("--scripts", o->scripts, "A scripts folder (default: the shipped one)");
  strat->footer(
      "A RUN.toml runs a strategy (strategy.script) or a signal config (strategy.signal), and\n"
      "[strategy.params] or --set strategy.params.NAME=VALUE override the params shown here.");
  strat->callback([o, &action] {
    action = [o] {
      namespace fs = std::filesystem;
      const fs::path root = o->scripts.empty() ? shipped_dir() / "scripts" : fs::path(o->scripts);
      if (!fs::is_directory(root / "strategies")) throw InputError(root.string() + " has no strategies/ folder");
      fmt::print("strategies ({}):\n", (root / "strategies").string());
      for (const auto& f : lua_files(root / "strategies")) {
        fmt::print("  {}\n", f.stem().string());
        if (std::string s = script_summary(f); !s.empty()) fmt::print("    {}\n", s);
        try {
          LuaStrategy s(f.string(), root.string(), {"X"}, {}, ScriptLimits{});
          std::vector<std::string> features;
          for (const auto& spec : s.features().features) features.push_back(spec.name);
          fmt::print("    params: {}\n    features: {}\n", params_line(s.params()), features.empty() ? "none" : joined(features, ", "));
        } catch (const std::exception& e) {
          fmt::print("    (does not load: {})\n", e.what());
        }
      }
      fmt::print("signal configs ({}):\n", (root / "signals").string());
      for (const auto& f : lua_files(root / "signals")) {
        try {
          const SignalConfig sc = load_signal_config(f.string(), root.string());
          fmt::print("  {:<22} strategy {}, params: {}\n", f.stem().string(), sc.type, params_line(sc.params));
        } catch (const std::exception& e) {
          fmt::print("  {:<22} (does not load: {})\n", f.stem().string(), e.what());
        }
      }
      return 0;
    };
  });
}

}  // namespace onepath::cli
