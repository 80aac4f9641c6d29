// onepath plugins list | inspect FILE: what native plugins add, and what a plugin file is.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "exec/filter.hpp"
#include "indicators/registry.hpp"
#include "plugin/loader.hpp"
#include "run/run_config.hpp"

namespace onepath::cli {
namespace {

void print_plugin(const PluginInfo& p) {
  fmt::print("{} {}  ({})\n  ABI {}.{}, build {}\n", p.name, p.version, p.path, p.abi_major, p.abi_minor, p.build_id);
  auto line = [](const char* what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    fmt::print("  {:<11} {}\n", what, list);
  };
  line("indicators", p.indicators);
  line("filters", p.filters);
  line("feeds", p.feeds);
  line("services", p.services);
}

}  // namespace

void add_plugins_commands(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("plugins", "Native plugins: what they add, what a plugin file is");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples:\n"
      "  onepath plugins inspect build/plugins/ta_extra.so\n"
      "  onepath plugins list --config examples/plugins.toml     kinds by origin, with the config's [[plugins]]\n"
      "Writing one: docs/plugins.md.");

  struct Opts {
    std::string config, file;
    std::vector<std::string> plugins;
  };
  auto o = std::make_shared<Opts>();
  auto* list = cmd->add_subcommand("list", "Every indicator, filter and feed kind, built-in or a plugin's");
  list->add_option("--config", o->config, "A RUN.toml whose [[plugins]] to load first")->check(CLI::ExistingFile);
  list->add_option("--plugin", o->plugins, "A plugin file to load first (repeatable)")->check(CLI::ExistingFile);
  list->callback([o, &action] {
    action = [o] {
      for (const auto& p : o->plugins) load_plugin(p);
      if (!o->config.empty()) load_run_config(o->config);
      fmt::print("plugins loaded: {}\n", loaded_plugins().size());
      for (const auto& p : loaded_plugins()) print_plugin(p);
      fmt::print("indicator kinds:\n");
      for (const auto& k : indicator_kinds()) fmt::print("  {:<26} {}\n", k.kind, k.origin);
      fmt::print("filter kinds:\n");
      for (const auto& k : filter_kinds()) fmt::print("  {:<26} {}\n", k.name, k.origin);
      fmt::print("feeds:\n  {:<26} built-in\n  {:<26} built-in\n", "replay", "generated");
      for (const auto& f : feed_kind_names()) {
        std::string origin;
        find_feed_kind(f, &origin);
        fmt::print("  {:<26} {}\n", f, origin);
      }
      return 0;
    };
  });
  auto* inspect = cmd->add_subcommand("inspect", "Load one plugin file and show its manifest");
  inspect->add_option("FILE", o->file, "The shared object")->required();
  inspect->callback([o, &action] {
    action = [o] {
      print_plugin(load_plugin(o->file));
      return 0;
    };
  });
}

}  // namespace onepath::cli
