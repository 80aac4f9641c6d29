// onepath reload RUN.toml: ask the running paper session of a config to reload its strategy.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "data/candle_io.hpp"
#include "net/http_client.hpp"
#include "run/run_config.hpp"

namespace onepath::cli {

void add_reload_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string config;
    std::vector<std::string> sets;
    bool remote = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("reload", "Ask a running paper session to reload its strategy now");
  cmd->add_option("RUN.toml", o->config, "The session's configuration (with the same --set values)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", o->sets, "Override a config value: key.path=value (repeatable)");
  cmd->add_flag("--remote", o->remote, "Allow a session that is not on this machine (its url in http.url is not loopback)");
  cmd->footer(
      "The session validates the strategy as it now is on disk (a dry run on its recent candles, in a child\n"
      "process), swaps it in between candles and carries ctx.state; a broken edit is rejected and the running\n"
      "strategy keeps trading. Sessions also reload by themselves when the files change (docs/hot-reload.md).\n"
      "Exit codes: 0 swapped or nothing changed, 1 rejected (the reason is printed), 2 no running session.");
  cmd->callback([o, &action] {
    action = [o] {
      RunConfig c = load_run_config(o->config, o->sets);
      const std::string where = (std::filesystem::path(c.paper.dir) / "http.url").string();
      if (!std::filesystem::exists(where))
        throw InputError("no running paper session of " + o->config + " with HTTP (" + where + " does not exist)");
      std::string url = read_file(where);
      while (!url.empty() && (url.back() == '\n' || url.back() == ' ')) url.pop_back();
      // The session's token: the configured one, else the one it wrote for its owner.
      const char* configured = std::getenv(c.paper.token_env.c_str());
      std::string token = configured && *configured ? configured : "";
      if (token.empty()) {
        const std::string file = (std::filesystem::path(c.paper.dir) / "control.token").string();
        try {
          token = read_file(file);
        } catch (const InputError&) {
          throw InputError("cannot read the session's token " + file + " (set " + c.paper.token_env + ", or run as the session's owner)");
        }
        while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
      }
      HttpClientOptions options;
      options.allow_remote = o->remote;
      HttpReply r;
      try {
        r = http_request(url, "POST", "/control/reload?by=onepath-reload", token, options);  // journaled as `onepath reload`
      } catch (const HttpRefused&) {
        // A session killed (kill -9, a crash) could not remove its files: they are stale.
        std::error_code ignored;
        std::filesystem::remove(where, ignored);
        std::filesystem::remove(std::filesystem::path(c.paper.dir) / "control.token", ignored);
        throw InputError("no running paper session of " + o->config + " (" + where + " was left by a session that ended; removed)");
      } catch (const std::exception& e) {
        throw InputError(std::string("the paper session does not answer: ") + e.what());
      }
      fmt::print("{}", r.body);
      if (r.status == 200) return 0;
      if (r.status == 422) return 1;
      throw InputError("the paper session answered " + std::to_string(r.status));
    };
  });
}

}  // namespace onepath::cli
