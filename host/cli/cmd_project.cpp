// onepath init DIR | completion bash: a project to start from, and the shell knowing the
// commands (generated from the command tree itself, so it cannot go stale).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <filesystem>
#include <map>

#include "cli/commands.hpp"
#include "core/shipped.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/text_formats.hpp"
#include "data/candle_io.hpp"

namespace onepath::cli {
namespace {

const char* kRunToml = R"(# A onepath project. From this folder:
#   onepath backtest run.toml
#   onepath backtest run.toml --set strategy.params.fast=9
#   onepath runs list
# Every key: docs/config.md of onepath (or 'onepath backtest --help').

[data]
symbols = ["BTC", "ETH"]
timeframe = "15m"

[data.generate]          # a generated market; for your candles: files = { BTC = "data/BTC.csv" }
bars = 20000
start = "2024-01-01"
seed = 1

[strategy]
script = "scripts/strategies/my_strategy.lua"   # edit it
scripts_root = "scripts"

[strategy.params]
fast = 12
slow = 26

[execution]
initial_cash = 10000
costs = "realistic"

[output]
dir = "runs/{run}"       # trades.csv, equity.csv, metrics.json of each run
db = "runs/onepath.db"   # the journal
)";

// The command tree as bash sees it: "path" -> subcommands, "path" -> options.
// A command's options include those of the commands above it (runs list --db), not the
// global ones, which the script offers everywhere.
void walk(const CLI::App& app, const std::string& path, const std::string& inherited, std::map<std::string, std::string>& subs,
          std::map<std::string, std::string>& opts) {
  std::string s, o = inherited;
  for (const CLI::Option* opt : app.get_options())
    for (const auto& l : opt->get_lnames())
      if (l != "help") o += (o.empty() ? "" : " ") + ("--" + l);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    s += (s.empty() ? "" : " ") + sub->get_name();
    walk(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), path.empty() ? "" : o, subs, opts);
  }
  subs[path] = s;
  opts[path] = o;
}

std::string bash_completion(const CLI::App& app) {
  std::map<std::string, std::string> subs, opts;
  walk(app, "", "", subs, opts);
  std::string out =
      "# bash completion for onepath. Load it with:\n"
      "#   source <(onepath completion bash)\n"
      "# or keep it: onepath completion bash > ~/.local/share/bash-completion/completions/onepath\n"
      "_onepath() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} path=\"\" i w\n"
      "  declare -A subs=(\n";
  for (const auto& [k, v] : subs) out += "    [" + json_quote("_" + k) + "]=" + json_quote(v) + "\n";
  out += "  )\n  declare -A opts=(\n";
  for (const auto& [k, v] : opts) out += "    [" + json_quote("_" + k) + "]=" + json_quote(v) + "\n";
  out +=
      "  )\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    w=${COMP_WORDS[i]}\n"
      "    local next=\"${path:+$path }$w\"\n"
      "    [[ $w != -* && -n ${subs[_$next]+x} ]] && path=$next\n"
      "  done\n"
      "  if [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"--help ${opts[_$path]} ${opts[_]}\" -- \"$cur\"))\n"
      "  elif [[ -n ${subs[_$path]} ]]; then\n"
      "    COMPREPLY=($(compgen -W \"${subs[_$path]}\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  fi\n"
      "}\n"
      "complete -o filenames -F _onepath onepath\n";
  return out;
}

}  // namespace

void add_project_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string dir, shell;
  };
  auto o = std::make_shared<Opts>();
  auto* init = app.add_subcommand("init", "A new project folder: a RUN.toml, a strategy to edit, editor support; it runs as is");
  init->add_option("DIR", o->dir, "The folder to make (must not exist, or be empty)")->required();
  init->footer("Example:\n  onepath init mybot && cd mybot && onepath backtest run.toml");
  init->callback([o, &action] {
    action = [o] {
      namespace fs = std::filesystem;
      const fs::path dir(o->dir);
      std::error_code ec;
      if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
        throw InputError(o->dir + " exists and is not an empty folder; name a new one");
      const fs::path home = shipped_dir();
      fs::create_directories(dir / "scripts" / "strategies");
      fs::create_directories(dir / "data");
      write_file_atomic((dir / "run.toml").string(), kRunToml);
      std::string strategy = read_file((home / "scripts" / "strategies" / "ema_crossover.lua").string());
      write_file_atomic((dir / "scripts" / "strategies" / "my_strategy.lua").string(), strategy);
      // LuaLS (VS Code's Lua extension, Neovim's lua_ls): completion of ctx:, f. and bar.
      const std::string sdk = fs::absolute(home / "sdk" / "lua").lexically_normal().string();
      write_file_atomic((dir / ".luarc.json").string(), "{\n  \"runtime.version\": \"LuaJIT\",\n  \"workspace.library\": [" + json_quote(sdk) +
                                                            "],\n  \"workspace.checkThirdParty\": false\n}\n");
      write_file_atomic((dir / ".gitignore").string(), "runs/\n");
      fmt::print("made {}: run.toml, scripts/strategies/my_strategy.lua, .luarc.json (LuaLS: {})\n", o->dir, sdk);
      fmt::print("next: cd {} && onepath backtest run.toml\n", o->dir);
      return 0;
    };
  });

  auto* completion = app.add_subcommand("completion", "A shell completion script (bash) on stdout");
  completion->add_option("SHELL", o->shell, "bash")->required()->check(CLI::IsMember({"bash"}));
  completion->footer("Example:\n  source <(onepath completion bash)");
  completion->callback([o, &action, &app] {
    action = [&app] {
      fmt::print("{}", bash_completion(app));
      return 0;
    };
  });
}

}  // namespace onepath::cli
